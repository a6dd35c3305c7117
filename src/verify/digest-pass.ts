import type { DataSource } from 'typeorm';
import type { CheckedTable } from './checked-table.js';
import type { ChecksumOptions, RangeDigests as RangeDigestsOut, RangeMismatch } from './checksum-types.js';
import type { DigestColumns } from './digest-columns.js';
import { integerAt, type VerifyRanges } from './range-plan.js';
import { RangeDigests } from './row-digest.js';
import type { MysqlRowHasher, PgRowHasher } from './row-hashers.js';
import { mysqlRangeFilter, readMysqlRows } from './source-reader.js';
import { readPgRows } from './target-reader.js';

/** Both sides' digests per key range, compared. */
export interface ComparedDigests {
  sourceRows: number;
  targetRows: number;
  /** Indexes of the ranges whose digests differ, in key order. */
  mismatched: number[];
  mismatchedRanges: RangeMismatch[];
  /** Every range either side holds rows in, in key order, with both sides' rows and digests. */
  ranges: RangeDigestsOut[];
}

/**
 * Reads every row of the table on both sides at once, each on its own connection, hashes the
 * rows of each key range in digest form, and compares the ranges. Hashes are held, never rows.
 */
export async function digestBothSides(
  source: DataSource,
  target: DataSource,
  table: CheckedTable,
  ranges: VerifyRanges,
  columns: DigestColumns,
  hashers: { mysql: MysqlRowHasher; pg: PgRowHasher },
  options: Pick<ChecksumOptions, 'side' | 'snapshot' | 'gate'> = {},
): Promise<ComparedDigests> {
  const side = options.side ?? 'both';
  const sourceDigests = new RangeDigests(table.orderFree);
  const targetDigests = new RangeDigests(table.orderFree);
  const key = table.intKey?.position ?? -1;
  const rangeOf = (buffer: Buffer, starts: Int32Array, ends: Int32Array): number =>
    ranges.rangeOf(key >= 0 && ends[key]! >= 0 ? integerAt(buffer, starts[key]!, ends[key]!) : null);
  await Promise.all([
    side === 'postgres'
      ? undefined
      : readMysqlRows(
          source,
          table,
          mysqlRangeFilter(table, ranges.all),
          (buffer, starts, ends, fields, row) => {
            sourceDigests.beginRow(rangeOf(buffer, starts, ends));
            hashers.mysql.hash(sourceDigests.hasher, buffer, starts, ends, fields, row);
            sourceDigests.endRow();
          },
          options.snapshot?.mysql,
          options.gate,
        ),
    side === 'mysql'
      ? undefined
      : readPgRows(
          target,
          table,
          columns.pgDigestList,
          ranges.all,
          (buffer, starts, ends) => {
            targetDigests.beginRow(rangeOf(buffer, starts, ends));
            hashers.pg.hash(targetDigests.hasher, buffer, starts, ends);
            targetDigests.endRow();
          },
          options.snapshot?.pg,
          options.gate,
        ),
  ]);
  const sourceRanges = sourceDigests.finish();
  const targetRanges = targetDigests.finish();
  let sourceRows = 0;
  let targetRows = 0;
  for (const r of sourceRanges.values()) sourceRows += r.rows;
  for (const r of targetRanges.values()) targetRows += r.rows;
  const mismatched = [...new Set([...sourceRanges.keys(), ...targetRanges.keys()])]
    .filter((r) => sourceRanges.get(r)?.digest !== targetRanges.get(r)?.digest)
    .sort((a, b) => a - b);
  const mismatchedRanges = mismatched.map((r) => ({
    ...ranges.keyRange(r),
    sourceRows: sourceRanges.get(r)?.rows ?? 0,
    targetRows: targetRanges.get(r)?.rows ?? 0,
  }));
  const all = [...new Set([...sourceRanges.keys(), ...targetRanges.keys()])].sort((a, b) => a - b);
  const digestsOut = all.map((r) => ({
    ...ranges.keyRange(r),
    sourceRows: sourceRanges.get(r)?.rows ?? 0,
    targetRows: targetRanges.get(r)?.rows ?? 0,
    sourceDigest: sourceRanges.get(r)?.digest ?? null,
    targetDigest: targetRanges.get(r)?.digest ?? null,
  }));
  return { sourceRows, targetRows, mismatched, mismatchedRanges, ranges: digestsOut };
}
