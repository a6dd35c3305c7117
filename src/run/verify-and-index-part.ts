import type { DataSource } from 'typeorm';
import { restoreTableIndexes, type RestoredConstraint } from '../finalize/restore-indexes.js';
import type { RunRow } from '../state/entities.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { verifyTable, type TablePart, type TableVerification } from '../verify/verify-run.js';

/** What a copy job did after its copy committed. */
export interface PartFinish {
  /** The part's checksum verification (absent when the run verifies otherwise, or it could not run). */
  verification?: TableVerification;
  /** The table's indexes rebuilt (whole-table jobs only). */
  indexes: RestoredConstraint[];
  /** How long each took, ms (they run at once). */
  timings: { verifyMs: number; indexesMs: number };
}

/** The part of a table a copy job copied. */
export interface CopiedPart {
  table: string;
  targetTable: string;
  /** Rows the copy rejected (whole-table jobs; a range job's are read from its part). */
  rejectedRows: number;
  /** Rows the copy wrote. */
  rows: number;
  /** A range job's part; absent for a whole table. */
  part?: TablePart | undefined;
  /** Rebuild the table's indexes: a whole table, or the last range of a split one to commit. */
  rebuildIndexes: boolean;
}

/**
 * The per-table pipeline: as soon as a table (or one key range of it) is committed, its copy
 * job verifies it by checksum and, for a whole table or the last range of a split one,
 * rebuilds the table's indexes, while other jobs are still copying. finalize then only restores what is left (foreign keys, the indexes of
 * split tables), sets sequences and collects these results. Never throws: what fails here is
 * done again by finalize.
 */
export async function finishCopiedPart(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  copied: CopiedPart,
  log: (line: string) => Promise<void>,
  catalog?: RunCatalog,
): Promise<PartFinish> {
  if (run.options.follow) {
    // A followed source moves on while it is copied: the copy is verified at cutover, once the
    // binary log is drained. Indexes wait for cutover too: a UNIQUE one could refuse a row the
    // follower writes before the change that freed its value is applied.
    await log('following the binary log: verification and indexes wait for cutover');
    return { indexes: [], timings: { verifyMs: 0, indexesMs: 0 } };
  }
  const verify = async (): Promise<TableVerification | undefined> => {
    if ((run.options.verify ?? 'checksum') !== 'checksum') return undefined;
    const v = await verifyTable(
      source,
      target,
      run,
      { tableName: copied.table, targetTable: copied.targetTable, rejectedRows: copied.rejectedRows },
      'checksum',
      copied.part,
      catalog,
    );
    await log(
      v.error
        ? `verification failed (finalize will verify again): ${v.error}`
        : `verified: ${v.status} (${v.sourceRows} rows, ${(v.durationMs / 1000).toFixed(1)} s)`,
    );
    // A verification that could not run is left to finalize.
    return v.error ? undefined : v;
  };
  const rebuild = async (): Promise<RestoredConstraint[]> => {
    if (!copied.rebuildIndexes) return [];
    const indexes = await restoreTableIndexes(target, run.id, copied.targetTable, {
      oneTransaction: !copied.part && copied.rows < 100_000,
    });
    if (indexes.length > 0)
      await log(
        `indexes: ${indexes.filter((i) => i.status === 'restored' || i.status === 'already-present').length}/${indexes.length} rebuilt`,
      );
    return indexes.filter((i) => i.status !== 'failed');
  };
  const timings = { verifyMs: 0, indexesMs: 0 };
  const timed = async <T>(key: keyof typeof timings, task: () => Promise<T>, fallback: T): Promise<T> => {
    const started = Date.now();
    try {
      return await task();
    } catch {
      // What fails here is done again by finalize (see above), so the job's copy still counts.
      return fallback;
    } finally {
      timings[key] = Date.now() - started;
    }
  };
  const [verification, indexes] = await Promise.all([
    timed('verifyMs', verify, undefined),
    timed('indexesMs', rebuild, []),
  ]);
  return { ...(verification ? { verification } : {}), indexes, timings };
}
