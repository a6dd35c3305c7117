import type { SourceColumn } from '../dialect/mysql/catalog.js';
import { literalPg } from '../dialect/postgres/quote.js';
import { isZeroDate } from '../vocabulary/type-families.js';

/**
 * Translates a MySQL column default into PostgreSQL, or null (no default). MariaDB reports
 * defaults as SQL expressions ('text' quoted, NULL as NULL), MySQL reports the bare literal.
 */
export function translateDefault(
  column: SourceColumn,
  pgType: string,
  isMariaDb: boolean,
): { sql: string | null; warning?: string } {
  const raw = column.defaultValue;
  if (raw === null || column.autoIncrement || column.generated) return { sql: null };
  const trimmed = raw.trim();
  if (/^null$/i.test(trimmed) && (isMariaDb || column.nullable)) return { sql: null };
  if (/^(current_timestamp|now|localtimestamp|localtime)(\(\d*\))?$/i.test(trimmed)) {
    return { sql: pgType === 'date' ? 'CURRENT_DATE' : 'CURRENT_TIMESTAMP' };
  }
  if (/^curdate\(\)$|^current_date(\(\))?$/i.test(trimmed)) return { sql: 'CURRENT_DATE' };
  let literal: string | null = null;
  if (isMariaDb) {
    const quoted = /^'((?:[^'\\]|''|\\.)*)'$/s.exec(trimmed);
    if (quoted) literal = (quoted[1] ?? '').replace(/''/g, "'").replace(/\\(.)/g, '$1');
    else if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(trimmed)) literal = trimmed;
  } else if (
    /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(trimmed) ||
    !/[()]/.test(trimmed) ||
    ['char', 'varchar', 'enum', 'set'].includes(column.dataType)
  ) {
    literal = raw;
  }
  const bitLiteral = /^b'([01]+)'$/i.exec(trimmed);
  if (bitLiteral?.[1]) {
    if (/^bit/.test(pgType)) {
      // Same width as the values the copy writes (see convert.ts): the source column's.
      const width = column.numericPrecision ?? bitLiteral[1].length;
      return { sql: `B'${bitLiteral[1].padStart(width, '0').slice(-width)}'` };
    }
    literal = BigInt(`0b${bitLiteral[1]}`).toString();
  }
  if (literal === null)
    return {
      sql: null,
      warning: `default ${raw} of column ${column.name} is an expression my2pg does not translate; the column has no default`,
    };
  if (pgType === 'boolean') {
    if (literal === '0') return { sql: 'false' };
    if (literal === '1') return { sql: 'true' };
    return { sql: null, warning: `default ${raw} of boolean column ${column.name} is not 0 or 1; dropped` };
  }
  if (isZeroDate(literal)) {
    return { sql: null, warning: `zero-date default ${raw} of column ${column.name} dropped` };
  }
  // A bytea default spelled as hex: an escape-format literal would read backslashes as escapes.
  if (pgType === 'bytea') return { sql: `${literalPg(`\\x${Buffer.from(literal, 'utf8').toString('hex')}`)}::bytea` };
  if (pgType === 'text[]')
    return {
      sql: `${literalPg(
        `{${literal
          .split(',')
          .filter((x) => x !== '')
          .map((x) => `"${x.replace(/(["\\])/g, '\\$1')}"`)
          .join(',')}}`,
      )}::text[]`,
    };
  return { sql: literalPg(literal) };
}
