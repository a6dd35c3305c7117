/** mysql2 error codes that no retry fixes: the table, a column or the right to read it is missing. */
const PERMANENT_CODES = new Set([
  'ER_NO_SUCH_TABLE',
  'ER_BAD_FIELD_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_PARSE_ERROR',
]);

export function isPermanentMysqlCode(code: string): boolean {
  return PERMANENT_CODES.has(code);
}
