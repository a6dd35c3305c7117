import type { KeyRange } from '../core/key-range.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { INTEGER_TYPES } from './type-families.js';

export type { KeyRange };

/**
 * The column a table can be split on: a single-column primary key of an integer type. Other
 * keys (composite, text, binary) keep the table in one job.
 */
export function splitColumnOf(table: SourceTable): string | null {
  if (table.primaryKey.length !== 1) return null;
  const name = table.primaryKey[0]!;
  const column = table.columns.find((c) => c.name === name);
  if (!column || !INTEGER_TYPES.has(column.dataType)) return null;
  // tinyint(1) is a boolean to my2pg; it is no useful split key anyway.
  return column.columnType.startsWith('tinyint(1)') ? null : name;
}

/** Default bytes per key-range job: a table of wide rows is split by bytes as well as by rows. */
export const DEFAULT_RANGE_BYTES = 1024 * 1024 * 1024;

/**
 * Splits the key space [min, max] into about `estimatedRows / rangeRows` ranges (or
 * `estimatedBytes / rangeBytes`, whichever gives more) of equal key width (integer keys are
 * usually dense). The first range is open below and the last open above, so together they
 * cover every key whatever was inserted after planning. Returns one unbounded range when the
 * table is small enough to stay whole. `rangeRows` 0 never splits.
 */
export function planKeyRanges(min: bigint | null, max: bigint | null, estimatedRows: number, rangeRows: number, estimatedBytes = 0, rangeBytes = DEFAULT_RANGE_BYTES): KeyRange[] {
  const whole: KeyRange[] = [{ from: null, to: null }];
  if (min === null || max === null || max <= min || rangeRows <= 0) return whole;
  const span = max - min + 1n;
  const byRows = Math.ceil(Math.max(0, estimatedRows) / rangeRows);
  const byBytes = rangeBytes > 0 ? Math.ceil(Math.max(0, estimatedBytes) / rangeBytes) : 0;
  let count = BigInt(Math.max(byRows, byBytes));
  if (count > span) count = span;
  if (count <= 1n) return whole;
  const bounds: bigint[] = [];
  for (let i = 1n; i < count; i += 1n) bounds.push(min + (span * i) / count);
  const ranges: KeyRange[] = [];
  let from: string | null = null;
  for (const bound of bounds) {
    ranges.push({ from, to: bound.toString() });
    from = bound.toString();
  }
  ranges.push({ from, to: null });
  return ranges;
}
