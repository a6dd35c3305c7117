/**
 * MySQL conditions that find the values PostgreSQL cannot hold as they are, shared by the
 * scans that shape created tables (zero dates, NUL columns) and by `my2pg plan`'s hazard count.
 * Each takes a quoted column and is true for a row concerned (NULL for a NULL value).
 */

/** A zero date: its month or day is 0 (MONTH()/DAYOFMONTH() return 0 exactly for those). */
export function zeroDateSql(column: string): string {
  return `(MONTH(${column}) = 0 OR DAYOFMONTH(${column}) = 0)`;
}

/** Text holding a NUL character, compared as UTF-8 bytes, where a 0 byte is exactly NUL whatever the column's charset. */
export function nulCharacterSql(column: string): string {
  return `(LOCATE(X'00', CONVERT(${column} USING utf8mb4)) > 0)`;
}
