import { decodeKeyBound, type KeyPart, type KeyRange } from '../../core/key-range.js';

/** A bound value as a PostgreSQL literal: integers checked by BigInt, bytes as a bytea of checked hex. */
function literal(part: KeyPart, value: string): string {
  return part.kind === 'binary' ? `'\\x${value}'::bytea` : BigInt(value).toString();
}

/**
 * The conditions that keep a PostgreSQL key inside a key range (`from <= key < to`, a null end
 * open): `keyExpressions` are the key's columns in key order, `parts` how they compare. A key
 * tuple compares as a row value, lexicographically, as MySQL's written-out form does.
 */
export function pgKeyRangeConditions(
  keyExpressions: readonly string[],
  parts: readonly KeyPart[],
  range: KeyRange,
): string[] {
  const conditions: string[] = [];
  const key = keyExpressions.length === 1 ? keyExpressions[0]! : `(${keyExpressions.join(', ')})`;
  for (const [op, bound] of [
    ['>=', range.from],
    ['<', range.to],
  ] as const) {
    if (bound === null) continue;
    const values = decodeKeyBound(parts, bound).map((v, i) => literal(parts[i]!, v));
    conditions.push(`${key} ${op} ${values.length === 1 ? values[0]! : `(${values.join(', ')})`}`);
  }
  return conditions;
}
