import type { SourceColumn } from '../../dialect/mysql/catalog.js';
import type { TargetColumn } from '../../dialect/postgres/catalog.js';
import { canonicalForColumn } from './column-forms.js';
import { BINARY_SOURCE, INTEGER_SOURCE, TEXT_SOURCE } from './source-families.js';

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
  const bytes = (pg: (c: string) => string, extra: Partial<DigestForm> = {}): DigestForm => ({
    kind: 'bytes',
    pg,
    zeroDates: false,
    textNul: false,
    ...extra,
  });
  const zerofill = /zerofill/.test(source.columnType);
  if (INTEGER_SOURCE.has(s) && s !== 'year' && !zerofill) {
    if (t === 'int2' || t === 'int4' || t === 'int8') return bytes((c) => `${c}::text`);
    if (t === 'bool') return bytes((c) => `${c}::int::text`);
    if (t === 'numeric' && /^numeric(\(\d+(,0)?\))?$/.test(target.formattedType)) return bytes((c) => `${c}::text`);
    return value;
  }
  if (
    s === 'decimal' &&
    !zerofill &&
    t === 'numeric' &&
    target.formattedType === `numeric(${source.numericPrecision},${source.numericScale})`
  )
    return bytes((c) => `${c}::text`);
  if (TEXT_SOURCE.has(s) && (target.category === 'S' || target.category === 'E') && t !== 'bpchar')
    return bytes((c) => `${c}::text`, { textNul: true });
  if (BINARY_SOURCE.has(s) && t === 'bytea') return bytes((c) => c);
  if (s === 'date' && t === 'date') return bytes((c) => `${c}::text`, { zeroDates: true });
  if ((s === 'datetime' || s === 'timestamp') && (t === 'timestamp' || t === 'timestamptz')) {
    // PostgreSQL prints seconds always and the fraction without trailing zeros; MySQL prints
    // the column's fractional digits, trimmed the same way. Both sessions run in UTC.
    return bytes((c) => (t === 'timestamptz' ? `${c}::timestamp::text` : `${c}::text`), {
      zeroDates: true,
      trimFraction: true,
    });
  }
  return value;
}
