import type { KeyPart, KeyPartKind, KeyRange } from '../core/key-range.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { INTEGER_TYPES, TEXT_TYPES } from './type-families.js';

export type { KeyPart, KeyRange };

/**
 * The key a table can be split on: its primary key, when every column of it is an integer or a
 * binary string (the kinds whose order MySQL and PostgreSQL share: docs/key-ranges.md). Null
 * keeps the table in one job: see {@link unsplitReason}.
 */
export function keyPartsOf(table: SourceTable): KeyPart[] | null {
  return keyOf(table).parts;
}

/** Why a table cannot be split into key-range jobs (null: it can). */
export function unsplitReason(table: SourceTable): string | null {
  return keyOf(table).reason;
}

function keyOf(table: SourceTable): { parts: KeyPart[] | null; reason: string | null } {
  if (table.primaryKey.length === 0) {
    const unique = table.indexes.find(
      (i) =>
        i.unique && !i.partial && i.columns.every((n) => table.columns.find((c) => c.name === n)?.nullable === false),
    );
    return {
      parts: null,
      reason: unique
        ? `it has no primary key (its unique NOT NULL key ${unique.name} is not split on)`
        : 'it has no primary or unique NOT NULL key',
    };
  }
  const parts: KeyPart[] = [];
  for (const name of table.primaryKey) {
    const column = table.columns.find((c) => c.name === name);
    const type = column?.columnType ?? 'unknown';
    const kind: KeyPartKind | null =
      column === undefined || type.startsWith('tinyint(1)')
        ? null
        : INTEGER_TYPES.has(column.dataType)
          ? column.unsigned
            ? 'unsigned'
            : 'signed'
          : column.dataType === 'binary' || column.dataType === 'varbinary'
            ? 'binary'
            : null;
    if (kind === null) {
      // Text compares in its collation in MySQL, by another order in PostgreSQL (docs/key-ranges.md).
      const what = column && TEXT_TYPES.has(column.dataType) ? `text (${type}, collation order)` : type;
      return {
        parts: null,
        reason: `its primary key column ${name} is ${what}; only integer and binary keys are split`,
      };
    }
    parts.push({ name, kind });
  }
  return { parts, reason: null };
}

/** Default bytes per key-range job: a table of wide rows is split by bytes as well as by rows. */
export const DEFAULT_RANGE_BYTES = 1024 * 1024 * 1024;

/**
 * The key space [min, max] cut into ranges of equal key width (integer keys are usually dense):
 * range i runs from `min + floor(span * i / count)` up to the next range's start, the first
 * open below and the last open above, so that together they cover every key, whatever was
 * inserted after planning. The one planner of key ranges: copy jobs and verification's hashed
 * ranges are cut by it alike.
 */
export class KeySpaceSplit {
  /** Ranges in the split (at most one per key of [min, max], at least one). */
  readonly count: number;

  /** What makes the split again (splitKeySpace of these): a receipt keeps it. */
  describe(): { min: string; max: string; count: number } {
    return { min: this.min.toString(), max: this.max.toString(), count: this.count };
  }
  private readonly span: bigint;
  private readonly bigCount: bigint;
  /** min and span as numbers when indexOf's arithmetic stays exact in doubles (the fast path). */
  private readonly small: { min: number; span: number } | null;

  constructor(
    private readonly min: bigint,
    private readonly max: bigint,
    count: number,
  ) {
    this.span = max >= min ? max - min + 1n : 1n;
    const wanted = BigInt(Math.max(1, Math.floor(count)));
    this.bigCount = wanted > this.span ? this.span : wanted;
    this.count = Number(this.bigCount);
    // Keys read as numbers have at most 15 digits, so key - min is exact when |min| < 2^52;
    // (d + 1) * count stays below span * count, exact while that is a safe integer.
    const limit = 2n ** 52n;
    const exact = min > -limit && max < limit && this.span * this.bigCount <= BigInt(Number.MAX_SAFE_INTEGER);
    this.small = exact ? { min: Number(min), span: Number(this.span) } : null;
  }

  /** Where range `index` starts (index 0 < index < count). */
  private bound(index: number): bigint {
    return this.min + (this.span * BigInt(index)) / this.bigCount;
  }

  /** Range `index` (0 ≤ index < count). */
  range(index: number): KeyRange {
    return {
      from: index === 0 ? null : this.bound(index).toString(),
      to: index >= this.count - 1 ? null : this.bound(index + 1).toString(),
    };
  }

  /** Every range, in key order. */
  ranges(): KeyRange[] {
    return Array.from({ length: this.count }, (_v, i) => this.range(i));
  }

  /**
   * The index of the range that holds `key`, in constant time and exact for any integer key
   * (BIGINT UNSIGNED included): range i holds the keys k with `bound(i) <= k`, which is
   * `i <= ((k - min + 1) * count - 1) / span`.
   */
  indexOf(key: number | bigint): number {
    if (this.count === 1) return 0;
    if (this.small && typeof key === 'number') {
      const d = key - this.small.min;
      if (d < 0) return 0;
      if (d >= this.small.span) return this.count - 1;
      return Math.floor(((d + 1) * this.count - 1) / this.small.span);
    }
    const d = BigInt(key) - this.min;
    if (d < 0n) return 0;
    if (d >= this.span) return this.count - 1;
    return Number(((d + 1n) * this.bigCount - 1n) / this.span);
  }
}

/** Cuts [min, max] into `count` ranges of equal key width (fewer when it holds fewer keys): see KeySpaceSplit. */
export function splitKeySpace(min: bigint, max: bigint, count: number): KeySpaceSplit {
  return new KeySpaceSplit(min, max, count);
}

/** The keys in both ranges (an empty range when they do not meet: from >= to). */
export function intersectKeyRanges(a: KeyRange, b: KeyRange): KeyRange {
  const pick = (x: string | null, y: string | null, later: boolean): string | null => {
    if (x === null) return y;
    if (y === null) return x;
    return BigInt(x) > BigInt(y) === later ? x : y;
  };
  return { from: pick(a.from, b.from, true), to: pick(a.to, b.to, false) };
}

/**
 * How many rows each key-range job should hold: about `rangeRows`, fewer when the table's
 * average row size (`estimatedBytes / estimatedRows`) would make a range exceed `rangeBytes`,
 * evened out over the ranges the table needs. Null when the table stays whole (small enough,
 * or `rangeRows` 0). The boundaries themselves are read from the data (every stride-th key in
 * key order), so ranges hold about equal rows whatever gaps the key has.
 */
export function rangeStride(
  estimatedRows: number,
  rangeRows: number,
  estimatedBytes = 0,
  rangeBytes = DEFAULT_RANGE_BYTES,
): number | null {
  if (rangeRows <= 0 || estimatedRows <= 1) return null;
  const byRows = Math.ceil(estimatedRows / rangeRows);
  const byBytes = rangeBytes > 0 ? Math.ceil(Math.max(0, estimatedBytes) / rangeBytes) : 0;
  const count = Math.max(byRows, byBytes);
  return count <= 1 ? null : Math.max(1, Math.ceil(estimatedRows / count));
}

/**
 * The ranges between sampled boundary keys (in key order, strictly increasing): the first open
 * below, the last open above, each `from` the previous `to`, so together they hold every key,
 * whatever was inserted after planning.
 */
export function rangesFromBoundaries(boundaries: readonly string[]): KeyRange[] {
  const cuts = [null, ...boundaries, null];
  return cuts.slice(1).map((to, i) => ({ from: cuts[i]!, to }));
}
