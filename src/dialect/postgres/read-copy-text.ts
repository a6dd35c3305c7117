import pgCopyStreams from 'pg-copy-streams';
import type { PoolClient } from './connection.js';
import { decodeCopyLine } from './copy-text.js';

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
