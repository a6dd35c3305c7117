import type { KeyRange } from '../../core/key-range.js';
import { selectExpression, type SourceColumn, type SourceTable } from './catalog.js';
import { mysqlWhere } from './condition.js';
import { mysqlKeyRangeConditions } from './key-range.js';
import { quoteMysql } from './quote.js';

/** A key range on one column of a table (a split table's part). */
export interface ColumnKeyRange extends KeyRange {
  column: string;
}

/**
 * The SELECT that streams a table in primary-key order (no order for a table without a key),
 * with the bound values of its WHERE: a key range's bounds, and the run's `where` condition
 * of the table (see mysqlWhere).
 */
export function buildSelect(
  table: SourceTable,
  columns: readonly SourceColumn[],
  range?: ColumnKeyRange,
  condition?: string,
): { sql: string; values: string[] } {
  const list = columns.map(selectExpression).join(', ');
  const order = table.primaryKey.length > 0 ? ` ORDER BY ${table.primaryKey.map(quoteMysql).join(', ')}` : '';
  const filter = buildRangeFilter(table, range);
  return {
    sql: `SELECT ${list} FROM ${quoteMysql(table.name)}${mysqlWhere(filter.conditions, condition)}${order}`,
    values: filter.values,
  };
}

/**
 * The conditions of a key range on the MySQL side, with their bound values. Bounds are bound as
 * text and cast to the key's signedness, so BIGINT UNSIGNED keys compare exactly (not as doubles).
 */
function buildRangeFilter(
  table: SourceTable,
  range: ColumnKeyRange | undefined,
): { conditions: string[]; values: string[] } {
  if (!range || (range.from === null && range.to === null)) return { conditions: [], values: [] };
  const column = table.columns.find((c) => c.name === range.column);
  return mysqlKeyRangeConditions({ name: range.column, unsigned: column?.unsigned ?? false }, range);
}
