import type { KeyRange } from '../../core/key-range.js';

/**
 * The conditions that keep a PostgreSQL key expression inside a key range (`from <= key < to`,
 * a null end open). The bounds are integers, checked by BigInt and written as literals.
 */
export function pgKeyRangeConditions(keyExpression: string, range: KeyRange): string[] {
  const conditions: string[] = [];
  if (range.from !== null) conditions.push(`${keyExpression} >= ${BigInt(range.from).toString()}`);
  if (range.to !== null) conditions.push(`${keyExpression} < ${BigInt(range.to).toString()}`);
  return conditions;
}
