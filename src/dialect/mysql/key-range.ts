import type { KeyRange } from '../../core/key-range.js';
import { quoteMysql } from './quote.js';

/**
 * The conditions that keep a MySQL key column inside a key range (`from <= key < to`, a null end
 * open), with their bound values. Bounds are bound as text and cast to the key's signedness, so
 * BIGINT UNSIGNED keys compare exactly (never as doubles). No condition for an unbounded range.
 */
export function mysqlKeyRangeConditions(
  column: { name: string; unsigned: boolean },
  range: KeyRange,
): { conditions: string[]; values: string[] } {
  const cast = column.unsigned ? 'UNSIGNED' : 'SIGNED';
  const conditions: string[] = [];
  const values: string[] = [];
  if (range.from !== null) {
    conditions.push(`${quoteMysql(column.name)} >= CAST(? AS ${cast})`);
    values.push(range.from);
  }
  if (range.to !== null) {
    conditions.push(`${quoteMysql(column.name)} < CAST(? AS ${cast})`);
    values.push(range.to);
  }
  return { conditions, values };
}
