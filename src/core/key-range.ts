/**
 * One range of a table's key, the one convention of my2pg: `from <= key < to`, a null end open.
 * A single integer key's bounds are decimal text (BIGINT UNSIGNED does not fit a JS number);
 * any other splittable key's bounds are key tuples, written by {@link encodeKeyBound}. The SQL
 * for it is in src/dialect/mysql/key-range.ts and src/dialect/postgres/key-range.ts;
 * docs/key-ranges.md says why both sides select the same rows.
 */
export interface KeyRange {
  from: string | null;
  to: string | null;
}

/**
 * How a key column compares on both sides: an integer (signed or not, bound as decimal text) or
 * a binary string (bound as hex), the kinds whose order MySQL and PostgreSQL provably share.
 */
export type KeyPartKind = 'signed' | 'unsigned' | 'binary';

/** One column of a range's key, in key order. */
export interface KeyPart {
  name: string;
  kind: KeyPartKind;
}

/** A bound's text: decimal for a single integer key, else a JSON array (integers as decimal, binary as lower-case hex). */
export function encodeKeyBound(parts: readonly KeyPart[], values: readonly string[]): string {
  return parts.length === 1 && parts[0]!.kind !== 'binary' ? values[0]! : JSON.stringify(values);
}

/** The values of a bound, one per key part; refuses text that is not a bound of these parts. */
export function decodeKeyBound(parts: readonly KeyPart[], bound: string): string[] {
  const values: unknown = parts.length === 1 && parts[0]!.kind !== 'binary' ? [bound] : JSON.parse(bound);
  if (!Array.isArray(values) || values.length !== parts.length)
    throw new Error(`key bound ${bound} does not fit the key (${parts.map((p) => p.name).join(', ')})`);
  return values.map((v, i) => {
    const ok = typeof v === 'string' && (parts[i]!.kind === 'binary' ? /^(?:[0-9a-f]{2})*$/ : /^-?\d+$/).test(v);
    if (!ok) throw new Error(`key bound ${bound}: ${JSON.stringify(v)} is no ${parts[i]!.kind} value`);
    return v as string;
  });
}

/** The key's columns as a range names them (`id`, `tenant_id, id`). */
export function keyPartsLabel(parts: readonly KeyPart[]): string {
  return parts.map((p) => p.name).join(', ');
}
