import type { KeyRange } from '../../core/key-range.js';
import { selectExpression, type SourceColumn, type SourceTable } from './catalog.js';
import { mysqlKeyRangeConditions } from './key-range.js';
import { quoteMysql } from './quote.js';

/** A key range on one column of a table (a split table's part). */
export interface ColumnKeyRange extends KeyRange {
  column: string;
}

/** The SELECT that streams a table in primary-key order (no order for a table without a key). */
export function buildSelect(table: SourceTable, columns: readonly SourceColumn[], range?: ColumnKeyRange): string {
  const list = columns.map(selectExpression).join(', ');
  const order = table.primaryKey.length > 0 ? ` ORDER BY ${table.primaryKey.map(quoteMysql).join(', ')}` : '';
  return `SELECT ${list} FROM ${quoteMysql(table.name)}${buildRangeFilter(table, range).sql}${order}`;
}

/**
 * The WHERE of a key range on the MySQL side, with its bound values. Bounds are bound as text
 * and cast to the key's signedness, so BIGINT UNSIGNED keys compare exactly (not as doubles).
 */
export function buildRangeFilter(table: SourceTable, range: ColumnKeyRange | undefined): { sql: string; values: string[] } {
  if (!range || (range.from === null && range.to === null)) return { sql: '', values: [] };
  const column = table.columns.find((c) => c.name === range.column);
  const { conditions, values } = mysqlKeyRangeConditions({ name: range.column, unsigned: column?.unsigned ?? false }, range);
  return { sql: ` WHERE ${conditions.join(' AND ')}`, values };
}
