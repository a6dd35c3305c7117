import type { SourceValue } from './connection.js';

/**
 * The fields of a row as the server sent them (text protocol): their types, where each lies
 * in the packet, and the value mysql2 would have made of it, for the columns that need one.
 */

/** What the result set says about one column. */
export interface RawField {
  name: string;
  /** The protocol's column type code (mysql2's `Types`). */
  columnType: number;
  /** Character set number of the value as sent; 63 is binary. */
  characterSet: number;
  /** The Node encoding mysql2 uses for it ('utf8' on a utf8mb4 connection). */
  encoding: string;
}

/** Protocol column type codes (mysql2's `Types`) that the decoder below distinguishes. */
export const MYSQL_TYPES = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  NULL: 0x06,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  NEWDATE: 0x0e,
  JSON: 0xf5,
  NEWDECIMAL: 0xf6,
  GEOMETRY: 0xff,
} as const;

export const BINARY_CHARSET = 63;

/**
 * Reads the length-coded length at `pos`: returns the value's length, or -1 for NULL, and
 * stores the value's first byte position in `at[0]`.
 */
function readFieldLength(buffer: Buffer, pos: number, at: Int32Array | number[]): number {
  const first = buffer[pos]!;
  if (first < 0xfb) {
    at[0] = pos + 1;
    return first;
  }
  if (first === 0xfb) {
    at[0] = pos + 1;
    return -1;
  }
  if (first === 0xfc) {
    at[0] = pos + 3;
    return buffer[pos + 1]! | (buffer[pos + 2]! << 8);
  }
  if (first === 0xfd) {
    at[0] = pos + 4;
    return buffer[pos + 1]! | (buffer[pos + 2]! << 8) | (buffer[pos + 3]! << 16);
  }
  at[0] = pos + 9;
  // 8 bytes; a value bigger than 2^53 cannot be in a packet (max_allowed_packet is 1 GB).
  return buffer.readUInt32LE(pos + 1) + buffer.readUInt32LE(pos + 5) * 0x1_0000_0000;
}

/**
 * Splits a row payload into its fields: `starts[i]`/`ends[i]` bound field i's bytes, and
 * `ends[i]` is -1 for NULL. The arrays are reused from row to row.
 */
export function splitRawRow(
  buffer: Buffer,
  start: number,
  count: number,
  starts: Int32Array | number[],
  ends: Int32Array | number[],
): void {
  const at = SCRATCH;
  let pos = start;
  for (let i = 0; i < count; i += 1) {
    const length = readFieldLength(buffer, pos, at);
    const from = at[0]!;
    starts[i] = from;
    if (length < 0) {
      ends[i] = -1;
      pos = from;
    } else {
      ends[i] = from + length;
      pos = from + length;
    }
  }
}
const SCRATCH = new Int32Array(1);

/**
 * One field's bytes as the value mysql2 would have given with the source connection's options
 * (SOURCE_DRIVER_OPTIONS): small integers as numbers, BIGINT, DECIMAL, FLOAT, DOUBLE and dates
 * as text, binary as bytes, text decoded. Columns that need a JavaScript value get it from here.
 */
export function decodeRawField(buffer: Buffer, start: number, end: number, field: RawField): SourceValue {
  if (end < 0) return null;
  switch (field.columnType) {
    case MYSQL_TYPES.TINY:
    case MYSQL_TYPES.SHORT:
    case MYSQL_TYPES.LONG:
    case MYSQL_TYPES.INT24:
    case MYSQL_TYPES.YEAR:
      return Number(buffer.toString('latin1', start, end));
    case MYSQL_TYPES.NULL:
      return null;
    case MYSQL_TYPES.LONGLONG:
    case MYSQL_TYPES.FLOAT:
    case MYSQL_TYPES.DOUBLE:
    case MYSQL_TYPES.DECIMAL:
    case MYSQL_TYPES.NEWDECIMAL:
    case MYSQL_TYPES.DATE:
    case MYSQL_TYPES.NEWDATE:
    case MYSQL_TYPES.DATETIME:
    case MYSQL_TYPES.TIMESTAMP:
    case MYSQL_TYPES.TIME:
      return buffer.toString('latin1', start, end);
    case MYSQL_TYPES.GEOMETRY:
      return buffer.subarray(start, end);
    case MYSQL_TYPES.JSON:
      return buffer.toString('utf8', start, end);
    default:
      if (field.characterSet === BINARY_CHARSET) return buffer.subarray(start, end);
      if (field.encoding === 'utf8' || field.encoding === 'cesu8') return buffer.toString('utf8', start, end);
      return new TextDecoder(field.encoding).decode(buffer.subarray(start, end));
  }
}

/**
 * Whether bytes [start, end) of a buffer may hold a zero byte, found with one native scan per
 * buffer: rows come in order, so the position of the next zero byte is reused until a row
 * reaches it. A row without one needs no per-value search for NUL (the common case).
 */
export class ZeroBytes {
  private buffer: Buffer | undefined;
  private next = -1;
  private from = 0;

  mayHold(buffer: Buffer, start: number, end: number): boolean {
    if (buffer !== this.buffer || start < this.from) {
      this.buffer = buffer;
      this.from = start;
      this.next = buffer.indexOf(0, start);
    } else if (this.next !== -1 && this.next < start) {
      this.from = start;
      this.next = buffer.indexOf(0, start);
    }
    return this.next !== -1 && this.next < end;
  }
}

/** A whole row as values (for the rare row that needs them all: a rejected row, a listed difference). */
export function decodeRawRow(buffer: Buffer, start: number, fields: readonly RawField[]): SourceValue[] {
  const starts = new Array<number>(fields.length);
  const ends = new Array<number>(fields.length);
  splitRawRow(buffer, start, fields.length, starts, ends);
  return fields.map((f, i) => decodeRawField(buffer, starts[i]!, ends[i]!, f));
}
