/**
 * The coarse type of a translated expression: what the translator needs to reproduce MySQL's
 * rules in PostgreSQL (which operands to cast, how `/` rounds, how a value prints as text).
 */
type SqlKind =
  | 'int'
  | 'decimal'
  | 'float'
  | 'text'
  | 'bool'
  | 'date'
  | 'datetime'
  | 'timestamptz'
  | 'interval'
  | 'json'
  | 'bytea'
  | 'textarray'
  | 'null'
  | 'unknown';

export interface SqlType {
  kind: SqlKind;
  /** Digits after the point of a decimal, when known. */
  scale?: number;
  /** Fractional second digits of a datetime/timestamp. */
  fsp?: number;
  /** A text column in a one-byte character set (latin1, ascii): LENGTH() counts characters. */
  singleByte?: boolean;
  /** A literal string, number or NULL (PostgreSQL types it from its context). */
  literal?: boolean;
  /**
   * A decimal that holds more digits than MySQL shows: MySQL divides to 9-digit words and
   * rounds to `scale` only where the value is shown or stored.
   */
  unrounded?: boolean;
}

export const NULL_TYPE: SqlType = { kind: 'null', literal: true };
export const TEXT: SqlType = { kind: 'text' };
export const INT: SqlType = { kind: 'int' };
export const BOOL: SqlType = { kind: 'bool' };
export const FLOAT: SqlType = { kind: 'float' };

/** Whether arithmetic works on it. */
export function isNumeric(type: SqlType): boolean {
  return type.kind === 'int' || type.kind === 'decimal' || type.kind === 'float' || type.kind === 'bool';
}

/**
 * The kind of a PostgreSQL column from its type as my2pg writes it (`numeric(10,2)`,
 * `timestamp(3)`) or as format_type() prints it (`timestamp(3) without time zone`,
 * `character varying(20)`). Enum types and other text-like types are text.
 */
export function typeOfPgColumn(pgType: string, source?: { charset?: string | null }): SqlType {
  const t = pgType.trim().toLowerCase();
  const singleByte = source?.charset ? /^(latin1|ascii|cp1252|latin2)$/i.test(source.charset) : false;
  if (/^(smallint|integer|bigint|int2|int4|int8|int)\b/.test(t)) return { kind: 'int' };
  const numeric = /^(numeric|decimal)(?:\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?/.exec(t);
  if (numeric) return numeric[2] ? { kind: 'decimal', scale: Number(numeric[3] ?? 0) } : { kind: 'decimal' };
  if (/^(real|double precision|float4|float8|float)\b/.test(t)) return { kind: 'float' };
  if (/^bool(ean)?$/.test(t)) return { kind: 'bool' };
  if (t === 'date') return { kind: 'date' };
  const ts = /^timestamp(?:\s*\((\d)\))?(.*)$/.exec(t) ?? /^(?:timestamptz)(?:\s*\((\d)\))?()$/.exec(t);
  if (ts) {
    const fsp = ts[1] === undefined ? 6 : Number(ts[1]);
    return {
      kind: /with time zone/.test(ts[2] ?? '') || t.startsWith('timestamptz') ? 'timestamptz' : 'datetime',
      fsp,
    };
  }
  if (/^interval/.test(t)) return { kind: 'interval' };
  if (/^jsonb?$/.test(t)) return { kind: 'json' };
  if (t === 'bytea') return { kind: 'bytea' };
  if (/\[\]$/.test(t)) return { kind: 'textarray' };
  if (/^(bit|geometry|point|uuid|inet|geography)/.test(t) || /\.("?)(geometry|geography)\1$/.test(t))
    return { kind: 'unknown' };
  return singleByte ? { kind: 'text', singleByte } : { kind: 'text' };
}

/** The type MySQL gives a cast target (`CAST(x AS …)`), with the PostgreSQL type to cast to. */
export function castTarget(dataType: string, length?: number, scale?: number): { pg: string; type: SqlType } | null {
  switch (dataType.toUpperCase()) {
    case 'CHAR':
    case 'VARCHAR':
    case 'NCHAR':
      return { pg: 'text', type: TEXT };
    case 'SIGNED':
    case 'UNSIGNED':
    case 'INT':
    case 'INTEGER':
    case 'BIGINT':
      return { pg: 'bigint', type: INT };
    case 'DECIMAL':
    case 'NUMERIC': {
      // MySQL's DECIMAL without arguments is DECIMAL(10,0).
      const p = length ?? 10;
      const s = scale ?? 0;
      return { pg: `numeric(${p},${s})`, type: { kind: 'decimal', scale: s } };
    }
    case 'DOUBLE':
    case 'REAL':
    case 'FLOAT':
      return { pg: 'double precision', type: FLOAT };
    case 'DATE':
      return { pg: 'date', type: { kind: 'date' } };
    case 'DATETIME':
      return { pg: `timestamp(${length ?? 0})`, type: { kind: 'datetime', fsp: length ?? 0 } };
    case 'JSON':
      return { pg: 'jsonb', type: { kind: 'json' } };
    default:
      return null;
  }
}
