import type { SourceColumn } from '../dialect/mysql/catalog.js';
import type { TargetColumn } from '../dialect/postgres/catalog.js';

/**
 * PostgreSQL's binary COPY format, written from the text MySQL sends. PostgreSQL then takes
 * each value as it stores it (no parsing of numbers, dates or escapes), which costs it about
 * a quarter less for ordinary rows and half less for wide text and blobs. Only types whose
 * binary form is simple and exact are written so; a table with any other column is copied in
 * text format, and a value these encoders cannot carry exactly (an integer out of range, an
 * impossible date, a float whose rounding to real would be in doubt) makes the copy start over
 * in text format, where PostgreSQL judges the value itself.
 */

/** How a column is written in binary format. */
export type BinaryKind =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'numeric'
  | 'float4'
  | 'float8'
  | 'bytes'
  | 'jsonb'
  | 'date'
  | 'timestamp';

/** COPY's binary header: signature, flags, no extension. */
export const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** COPY's binary trailer: a field count of -1. */
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** The binary kind for a target column, or null when the column is copied in text format. */
export function binaryKindFor(source: SourceColumn, target: TargetColumn): BinaryKind | null {
  switch (target.typeName) {
    case 'bool':
      return 'bool';
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
    case 'float8':
    case 'jsonb':
    case 'date':
      return target.typeName;
    case 'float4':
      // A FLOAT is read widened to DOUBLE: exactly a real. Another source would be rounded twice.
      return source.dataType === 'float' ? 'float4' : null;
    case 'timestamp':
    case 'timestamptz':
      return 'timestamp';
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'json':
    case 'bytea':
      return 'bytes';
    default:
      // Enum labels are received as their text.
      return target.category === 'E' ? 'bytes' : null;
  }
}
