import type { SourceValue } from '../../dialect/mysql/connection.js';
import type { SourceColumn } from '../../dialect/mysql/catalog.js';
import type { TargetColumn } from '../../dialect/postgres/catalog.js';
import { DATE_TYPES, SPATIAL_TYPES } from '../type-families.js';
import { canonicalJson } from './json-form.js';
import { bufferToBigInt, float64Bits, normalizeDecimal, parseFloatText } from './number-forms.js';
import { mysqlGeometry, ewkbHexToSridWkb, wkbPoint } from './spatial-forms.js';
import { mysqlTimeToSeconds, normalizeTemporal, normalizeTime } from './temporal-forms.js';

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

const plain = (quoted: string): string => quoted;

/**
 * The canonical forms of one column, decided by the target column's type and the source
 * column's MySQL type.
 */
export function canonicalForColumn(source: SourceColumn, target: TargetColumn): ColumnCanonical {
  const type = target.typeName;
  const sourceType = source.dataType;
  const nullable =
    <T>(fn: (v: Exclude<T, null>) => string | null) =>
    (v: T): string | null =>
      v === null ? null : fn(v as Exclude<T, null>);

  if (type === 'bool') {
    return {
      fromMysql: nullable<SourceValue>((v) =>
        Buffer.isBuffer(v) ? bufferToBigInt(v).toString() : normalizeDecimal(mysqlText(v).trim()),
      ),
      fromPg: nullable<string | null>((t) => (t === 't' ? '1' : t === 'f' ? '0' : t)),
      pgExpression: plain,
    };
  }
  if (type === 'int2' || type === 'int4' || type === 'int8' || type === 'numeric' || type === 'oid') {
    // PostgreSQL prints integers in canonical form, and a numeric(p,s) like MySQL's decimal(p,s):
    // then both sides' text is compared as it is.
    const sameDecimal =
      type === 'numeric' &&
      sourceType === 'decimal' &&
      target.formattedType === `numeric(${source.numericPrecision},${source.numericScale})`;
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
      fromMysql: nullable<SourceValue>((v) =>
        sourceType === 'time' ? mysqlTimeToSeconds(mysqlText(v)) : normalizeDecimal(mysqlText(v)),
      ),
      fromPg: nullable<string | null>(normalizeDecimal),
      pgExpression: (c) => `extract(epoch from ${c})`,
    };
  }
  if (type === 'bytea') {
    // Spatial values go to bytea as WKB, without MySQL's SRID prefix.
    const wkbOnly = SPATIAL_TYPES.has(sourceType);
    return {
      fromMysql: nullable<SourceValue>((v) =>
        Buffer.isBuffer(v)
          ? (wkbOnly ? mysqlGeometry(v).wkb : v).toString('hex')
          : Buffer.from(mysqlText(v), 'utf8').toString('hex'),
      ),
      fromPg: nullable<string | null>((t) => (t.startsWith('\\x') ? t.slice(2) : t)),
      pgExpression: plain,
    };
  }
  if (type === 'bit' || type === 'varbit') {
    return {
      fromMysql: nullable<SourceValue>((v) =>
        Buffer.isBuffer(v) ? bufferToBigInt(v).toString() : normalizeDecimal(mysqlText(v)),
      ),
      fromPg: nullable<string | null>((t) => (t === '' ? '0' : BigInt(`0b${t}`).toString())),
      pgExpression: plain,
    };
  }
  if (type === 'uuid') {
    return {
      fromMysql: nullable<SourceValue>((v) =>
        Buffer.isBuffer(v) && v.length === 16 ? v.toString('hex') : mysqlText(v).toLowerCase().replace(/-/g, ''),
      ),
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
      fromPg: nullable<string | null>((t) =>
        t
          .split(' ')
          .map((n) => float64Bits(Number(n)))
          .join(' '),
      ),
      pgExpression: (c) =>
        `CASE WHEN ${c} IS NULL THEN NULL ELSE (${c})[0]::float8::text || ' ' || (${c})[1]::float8::text END`,
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
    fromPg:
      DATE_TYPES.has(sourceType) || padded
        ? nullable<string | null>((t) => (DATE_TYPES.has(sourceType) ? normalizeTemporal(t) : t.replace(/ +$/, '')))
        : (t) => t,
    pgExpression: plain,
  };
}
