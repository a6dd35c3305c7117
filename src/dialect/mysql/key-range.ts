import { decodeKeyBound, type KeyPart, type KeyRange } from '../../core/key-range.js';
import { quoteMysql } from './quote.js';

/** A bound value as MySQL compares it with its column: an integer cast to the key's signedness, bytes from hex. */
function placeholder(part: KeyPart): string {
  if (part.kind === 'binary') return 'UNHEX(?)';
  return `CAST(? AS ${part.kind === 'unsigned' ? 'UNSIGNED' : 'SIGNED'})`;
}

/**
 * `key op bound` for a key tuple, in lexicographic order, written out (`a > ? OR (a = ? AND b
 * >= ?)`): MariaDB 10.11 reads a row constructor `(a, b) >= (?, ?)` by a full index scan, this
 * form by an index range (docs/key-ranges.md).
 */
function tupleCondition(parts: readonly KeyPart[], op: '>=' | '<', bound: string): { sql: string; values: string[] } {
  const bounds = decodeKeyBound(parts, bound);
  const strict = op === '>=' ? '>' : '<';
  const alternatives: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < parts.length; i += 1) {
    const terms: string[] = [];
    for (let j = 0; j < i; j += 1) {
      terms.push(`${quoteMysql(parts[j]!.name)} = ${placeholder(parts[j]!)}`);
      values.push(bounds[j]!);
    }
    terms.push(`${quoteMysql(parts[i]!.name)} ${i === parts.length - 1 ? op : strict} ${placeholder(parts[i]!)}`);
    values.push(bounds[i]!);
    alternatives.push(terms.length === 1 ? terms[0]! : `(${terms.join(' AND ')})`);
  }
  return { sql: alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`, values };
}

/**
 * The conditions that keep a MySQL key inside a key range (`from <= key < to`, a null end open),
 * with their bound values. Integer bounds are bound as text and cast to the key's signedness,
 * so BIGINT UNSIGNED keys compare exactly (never as doubles); binary bounds as hex. No condition
 * for an unbounded range.
 */
export function mysqlKeyRangeConditions(
  parts: readonly KeyPart[],
  range: KeyRange,
): { conditions: string[]; values: string[] } {
  const conditions: string[] = [];
  const values: string[] = [];
  for (const [op, bound] of [
    ['>=', range.from],
    ['<', range.to],
  ] as const) {
    if (bound === null) continue;
    const c = tupleCondition(parts, op, bound);
    conditions.push(c.sql);
    values.push(...c.values);
  }
  return { conditions, values };
}
