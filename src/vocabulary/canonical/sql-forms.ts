import type { SourceColumn } from '../../dialect/mysql/catalog.js';
import type { TargetColumn } from '../../dialect/postgres/catalog.js';
import { BINARY_SOURCE, INTEGER_SOURCE, TEXT_SOURCE } from './source-families.js';

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
