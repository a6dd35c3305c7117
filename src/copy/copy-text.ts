/** COPY text format's NULL marker. */
export const COPY_NULL = '\\N';

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
