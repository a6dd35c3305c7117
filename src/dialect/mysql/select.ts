import type { KeyPart, KeyRange } from '../../core/key-range.js';
import { selectExpression, type SourceColumn, type SourceTable } from './catalog.js';
import { mysqlWhere } from './condition.js';
import { mysqlKeyRangeConditions } from './key-range.js';
import { quoteMysql } from './quote.js';

/** A key range of a table (a split table's part) with the key's columns. */
export interface ColumnKeyRange extends KeyRange {
  parts: readonly KeyPart[];
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
  const filter = buildRangeFilter(range);
  return {
    sql: `SELECT ${list} FROM ${quoteMysql(table.name)}${mysqlWhere(filter.conditions, condition)}${order}`,
    values: filter.values,
  };
}

/** The conditions of a key range on the MySQL side, with their bound values (see mysqlKeyRangeConditions). */
function buildRangeFilter(range: ColumnKeyRange | undefined): { conditions: string[]; values: string[] } {
  if (!range || (range.from === null && range.to === null)) return { conditions: [], values: [] };
  return mysqlKeyRangeConditions(range.parts, range);
}
