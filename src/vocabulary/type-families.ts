/**
 * MySQL's data types by family (INFORMATION_SCHEMA.COLUMNS.DATA_TYPE, lower case), and MySQL's
 * zero dates: the one vocabulary that DDL, the copy's converters, verification and the planner
 * read, so that a type is never one thing to the copy and another to verification.
 */

/** Integer types that can key a range (YEAR is a number but not a key type of interest). */
export const INTEGER_TYPES: ReadonlySet<string> = new Set([
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'integer',
  'bigint',
]);

/** Character types holding text (ENUM and SET hold text too: see ENUM_SET_TYPES). */
export const TEXT_TYPES: ReadonlySet<string> = new Set([
  'char',
  'varchar',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
]);

export const ENUM_SET_TYPES: ReadonlySet<string> = new Set(['enum', 'set']);

/** Byte-string types. */
export const BINARY_TYPES: ReadonlySet<string> = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
]);

/** Date types that can hold MySQL's zero dates. */
export const DATE_TYPES: ReadonlySet<string> = new Set(['date', 'datetime', 'timestamp']);

/** Spatial types (stored by MySQL as SRID + WKB). */
export const SPATIAL_TYPES: ReadonlySet<string> = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

export function isSpatialType(dataType: string): boolean {
  return SPATIAL_TYPES.has(dataType);
}

const ZERO_DATE = /^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/;

/**
 * MySQL's zero dates ('0000-00-00', '2024-00-10', '2024-01-00' and their DATETIME forms) have
 * no PostgreSQL equivalent: the copy writes them as NULL (counted), verification reads them as NULL.
 */
export function isZeroDate(text: string): boolean {
  return ZERO_DATE.test(text);
}

/**
 * The same test on the bytes MySQL prints (`YYYY-MM-DD…`), for the copy and verification,
 * which read raw rows: no string is made of the value.
 */
export function isZeroDateBytes(source: Buffer, start: number, end: number): boolean {
  if (end - start < 10) return false;
  if (source[start] === 0x30 && source[start + 1] === 0x30 && source[start + 2] === 0x30 && source[start + 3] === 0x30)
    return true;
  return (
    (source[start + 5] === 0x30 && source[start + 6] === 0x30) ||
    (source[start + 8] === 0x30 && source[start + 9] === 0x30)
  );
}

/** Whether bytes hold a NUL (U+0000 is the byte 0 in UTF-8), which PostgreSQL text cannot store. */
export function hasNulByte(source: Buffer, start: number, end: number): boolean {
  if (end - start > 64) return source.subarray(start, end).indexOf(0) >= 0;
  for (let i = start; i < end; i += 1) if (source[i] === 0) return true;
  return false;
}

/**
 * `--zero-date`: what the copy does with a zero date. `null` writes NULL and counts it per
 * column (the table is reported as adjusted); `reject` sets the row aside in
 * `my2pg.rejected_rows`, so the run is not verified unless `--allow-rejects`.
 */
export type ZeroDatePolicy = 'null' | 'reject';
export const DEFAULT_ZERO_DATE_POLICY: ZeroDatePolicy = 'null';
