import type { DataSource } from 'typeorm';
import { loadTablePair } from '../state/run-catalog.js';
import { describeCheckedTable, type CheckedTable } from './checked-table.js';
import type { ChecksumInput, ChecksumOptions, TableChecksum } from './checksum-types.js';
import { digestColumnsFor } from './digest-columns.js';
import { digestBothSides, type ComparedDigests } from './digest-pass.js';
import { compareRowByRow, type DrillResult } from './drill-down.js';
import { drillReaders } from './drill-readers.js';
import { planVerifyRanges, VerifyRanges } from './range-plan.js';
import { MysqlRowHasher, PgRowHasher } from './row-hashers.js';

export type {
  ChecksumInput,
  ChecksumOptions,
  RangeMismatch,
  RowDifference,
  TableChecksum,
} from './checksum-types.js';

/** One comparison of a table: its ranges' digests, then the differing ranges row by row. */
interface PassOutcome {
  digests: ComparedDigests;
  drill: DrillResult;
}

/**
 * Compares the table once, reading each column in its digest form (or, with `allValues`,
 * every column as a value put in canonical form here): per-range digests of both sides, then
 * the ranges whose digests differ row by row, so that a changed, missing or extra row is
 * reported by range and then by key.
 */
async function comparePass(
  source: DataSource,
  target: DataSource,
  table: CheckedTable,
  ranges: VerifyRanges,
  input: ChecksumInput,
  options: ChecksumOptions,
  allValues: boolean,
): Promise<PassOutcome> {
  const columns = digestColumnsFor(table, allValues);
  const hashers = { mysql: new MysqlRowHasher(columns, table.width), pg: new PgRowHasher(columns, table.width) };
  const digests = await digestBothSides(source, target, table, ranges, columns, hashers, options);
  if (options.digestsOnly) return { digests, drill: { differences: [], differenceCount: 0, rejectedRows: 0 } };
  const drill = await compareRowByRow({
    names: table.pairs.map((p) => p.source.name),
    canon: table.canon,
    identity: table.identity,
    intKey: table.intKey !== null,
    mismatched: digests.mismatched.map((r) => ranges.keyRange(r)),
    sourceRows: digests.sourceRows,
    targetRows: digests.targetRows,
    rejectedKeys: input.rejectedKeys,
    maxListed: options.maxListed ?? 100,
    maxDrilled: options.maxDrilledRanges ?? 50,
    maxRows: table.intKey ? Number.POSITIVE_INFINITY : (options.maxDrillRows ?? 1_000_000),
    maxBytes: options.maxDrillBytes ?? 64 * 1024 * 1024,
    ...drillReaders(source, target, table, columns, hashers),
  });
  return { digests, drill };
}

/**
 * Whether a pass found more differing ranges than it could compare row by row, and no differing
 * row in those it compared: then the databases' own forms of some column likely disagree where
 * the values agree (digest forms are exact for most values, not all), and only a pass with every
 * column read as a value can tell whether the ranges left uncompared hold real differences.
 */
function formsMayDisagree(pass: PassOutcome): boolean {
  return pass.drill.note !== undefined && pass.drill.differenceCount === 0 && pass.drill.rejectedRows === 0;
}

/**
 * Verifies one table by content: reads every row on both sides independently (MySQL's values
 * as MySQL sends them, PostgreSQL's as PostgreSQL prints them), hashes the canonical rows per
 * primary-key range, and compares the ranges whose hashes differ row by row. Both passes hold
 * hashes, never rows, so memory is bounded whatever the width or size of the rows.
 *
 * First pass: columns in their digest forms (bytes where both databases print alike). Second
 * pass, only when the first left differing ranges unexplained (see formsMayDisagree): every
 * column read as a value; its result is the verdict.
 */
export async function checksumTable(
  source: DataSource,
  target: DataSource,
  input: ChecksumInput,
  options: ChecksumOptions = {},
): Promise<TableChecksum> {
  const started = Date.now();
  const { sourceTable, targetTable } = await loadTablePair(source, target, input, input.catalog);
  const table = describeCheckedTable(sourceTable, targetTable, input);
  // A key list is one range: its rows are few, and its keys need not be integers.
  const ranges = input.keys
    ? new VerifyRanges(null, table.jobRange)
    : await planVerifyRanges(source, table, sourceTable, options);
  const first = await comparePass(source, target, table, ranges, input, options, options.allValues ?? false);
  const second =
    !options.allValues && formsMayDisagree(first)
      ? await comparePass(source, target, table, ranges, input, options, true)
      : undefined;

  const { digests, drill } = second ?? first;
  const allCompared = drill.note === undefined;
  const status: TableChecksum['status'] =
    digests.mismatched.length === 0
      ? 'verified'
      : allCompared && drill.differenceCount === 0
        ? drill.rejectedRows > 0
          ? 'rejected'
          : 'verified'
        : 'mismatch';
  return {
    table: input.table,
    method: 'checksum',
    status,
    sourceRows: digests.sourceRows,
    targetRows: digests.targetRows,
    ranges: ranges.count,
    mismatchedRanges: digests.mismatchedRanges,
    differences: drill.differences,
    differenceCount: drill.differenceCount,
    rejectedRows: drill.rejectedRows,
    ...(drill.note ? { note: drill.note } : {}),
    durationMs: Date.now() - started,
    digests: { split: ranges.describe(), ranges: first.digests.ranges },
  };
}
