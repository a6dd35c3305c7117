import { hash as hashOnce } from 'node:crypto';
import { parse as parseLosslessJson } from 'lossless-json';
import type { SourceValue } from '../dialect/mysql/connection.js';
import type { SourceColumn } from '../dialect/mysql/catalog.js';
import type { TargetColumn } from '../dialect/postgres/catalog.js';
import type { ColumnMatch } from './column-pairs.js';
import { BINARY_TYPES, DATE_TYPES, INTEGER_TYPES, isZeroDate, SPATIAL_TYPES, TEXT_TYPES } from './type-families.js';

/**
 * Canonical forms for verification. A value read from MySQL (as the driver hands it over) and
 * the same value read back from PostgreSQL (as PostgreSQL prints it) must give the same text;
 * any other value must not. Each side has its own code, written from that database's own
 * representation, so that a conversion bug in the copy cannot hide itself here: this module
 * shares nothing with src/copy/convert.ts.
 */
export interface ColumnCanonical {
  /** The canonical text of a value as read from MySQL (null for NULL). */
  fromMysql(value: SourceValue): string | null;
  /** The canonical text of PostgreSQL's text output of `pgExpression` (null for NULL). */
  fromPg(text: string | null): string | null;
  /** The SQL expression that reads the column on the PostgreSQL side. */
  pgExpression(quotedColumn: string): string;
}

const utf8 = new TextDecoder('utf-8');

function mysqlText(value: Exclude<SourceValue, null>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return utf8.decode(value);
}

function bufferToBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytes.toString('hex'));
}

/**
 * A decimal number in one spelling: no exponent, no leading or trailing zeros, `-0` is `0`.
 * `1.50`, `1.5e0` and `001.5` are all `1.5`. Text that is not a number comes back as it is.
 */
export function normalizeDecimal(text: string): string {
  if (/^(0|-?[1-9]\d*)$/.test(text)) return text;
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return text.trim();
  const exponent = Number(m[4] ?? '0');
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 100_000) return text.trim().toLowerCase();
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let point = (m[2] ?? '').length + exponent;
  const lead = /^0*/.exec(digits)![0].length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return '0';
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return m[1] === '-' ? '-' + out : out;
}

const float64 = new DataView(new ArrayBuffer(8));

/** The IEEE bits of a float8 value, so that -0, NaN and every last digit count. */
export function float64Bits(value: number): string {
  float64.setFloat64(0, value);
  return float64.getBigUint64(0).toString(16);
}

function parseFloatText(text: string): number {
  const n = Number(text);
  if (!Number.isNaN(n)) return n;
  const t = text.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return NaN;
}

/**
 * One spelling of a date or timestamp: fraction without trailing zeros, no `+00` offset (both
 * sides are read in UTC), no ` 00:00:00` on a bare date. MySQL's zero dates are NULL.
 */
export function normalizeTemporal(text: string): string | null {
  // The common shapes ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff][+00]') without regular expressions: this runs per value.
  const n = text.length;
  if (n >= 10 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    if (text.startsWith('0000') || (text.charCodeAt(5) === 48 && text.charCodeAt(6) === 48) || (text.charCodeAt(8) === 48 && text.charCodeAt(9) === 48)) return null;
    if (n === 10) return text;
    if (n >= 19 && text.charCodeAt(10) === 32 && text.charCodeAt(13) === 58) {
      let end = n;
      if (text.endsWith('+00')) end -= 3;
      else if (text.endsWith('+00:00')) end -= 6;
      if (end > 19 && text.charCodeAt(19) === 46) {
        while (end > 20 && text.charCodeAt(end - 1) === 48) end -= 1;
        if (end === 20) end = 19;
      }
      if (end === 19) {
        if (text.startsWith(' 00:00:00', 10)) return text.slice(0, 10);
        return n === 19 ? text : text.slice(0, 19);
      }
      if (end > 19 && text.charCodeAt(19) === 46 && /^\d+$/.test(text.slice(20, end))) return end === n ? text : text.slice(0, end);
    }
  }
  let t = text.trim();
  if (isZeroDate(t)) return null;
  t = t.replace(/([+-]00)(:00(:00)?)?$/, '');
  t = t.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  t = t.replace(/ 00:00:00$/, '');
  return t;
}

/** One spelling of a time of day: fraction without trailing zeros. */
export function normalizeTime(text: string): string {
  return text.trim().replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** A MySQL TIME ('-838:59:59.5') as seconds, in normalizeDecimal's spelling. */
export function mysqlTimeToSeconds(text: string): string {
  const m = /^\s*(-?)(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d+))?\s*$/.exec(text);
  if (!m) return text;
  const whole = BigInt(m[2]!) * 3600n + BigInt(m[3]!) * 60n + BigInt(m[4]!);
  return normalizeDecimal(`${m[1]}${whole}.${m[5] ?? '0'}`);
}

class CanonicalNumber {
  constructor(readonly text: string) {}
}

function stringifyCanonical(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof CanonicalNumber) return value.text;
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(stringifyCanonical).join(',') + ']';
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + stringifyCanonical(object[k])).join(',') + '}';
}

/**
 * One spelling of a JSON document, as jsonb would keep it: keys sorted, the last of duplicate
 * keys wins, no whitespace, numbers exact in normalizeDecimal's spelling (never through a JS
 * number), strings with one escaping. Text that is not JSON comes back as it is.
 */
export function canonicalJson(text: string): string {
  try {
    const parsed: unknown = parseLosslessJson(text, null, {
      parseNumber: (n: string) => new CanonicalNumber(normalizeDecimal(n)),
      onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
    });
    return stringifyCanonical(parsed);
  } catch {
    return text;
  }
}

function lengthPrefixed(values: readonly (string | null)[]): string {
  let out = '';
  for (const v of values) out += v === null ? '-|' : `${v.length}|${v}`;
  return out;
}

/** A row's canonical values as one text in which no two rows collide (length-prefixed). */
export function canonicalRowText(values: readonly (string | null)[]): string {
  return lengthPrefixed(values);
}


/** A MySQL geometry value (4-byte SRID, then WKB) as `srid:wkb-hex`. */
function mysqlGeometry(value: Buffer): { srid: number; wkb: Buffer } {
  return { srid: value.length >= 4 ? value.readUInt32LE(0) : 0, wkb: value.subarray(4) };
}

/** PostGIS hex EWKB as `srid:wkb-hex` (SRID flag and field taken out; 0 when absent). */
export function ewkbHexToSridWkb(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length < 5) return hex;
  const little = bytes[0] === 1;
  const kind = little ? bytes.readUInt32LE(1) : bytes.readUInt32BE(1);
  if ((kind & 0x20000000) === 0) return `0:${hex.toLowerCase()}`;
  const srid = little ? bytes.readUInt32LE(5) : bytes.readUInt32BE(5);
  const head = Buffer.alloc(5);
  head[0] = bytes[0]!;
  if (little) head.writeUInt32LE(kind & ~0x20000000, 1);
  else head.writeUInt32BE(kind & ~0x20000000, 1);
  return `${srid}:${Buffer.concat([head, bytes.subarray(9)]).toString('hex')}`;
}

function wkbPoint(wkb: Buffer): [number, number] | null {
  if (wkb.length < 21) return null;
  const little = wkb[0] === 1;
  const type = little ? wkb.readUInt32LE(1) : wkb.readUInt32BE(1);
  if (type !== 1) return null;
  return little ? [wkb.readDoubleLE(5), wkb.readDoubleLE(13)] : [wkb.readDoubleBE(5), wkb.readDoubleBE(13)];
}

const plain = (quoted: string): string => quoted;

/**
 * The canonical forms of one column, decided by the target column's type and the source
 * column's MySQL type.
 */
export function canonicalForColumn(source: SourceColumn, target: TargetColumn): ColumnCanonical {
  const type = target.typeName;
  const sourceType = source.dataType;
  const nullable = <T>(fn: (v: Exclude<T, null>) => string | null) => (v: T): string | null => (v === null ? null : fn(v as Exclude<T, null>));

  if (type === 'bool') {
    return {
      fromMysql: nullable<SourceValue>((v) => (Buffer.isBuffer(v) ? bufferToBigInt(v).toString() : normalizeDecimal(mysqlText(v).trim()))),
      fromPg: nullable<string | null>((t) => (t === 't' ? '1' : t === 'f' ? '0' : t)),
      pgExpression: plain,
    };
  }
  if (type === 'int2' || type === 'int4' || type === 'int8' || type === 'numeric' || type === 'oid') {
    // PostgreSQL prints integers in canonical form, and a numeric(p,s) like MySQL's decimal(p,s):
    // then both sides' text is compared as it is.
    const sameDecimal =
      type === 'numeric' && sourceType === 'decimal' && target.formattedType === `numeric(${source.numericPrecision},${source.numericScale})`;
    const pgCanonical = type !== 'numeric' || sameDecimal;
    return {
      fromMysql: nullable<SourceValue>((v) => {
        if (typeof v === 'number') return Number.isInteger(v) ? String(v) : normalizeDecimal(String(v));
        if (Buffer.isBuffer(v)) return bufferToBigInt(v).toString();
        return sameDecimal ? v : normalizeDecimal(v);
      }),
      fromPg: pgCanonical ? (t) => t : nullable<string | null>(normalizeDecimal),
      pgExpression: plain,
    };
  }
  if (type === 'float4' || type === 'float8') {
    // Both sides at double precision: a real prints its exact value once widened, so a MySQL
    // DOUBLE squeezed into a real differs, while a FLOAT (read widened too) stays equal.
    return {
      fromMysql: nullable<SourceValue>((v) => float64Bits(typeof v === 'number' ? v : parseFloatText(mysqlText(v)))),
      fromPg: nullable<string | null>((t) => float64Bits(parseFloatText(t))),
      pgExpression: type === 'float4' ? (c) => `${c}::float8` : plain,
    };
  }
  if (type === 'date' || type === 'timestamp' || type === 'timestamptz') {
    return {
      fromMysql: nullable<SourceValue>((v) => normalizeTemporal(mysqlText(v))),
      fromPg: nullable<string | null>(normalizeTemporal),
      pgExpression: plain,
    };
  }
  if (type === 'time' || type === 'timetz') {
    return {
      fromMysql: nullable<SourceValue>((v) => normalizeTime(mysqlText(v))),
      fromPg: nullable<string | null>((t) => normalizeTime(t.replace(/[+-]\d\d(:\d\d)?$/, ''))),
      pgExpression: plain,
    };
  }
  if (type === 'interval') {
    return {
      fromMysql: nullable<SourceValue>((v) => (sourceType === 'time' ? mysqlTimeToSeconds(mysqlText(v)) : normalizeDecimal(mysqlText(v)))),
      fromPg: nullable<string | null>(normalizeDecimal),
      pgExpression: (c) => `extract(epoch from ${c})`,
    };
  }
  if (type === 'bytea') {
    // Spatial values go to bytea as WKB, without MySQL's SRID prefix.
    const wkbOnly = SPATIAL_TYPES.has(sourceType);
    return {
      fromMysql: nullable<SourceValue>((v) =>
        Buffer.isBuffer(v) ? (wkbOnly ? mysqlGeometry(v).wkb : v).toString('hex') : Buffer.from(mysqlText(v), 'utf8').toString('hex'),
      ),
      fromPg: nullable<string | null>((t) => (t.startsWith('\\x') ? t.slice(2) : t)),
      pgExpression: plain,
    };
  }
  if (type === 'bit' || type === 'varbit') {
    return {
      fromMysql: nullable<SourceValue>((v) => (Buffer.isBuffer(v) ? bufferToBigInt(v).toString() : normalizeDecimal(mysqlText(v)))),
      fromPg: nullable<string | null>((t) => (t === '' ? '0' : BigInt('0b' + t).toString())),
      pgExpression: plain,
    };
  }
  if (type === 'uuid') {
    return {
      fromMysql: nullable<SourceValue>((v) => (Buffer.isBuffer(v) && v.length === 16 ? v.toString('hex') : mysqlText(v).toLowerCase().replace(/-/g, ''))),
      fromPg: nullable<string | null>((t) => t.replace(/-/g, '')),
      pgExpression: plain,
    };
  }
  if (type === 'json' || type === 'jsonb') {
    return {
      fromMysql: nullable<SourceValue>((v) => canonicalJson(mysqlText(v))),
      fromPg: nullable<string | null>(canonicalJson),
      pgExpression: plain,
    };
  }
  if (target.category === 'A') {
    return {
      fromMysql: nullable<SourceValue>((v) => {
        const text = mysqlText(v);
        if (sourceType === 'set') return JSON.stringify(text === '' ? [] : text.split(','));
        return canonicalJson(text);
      }),
      fromPg: nullable<string | null>(canonicalJson),
      pgExpression: (c) => `array_to_json(${c})`,
    };
  }
  if (type === 'point') {
    return {
      fromMysql: nullable<SourceValue>((v) => {
        if (!Buffer.isBuffer(v)) return mysqlText(v);
        const p = wkbPoint(mysqlGeometry(v).wkb);
        return p ? `${float64Bits(p[0])} ${float64Bits(p[1])}` : v.toString('hex');
      }),
      fromPg: nullable<string | null>((t) => t.split(' ').map((n) => float64Bits(Number(n))).join(' ')),
      pgExpression: (c) => `CASE WHEN ${c} IS NULL THEN NULL ELSE (${c})[0]::float8::text || ' ' || (${c})[1]::float8::text END`,
    };
  }
  if (type === 'geometry' || type === 'geography') {
    // PostGIS prints geometry as hex EWKB (the SRID inside); read back here, as `srid:wkb`.
    return {
      fromMysql: nullable<SourceValue>((v) => {
        if (!Buffer.isBuffer(v)) return mysqlText(v);
        const g = mysqlGeometry(v);
        return `${g.srid}:${g.wkb.toString('hex')}`;
      }),
      fromPg: nullable<string | null>(ewkbHexToSridWkb),
      pgExpression: plain,
    };
  }
  // Text-like targets (text, varchar, char, enum, citext, …) and anything else: the text itself.
  // PostgreSQL text cannot hold NUL, which the copy removes and reports; char(n) pads.
  const padded = type === 'bpchar';
  const spatialSource = SPATIAL_TYPES.has(sourceType);
  return {
    fromMysql: nullable<SourceValue>((v) => {
      if (spatialSource && Buffer.isBuffer(v)) return v.toString('hex');
      if (DATE_TYPES.has(sourceType)) return normalizeTemporal(mysqlText(v));
      let text = typeof v === 'string' ? v : mysqlText(v);
      if (text.includes('\u0000')) text = text.replace(/\u0000/g, '');
      return padded ? text.replace(/ +$/, '') : text;
    }),
    fromPg: DATE_TYPES.has(sourceType) || padded ? nullable<string | null>((t) => (DATE_TYPES.has(sourceType) ? normalizeTemporal(t) : t.replace(/ +$/, ''))) : (t) => t,
    pgExpression: plain,
  };
}

/** How a table's rows are turned into canonical keys and row texts, per side. */
export interface RowCanonicalizer {
  canonicals: ColumnCanonical[];
  /** Indexes (into the paired columns) of the primary key; empty when the table has none. */
  keyIndexes: number[];
  keyNames: string[];
}

export function rowCanonicalizerFor(pairs: readonly ColumnMatch[], primaryKey: readonly string[]): RowCanonicalizer {
  const canonicals = pairs.map((p) => canonicalForColumn(p.source, p.target));
  const keyIndexes = primaryKey.map((name) => pairs.findIndex((p) => p.source.name === name));
  const keyed = keyIndexes.length > 0 && keyIndexes.every((i) => i >= 0);
  return { canonicals, keyIndexes: keyed ? keyIndexes : [], keyNames: keyed ? [...primaryKey] : [] };
}

/** The canonical values of a MySQL row. */
export function canonicalMysqlRow(c: RowCanonicalizer, row: readonly SourceValue[]): (string | null)[] {
  const out = new Array<string | null>(c.canonicals.length);
  for (let i = 0; i < out.length; i += 1) out[i] = c.canonicals[i]!.fromMysql(row[i] ?? null);
  return out;
}

/**
 * The identity of a row in verification and in `my2pg.rejected_rows`: its canonical primary
 * key, or for a table without one the hash of its whole canonical row.
 */
export function rowKeyText(c: RowCanonicalizer, values: readonly (string | null)[]): string {
  // A whole row can be megabytes: a keyless row is known by the hash of its canonical text.
  if (c.keyIndexes.length === 0) return `row ${hashOnce('sha1', canonicalRowText(values), 'hex')}`;
  return canonicalRowText(c.keyIndexes.map((i) => values[i] ?? null));
}


/**
 * A column's canonical text computed by each database itself, for columns where MySQL's and
 * PostgreSQL's own functions print equal values identically. Verification has such columns
 * printed and joined inside the databases (one text per row crosses the wire) instead of
 * converting each value in JavaScript. Each expression yields text, NULL for NULL.
 */
export interface SqlCanonical {
  mysql(quotedColumn: string): string;
  pg(quotedColumn: string): string;
  /** Free text (may hold any character), so it is length-prefixed in the row text. */
  text: boolean;
}

const INTEGER_SOURCE = new Set([...INTEGER_TYPES, 'year']);
const TEXT_SOURCE = new Set([...TEXT_TYPES, 'enum']);
const BINARY_SOURCE = BINARY_TYPES;

/**
 * The in-database canonical form of a column, or null when only JavaScript can do it exactly.
 * MySQL's side is the column as MySQL prints it (no function per value: that is the cheap
 * side); PostgreSQL's is made to print the same. Rare values where the two differ (MySQL's
 * zero dates, YEAR 0000, text holding NUL) only make their key range differ; the row-by-row
 * comparison of that range then finds them equal.
 */
export function sqlCanonicalFor(source: SourceColumn, target: TargetColumn): SqlCanonical | null {
  const s = source.dataType;
  const t = target.typeName;
  const asIs = (pg: (c: string) => string): SqlCanonical => ({ mysql: (c) => c, pg, text: false });
  if (INTEGER_SOURCE.has(s)) {
    if (t === 'int2' || t === 'int4' || t === 'int8') return asIs((c) => `${c}::text`);
    if (t === 'bool') return asIs((c) => `${c}::int::text`);
    if (t === 'numeric' && /^numeric(\(\d+(,0)?\))?$/.test(target.formattedType)) return asIs((c) => `${c}::text`);
    return null;
  }
  if (s === 'decimal' && t === 'numeric' && target.formattedType === `numeric(${source.numericPrecision},${source.numericScale})`) {
    return asIs((c) => `${c}::text`);
  }
  if (TEXT_SOURCE.has(s) && (target.category === 'S' || target.category === 'E') && (t !== 'bpchar' || s === 'char')) {
    // One collation for every text part, so that CONCAT never meets an illegal mix. char(n)
    // prints without its padding on both sides.
    return { mysql: (c) => `CONVERT(${c} USING utf8mb4) COLLATE utf8mb4_bin`, pg: (c) => `${c}::text`, text: true };
  }
  if (BINARY_SOURCE.has(s) && t === 'bytea') return { mysql: (c) => `MD5(${c})`, pg: (c) => `md5(${c})`, text: false };
  if (s === 'date' && t === 'date') return asIs((c) => `to_char(${c}, 'YYYY-MM-DD')`);
  if ((s === 'datetime' || s === 'timestamp') && (t === 'timestamp' || t === 'timestamptz')) {
    // MySQL prints exactly the column's fractional digits; both sessions run in UTC.
    const fsp = Math.min(6, Math.max(0, source.datetimePrecision ?? 0));
    const fraction = fsp === 0 ? '' : fsp === 6 ? '.US' : `.FF${fsp}`;
    return asIs((c) => `to_char(${c}, 'YYYY-MM-DD HH24:MI:SS${fraction}')`);
  }
  return null;
}

/** One column of a row text printed inside the database. */
export interface SqlRowPart {
  sql: SqlCanonical;
  mysqlColumn: string;
  pgColumn: string;
}

/**
 * PostgreSQL refuses a function call with more than 100 arguments (FUNC_MAX_ARGS), and a table
 * may have hundreds of columns: the items are joined in nested groups instead. concat_ws of
 * groups that are never NULL nor empty, with the same separator, is the flat join.
 */
const MAX_JOINED = 90;

function joinWithCommas(fn: 'CONCAT_WS' | 'concat_ws', items: readonly string[]): string {
  if (items.length <= MAX_JOINED) return `${fn}(',', ${items.join(', ')})`;
  const groups: string[] = [];
  for (let i = 0; i < items.length; i += MAX_JOINED) groups.push(joinWithCommas(fn, items.slice(i, i + MAX_JOINED)));
  return joinWithCommas(fn, groups);
}

/**
 * MySQL: the canonical texts of several columns joined with commas: free text length-prefixed,
 * numbers and dates as they are (they hold no comma), NULL as `-`.
 */
export function mysqlRowTextExpression(parts: readonly SqlRowPart[]): string {
  const items = parts.map((p) =>
    p.sql.text ? `IFNULL(CONCAT(CHAR_LENGTH(${p.mysqlColumn}), ':', ${p.sql.mysql(p.mysqlColumn)}), '-')` : `IFNULL(${p.sql.mysql(p.mysqlColumn)}, '-')`,
  );
  return joinWithCommas('CONCAT_WS', items);
}

/** PostgreSQL: the same text as mysqlRowTextExpression. */
export function pgRowTextExpression(parts: readonly SqlRowPart[]): string {
  const items = parts.map((p) =>
    p.sql.text ? `coalesce(length(${p.sql.pg(p.pgColumn)})::text || ':' || ${p.sql.pg(p.pgColumn)}, '-')` : `coalesce(${p.sql.pg(p.pgColumn)}, '-')`,
  );
  return joinWithCommas('concat_ws', items);
}

/**
 * How the first pass of verification reads a column on each side: as bytes (MySQL's text as
 * it sends it, PostgreSQL's `pg` expression in the same spelling) or as a value put in
 * canonical form here (fromMysql/fromPg). Bytes are hashed as they arrive: no JavaScript string
 * per value, and a value of any size is never copied whole.
 */
export interface DigestForm {
  /** `bytes`: both sides' bytes compared as they are. `value`: canonical text of each value. */
  kind: 'bytes' | 'value';
  /**
   * The PostgreSQL expression read for the column. It yields text (COPY's binary format then
   * gives its UTF-8 bytes) or, for bytea read as bytes, the bytes themselves.
   */
  pg(quotedColumn: string): string;
  /** MySQL zero dates ('0000-00-00', month or day 00) read as NULL, as the copy writes them. */
  zeroDates: boolean;
  /** MySQL text holding NUL takes the value path (the copy removes or refuses NUL). */
  textNul: boolean;
  /** MySQL's timestamp text loses its fraction's trailing zeros (and a bare point), as PostgreSQL prints it. */
  trimFraction?: boolean;
}

/**
 * The PostgreSQL expression whose text is what fromPg reads, as a text value (COPY's binary
 * format sends text as its bytes). A boolean's text cast says 'true', its output 't': it is read
 * as 0/1, which fromPg keeps as it is.
 */
export function pgValueExpression(source: SourceColumn, target: TargetColumn): (quotedColumn: string) => string {
  if (target.typeName === 'bool') return (c) => `${c}::int::text`;
  const canonical = canonicalForColumn(source, target);
  return (c) => `(${canonical.pgExpression(c)})::text`;
}

/**
 * The digest form of a column. `bytes` only where MySQL prints the value exactly as PostgreSQL
 * prints `pg`: integers, decimals of the same scale, text, dates and timestamps (printed with
 * MySQL's fractional digits), booleans from TINYINT, bytes to bytea. A rare value the two print
 * differently only makes its key range differ; the row-by-row pass then compares values.
 */
export function digestFormFor(source: SourceColumn, target: TargetColumn): DigestForm {
  const s = source.dataType;
  const t = target.typeName;
  const value: DigestForm = { kind: 'value', pg: pgValueExpression(source, target), zeroDates: false, textNul: false };
  const bytes = (pg: (c: string) => string, extra: Partial<DigestForm> = {}): DigestForm => ({ kind: 'bytes', pg, zeroDates: false, textNul: false, ...extra });
  const zerofill = /zerofill/.test(source.columnType);
  if (INTEGER_SOURCE.has(s) && s !== 'year' && !zerofill) {
    if (t === 'int2' || t === 'int4' || t === 'int8') return bytes((c) => `${c}::text`);
    if (t === 'bool') return bytes((c) => `${c}::int::text`);
    if (t === 'numeric' && /^numeric(\(\d+(,0)?\))?$/.test(target.formattedType)) return bytes((c) => `${c}::text`);
    return value;
  }
  if (s === 'decimal' && !zerofill && t === 'numeric' && target.formattedType === `numeric(${source.numericPrecision},${source.numericScale})`) return bytes((c) => `${c}::text`);
  if (TEXT_SOURCE.has(s) && (target.category === 'S' || target.category === 'E') && t !== 'bpchar') return bytes((c) => `${c}::text`, { textNul: true });
  if (BINARY_SOURCE.has(s) && t === 'bytea') return bytes((c) => c);
  if (s === 'date' && t === 'date') return bytes((c) => `${c}::text`, { zeroDates: true });
  if ((s === 'datetime' || s === 'timestamp') && (t === 'timestamp' || t === 'timestamptz')) {
    // PostgreSQL prints seconds always and the fraction without trailing zeros; MySQL prints
    // the column's fractional digits, trimmed the same way. Both sessions run in UTC.
    return bytes((c) => (t === 'timestamptz' ? `${c}::timestamp::text` : `${c}::text`), { zeroDates: true, trimFraction: true });
  }
  return value;
}
