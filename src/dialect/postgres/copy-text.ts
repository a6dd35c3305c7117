/** PostgreSQL's COPY text format, both ways: a value escaped for COPY FROM, a field of COPY TO read back. */

/** COPY text format's NULL marker. */
const COPY_NULL = '\\N';

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Escapes one value for PostgreSQL's COPY text format: backslash, tab, newline and carriage
 * return get backslash escapes; null becomes `\N`. The text `\N` itself is escaped as `\\N`,
 * so it can never be taken for NULL.
 */
export function encodeCopyValue(value: string | null): string {
  if (value === null) return COPY_NULL;
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (ch) => ESCAPES[ch] ?? ch) : value;
}

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
