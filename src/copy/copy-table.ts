import type { DataSource } from 'typeorm';
import { My2pgError, PermanentError, RowRefused, TransientError } from '../core/errors.js';
import { isPermanentError } from '../dialect/driver-errors.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { describeAdjustments, hasAdjustments, type TableAdjustments } from '../vocabulary/adjustments.js';
import { rowCanonicalizerFor } from '../vocabulary/canonical.js';
import { BinaryUnfit } from './binary-row.js';
import { copyByteRuleFor } from './convert.js';
import { runCopyAttempt, type CopyMode, type TableCopy } from './copy-attempt.js';
import { binaryKindFor } from './binary-format.js';
import { CopyRowEncoder } from './copy-encoder.js';
import { planTableCopy, type CopyTableInput, type TableCopyPlan } from './copy-plan.js';
import { CopyProgress, type ProgressHooks } from './copy-progress.js';
import { RejectedRowCapture } from './rejected-rows.js';

/** Callbacks through which a copy reports to its job. */
export interface CopyTableHooks extends ProgressHooks {
  /**
   * Aborted when the copy must stop (its run was cancelled): the source stream is destroyed
   * with the signal's reason, so the copy fails with it and its transaction rolls back.
   */
  signal?: AbortSignal | undefined;
  /** The run's table definitions, read once per run (absent: read this table's from both databases). */
  catalog?: RunCatalog | undefined;
}

/** What a table copy did. */
export interface CopyTableOutcome {
  /** Rows written to the target. */
  rows: number;
  /** Rows the target refused (listed in `my2pg.rejected_rows`). */
  rejected: number;
  durationMs: number;
  adjustments: TableAdjustments;
}

/**
 * Copies one table: streams the source rows in key order inside a consistent snapshot,
 * converts each value for its target column, and writes them with COPY FROM STDIN. TRUNCATE
 * and COPY run in one PostgreSQL transaction, so a failure leaves the target as it was and a
 * rerun ends with exactly the source rows.
 *
 * A value the target column cannot hold rejects its row, never the table: a value my2pg
 * refuses is set aside at once; a row PostgreSQL refuses makes the copy start over in
 * batches under savepoints, and a refused batch is halved until the bad rows are found. The
 * good rows land, the bad ones go to `my2pg.rejected_rows` in the same transaction.
 */
export async function copyTable(
  source: DataSource,
  target: DataSource,
  input: CopyTableInput,
  hooks: CopyTableHooks = {},
): Promise<CopyTableOutcome> {
  const started = Date.now();
  const plan = await planTableCopy(source, target, input, hooks.catalog);
  const copy = openTableCopy(plan, input.runId, hooks, started);
  copy.progress.start();
  try {
    await copyFallingBack(source, target, copy, hooks);
  } catch (error) {
    throw classifyCopyError(error, input.table);
  } finally {
    copy.progress.stop();
  }
  await copy.progress.report();
  return reportOutcome(copy, hooks);
}

/** The encoder, counters and rejected-row capture of a planned copy. */
function openTableCopy(
  plan: TableCopyPlan,
  runId: string | undefined,
  hooks: CopyTableHooks,
  started: number,
): TableCopy {
  const { pairs, sourceTable } = plan;
  const encoder = new CopyRowEncoder(
    pairs.map((p) => ({
      name: p.source.name,
      rule: copyByteRuleFor(p.source, p.target),
      convert: p.convert,
      binary: binaryKindFor(p.source, p.target),
    })),
    plan.table,
  );
  const rejects = new RejectedRowCapture({
    table: plan.table,
    columns: pairs.map((p) => p.source.name),
    targetColumns: pairs.map((p) => p.target.name),
    primaryKey: sourceTable.primaryKey,
    canon: rowCanonicalizerFor(pairs, sourceTable.primaryKey),
  });
  return {
    plan,
    encoder,
    progress: new CopyProgress(hooks, plan.estimatedRows, plan.limits.batchRows, started),
    rejects,
    owner: runId ? { runId, table: plan.table, part: plan.part } : null,
    signal: hooks.signal,
  };
}

/**
 * Attempts the copy in binary format when every column has one, else in text; starts over in
 * text when a value has no exact binary form, and careful when PostgreSQL refuses a row.
 */
async function copyFallingBack(
  source: DataSource,
  target: DataSource,
  copy: TableCopy,
  hooks: CopyTableHooks,
): Promise<void> {
  let mode: CopyMode = copy.encoder.canWriteBinary ? 'binary' : 'text';
  for (;;) {
    try {
      await runCopyAttempt(source, target, copy, mode);
      return;
    } catch (error) {
      if (error instanceof BinaryUnfit && mode === 'binary') {
        await hooks.onLog?.(`${error.message}; copying again in text format`);
        mode = 'text';
      } else if (error instanceof RowRefused && mode !== 'careful') {
        await hooks.onLog?.(
          `PostgreSQL refused a row (${error.message}); copying again in batches to find the refused rows`,
        );
        mode = 'careful';
      } else {
        throw error;
      }
    }
  }
}

/** A failed copy's error as my2pg's: permanent or transient, naming the table (a my2pg error already is one). */
function classifyCopyError(error: unknown, table: string): My2pgError {
  if (error instanceof My2pgError) return error;
  const message = `table ${table}: ${(error as Error).message}`;
  return isPermanentError(error)
    ? new PermanentError(message, { table, cause: error })
    : new TransientError(message, { table, cause: error });
}

/** Logs what the copy did (rows, adjustments, an example of a rejected row) and returns it. */
async function reportOutcome(copy: TableCopy, hooks: CopyTableHooks): Promise<CopyTableOutcome> {
  const { progress, rejects } = copy;
  const adjustments: TableAdjustments = {};
  for (const pair of copy.plan.pairs) {
    if (hasAdjustments(pair.adjustments)) adjustments[pair.source.name] = pair.adjustments;
  }
  const rows = progress.streamed - rejects.count;
  await hooks.onLog?.(`copied ${rows} rows in ${((Date.now() - progress.started) / 1000).toFixed(1)} s`);
  for (const line of describeAdjustments(adjustments)) await hooks.onLog?.(`adjusted: ${line}`);
  const first = rejects.first;
  if (first) {
    await hooks.onLog?.(
      `rejected ${rejects.count} rows (listed in my2pg.rejected_rows), e.g. ${JSON.stringify(first.key)}: ${first.column ?? ''} ${first.reason}`,
    );
  }
  return { rows, rejected: rejects.count, durationMs: Date.now() - progress.started, adjustments };
}
