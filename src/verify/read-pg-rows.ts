import pgCopyStreams from 'pg-copy-streams';
import type { PoolClient } from '../db/postgres.js';

const UNESCAPE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** One field of COPY's text format back to its value: `\N` is NULL, backslash escapes undone. */
export function decodeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_all, code: string) => {
    if (code.length > 1 && code[0] === 'x') return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]+$/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return UNESCAPE[code] ?? code;
  });
}

/** Splits one COPY text line into its decoded fields. */
export function decodeCopyLine(line: string): (string | null)[] {
  const fields: (string | null)[] = line.split('\t');
  for (let i = 0; i < fields.length; i += 1) {
    const f = fields[i] as string;
    if (f.includes('\\')) fields[i] = decodeCopyField(f);
  }
  return fields;
}

/**
 * Streams the rows of a query as PostgreSQL prints them (`COPY (query) TO STDOUT`, text
 * format), each an array of decoded fields. Lines are cut at the newline byte before decoding,
 * so a multi-byte character is never split.
 */
export async function* readPgRows(client: PoolClient, query: string): AsyncGenerator<(string | null)[][]> {
  const stream = client.query(pgCopyStreams.to(`COPY (${query}) TO STDOUT`));
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    const end = data.lastIndexOf(0x0a);
    if (end < 0) {
      rest = data;
      continue;
    }
    rest = Buffer.from(data.subarray(end + 1));
    const lines = data.toString('utf8', 0, end).split('\n');
    yield lines.map(decodeCopyLine);
  }
  if (rest.length > 0) yield [decodeCopyLine(rest.toString('utf8'))];
}
