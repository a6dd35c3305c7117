import { ValueRefused } from '../core/errors.js';
import type { SourceValue } from '../dialect/mysql/connection.js';
import { DEFAULT_NUL_POLICY, type NulPolicy } from '../schema/nul-columns.js';
import type { SourceColumn } from '../dialect/mysql/catalog.js';
import {
  DATE_TYPES,
  DEFAULT_ZERO_DATE_POLICY,
  ENUM_SET_TYPES,
  INTEGER_TYPES,
  isSpatialType,
  isZeroDate,
  TEXT_TYPES,
  type ZeroDatePolicy,
} from '../vocabulary/type-families.js';
import type { TargetColumn } from '../dialect/postgres/catalog.js';
import { emptyAdjustments, type ColumnAdjustments } from '../vocabulary/adjustments.js';

/** Turns one source value into the text PostgreSQL parses for the target column (null = NULL). */
export type Converter = (value: SourceValue) => string | null;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(value: Exclude<SourceValue, null>, column: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  try {
    return utf8.decode(value);
  } catch {
    throw new ValueRefused(column, 'binary value is not valid UTF-8 text; map the column to bytea');
  }
}

function bitsToBigInt(bytes: Buffer): bigint {
  let n = 0n;
  for (const byte of bytes) n = (n << 8n) | BigInt(byte);
  return n;
}

function toBoolean(value: Exclude<SourceValue, null>, column: string): string {
  if (Buffer.isBuffer(value)) {
    const n = bitsToBigInt(value);
    if (n === 0n) return 'f';
    if (n === 1n) return 't';
    throw new ValueRefused(column, `bit value ${n} is not 0 or 1, so it is no boolean`);
  }
  const text = String(value).trim().toLowerCase();
  if (text === '0' || text === 'false' || text === 'f') return 'f';
  if (text === '1' || text === 'true' || text === 't') return 't';
  throw new ValueRefused(column, `value ${JSON.stringify(String(value))} is not 0 or 1, so it is no boolean`);
}

function toBytea(value: Exclude<SourceValue, null>): string {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8');
  return `\\x${bytes.toString('hex')}`;
}

/**
 * MySQL hands geometry over in its internal form: a 4-byte little-endian SRID, then WKB.
 * These split it; a value too short to be that is refused rather than guessed at.
 */
function splitGeometry(value: Exclude<SourceValue, null>, column: string): { srid: number; wkb: Buffer } {
  if (!Buffer.isBuffer(value) || value.length < 9)
    throw new ValueRefused(column, 'geometry value is not MySQL internal geometry (SRID + WKB)');
  return { srid: value.readUInt32LE(0), wkb: value.subarray(4) };
}

/** Geometry as WKB (OGC well-known binary, without the SRID), for a bytea column. */
export function geometryToWkbHex(value: Exclude<SourceValue, null>, column: string): string {
  return `\\x${splitGeometry(value, column).wkb.toString('hex')}`;
}

/** A POINT as PostgreSQL's point text `(x,y)`; JavaScript prints each double exactly (shortest round-trip form). */
export function geometryToPoint(value: Exclude<SourceValue, null>, column: string): string {
  const { wkb } = splitGeometry(value, column);
  const little = wkb[0] === 1;
  const kind = little ? wkb.readUInt32LE(1) : wkb.readUInt32BE(1);
  if (kind !== 1 || wkb.length < 21)
    throw new ValueRefused(
      column,
      'value is not a POINT, so it cannot go into a point column; map the column to bytea or geometry',
    );
  const x = little ? wkb.readDoubleLE(5) : wkb.readDoubleBE(5);
  const y = little ? wkb.readDoubleLE(13) : wkb.readDoubleBE(13);
  return `(${Object.is(x, -0) ? '-0' : String(x)},${Object.is(y, -0) ? '-0' : String(y)})`;
}

/** Geometry as PostGIS hex EWKB: the WKB with the SRID flag and SRID inserted after its type. */
export function geometryToEwkbHex(value: Exclude<SourceValue, null>, column: string): string {
  const { srid, wkb } = splitGeometry(value, column);
  if (srid === 0) return wkb.toString('hex');
  const little = wkb[0] === 1;
  const head = Buffer.alloc(9);
  head[0] = wkb[0]!;
  const kind = (little ? wkb.readUInt32LE(1) : wkb.readUInt32BE(1)) | 0x20000000;
  if (little) {
    head.writeUInt32LE(kind >>> 0, 1);
    head.writeUInt32LE(srid, 5);
  } else {
    head.writeUInt32BE(kind >>> 0, 1);
    head.writeUInt32BE(srid, 5);
  }
  return Buffer.concat([head, wkb.subarray(5)]).toString('hex');
}

function toBitString(value: Exclude<SourceValue, null>, width: number | null): string {
  if (Buffer.isBuffer(value)) {
    let bits = '';
    for (const byte of value) bits += byte.toString(2).padStart(8, '0');
    return width === null
      ? bits.replace(/^0+(?=.)/, '')
      : bits.slice(Math.max(0, bits.length - width)).padStart(width, '0');
  }
  const n = BigInt(String(value));
  const bits = n.toString(2);
  return width === null ? bits : bits.padStart(width, '0');
}

function toUuid(value: Exclude<SourceValue, null>, column: string): string {
  if (Buffer.isBuffer(value) && value.length === 16) {
    const h = value.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return asText(value, column);
}

function quoteArrayElement(label: string): string {
  return `"${label.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A MySQL SET value ('a,b') as a PostgreSQL array literal. */
export function setToArrayLiteral(text: string): string {
  if (text === '') return '{}';
  return `{${text.split(',').map(quoteArrayElement).join(',')}}`;
}

/** How converters treat values PostgreSQL cannot hold as they are. */
export interface ConvertOptions {
  /** `--nul`: reject the row (default), strip the NUL characters (counted), or expect bytea columns. */
  nul?: NulPolicy | undefined;
  /** `--zero-date`: write a zero date as NULL (default, counted) or reject the row. */
  zeroDate?: ZeroDatePolicy | undefined;
}

/** Why a text value with NUL characters is refused, with what the operator can do. */
function nulRejection(policy: NulPolicy, column: string): string {
  if (policy === 'bytea') {
    return `text holds NUL characters, which the PostgreSQL text column ${column} cannot store (--nul bytea makes such columns bytea only in tables my2pg creates); make the column bytea (ALTER TABLE … ALTER COLUMN … TYPE bytea USING convert_to(…, 'UTF8')) and retry the table, or rerun with --nul strip to remove them`;
  }
  return `text holds NUL characters, which PostgreSQL text cannot store; rerun with --nul bytea to keep every byte (tables my2pg creates get such columns as bytea) or with --nul strip to remove them`;
}

/**
 * Builds the converter from a source column to a target column. Decided once per table, so
 * the per-value work is a switch-free function call.
 */
export function buildConverter(
  source: SourceColumn,
  target: TargetColumn,
  adjustments: ColumnAdjustments = emptyAdjustments(),
  options: ConvertOptions = {},
): Converter {
  const name = source.name;
  const zeroDates = DATE_TYPES.has(source.dataType);
  const width = source.dataType === 'bit' ? source.numericPrecision : null;
  const type = target.typeName;
  const spatial = isSpatialType(source.dataType);

  let convert: (value: Exclude<SourceValue, null>) => string | null;
  if (type === 'bool') {
    convert = (v) => toBoolean(v, name);
  } else if (spatial && (type === 'bytea' || type === 'point')) {
    // Neither holds an SRID: a value that had one is changed, and counted.
    const write = type === 'bytea' ? geometryToWkbHex : geometryToPoint;
    convert = (v) => {
      if (Buffer.isBuffer(v) && v.length >= 4 && v.readUInt32LE(0) !== 0) adjustments.sridsDropped += 1;
      return write(v, name);
    };
  } else if (spatial && (type === 'geometry' || type === 'geography')) {
    convert = (v) => geometryToEwkbHex(v, name);
  } else if (type === 'bytea') {
    convert = toBytea;
  } else if (type === 'bit' || type === 'varbit') {
    // BIT(n) keeps its n digits in both bit(n) and bit varying(n): b'00000001' stays 00000001.
    convert = (v) => toBitString(v, width);
  } else if (type === 'uuid') {
    convert = (v) => toUuid(v, name);
  } else if (target.category === 'N' && source.dataType === 'bit') {
    convert = (v) => (Buffer.isBuffer(v) ? bitsToBigInt(v).toString() : String(v));
  } else if (target.category === 'A' && source.dataType === 'set') {
    convert = (v) => setToArrayLiteral(asText(v, name));
  } else if (zeroDates) {
    // PostgreSQL has no zero date: by the operator's --zero-date, NULL (counted) or the row set aside.
    const reject = (options.zeroDate ?? DEFAULT_ZERO_DATE_POLICY) === 'reject';
    convert = (v) => {
      const text = asText(v, name);
      if (!isZeroDate(text)) return text;
      if (reject)
        throw new ValueRefused(
          name,
          `zero date ${text} has no PostgreSQL equivalent (--zero-date reject); --zero-date null writes it as NULL, counted`,
        );
      adjustments.zeroDatesToNull += 1;
      return null;
    };
  } else if (target.category === 'S' || target.category === 'U' || target.category === 'E') {
    // PostgreSQL text cannot hold NUL (MySQL can): by the operator's --nul, the row is
    // rejected (default), or the NULs are removed and counted. Under --nul bytea the columns
    // that held NUL at planning are bytea (above); a NUL met in a text column is rejected.
    const policy = options.nul ?? DEFAULT_NUL_POLICY;
    convert = (v) => {
      const text = asText(v, name);
      if (!text.includes('\u0000')) return text;
      if (policy !== 'strip') throw new ValueRefused(name, nulRejection(policy, name));
      adjustments.nulCharactersRemoved += 1;
      return text.replace(/\u0000/g, '');
    };
  } else {
    convert = (v) => asText(v, name);
  }
  return (value) => (value === null ? null : convert(value));
}

/**
 * How the copy may write a column's value straight from the bytes MySQL sends (its text
 * protocol), without decoding it. Each rule stands for the converter above in the cases where
 * that converter is the identity (or a fixed mapping) on those bytes; any other value of the
 * column (a NUL in text, a zero date, a boolean that is not 0 or 1) still goes through the
 * converter, so this module stays the one place that decides what a value becomes.
 *
 * - `digits`: numbers as MySQL prints them, which PostgreSQL parses as they are (nothing to escape).
 * - `text`: UTF-8 text as it is, COPY-escaped; a value holding NUL goes through the converter.
 * - `date`: a date or timestamp as it is; a zero date goes through the converter.
 * - `bool`: `0`/`1` as `f`/`t`; any other value goes through the converter.
 * - `bytea`: the bytes as `\x` hex.
 * - `convert`: always decode, convert and encode.
 */
export type CopyByteRule = 'digits' | 'text' | 'date' | 'bool' | 'bytea' | 'convert';

/** MySQL types read as JavaScript numbers (mysql2 parses them). */
const NUMBER_SOURCES = new Set([...[...INTEGER_TYPES].filter((t) => t !== 'bigint'), 'year']);
/** MySQL types read as text that only holds a number (BIGINT as text, DECIMAL, FLOAT, DOUBLE). */
const NUMERIC_TEXT_SOURCES = new Set(['bigint', 'decimal', 'numeric', 'float', 'double', 'real']);
/** MySQL types read as text (a string in JavaScript). */
const TEXT_SOURCES = new Set([...TEXT_TYPES, ...ENUM_SET_TYPES, 'json', 'time']);

/** The byte rule matching buildConverter for this pair of columns. */
export function copyByteRuleFor(source: SourceColumn, target: TargetColumn): CopyByteRule {
  const type = target.typeName;
  const s = source.dataType;
  if (isSpatialType(s)) return 'convert';
  if (type === 'bool') return s === 'bit' ? 'convert' : 'bool';
  if (type === 'bytea') return 'bytea';
  if (type === 'bit' || type === 'varbit' || type === 'uuid') return 'convert';
  if (target.category === 'N' && s === 'bit') return 'convert';
  if (target.category === 'A' && s === 'set') return 'convert';
  if (DATE_TYPES.has(s)) return 'date';
  // ZEROFILL integers come as numbers, and String() drops their zeros; bytes would keep them.
  if (NUMBER_SOURCES.has(s))
    return target.category === 'N' && !/zerofill/.test(source.columnType) ? 'digits' : 'convert';
  if (NUMERIC_TEXT_SOURCES.has(s)) return 'digits';
  if (TEXT_SOURCES.has(s)) return 'text';
  return 'convert';
}
