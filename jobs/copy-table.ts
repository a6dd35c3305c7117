import { UnrecoverableError, type Job } from 'bullmq';
import { copyTable } from '../src/copy/copy-table.js';
import { copyPartLabel } from '../src/state/rejected-rows.js';
import { describeError } from '../src/core/errors.js';
import { isPermanentError } from '../src/dialect/driver-errors.js';
import { finishCopiedPart } from '../src/run/verify-and-index-part.js';
import { recordRangeCopied } from '../src/state/record-range.js';
import { RunCancelledError, watchRunCancellation, WorkerStoppingError } from '../src/state/run-cancellation.js';
import { copyTablePayloadSchema, COPY_TABLE_JOB, type CopyTableResult } from '../src/queue/contract.js';
import { forgetRunCatalog, runCatalogOf } from '../src/state/run-catalog.js';
import { markTableCopied, markTableCopying, markTableFailed, markTablePending } from '../src/state/run-tables.js';
import { copyPoliciesOf } from '../src/state/run-options.js';
import type { JobContext } from './context.js';
import { validatePayload } from './validate-payload.js';

/** The copy-table processor: validate, log, call the engine, record the outcome. */
export function createCopyTableProcessor(context: JobContext) {
  return async function processCopyTable(job: Job): Promise<CopyTableResult> {
    const payload = validatePayload(copyTablePayloadSchema, job.data, COPY_TABLE_JOB);
    const log = context.logger.child({ runId: payload.runId, table: payload.table, jobId: job.id });
    // A retry reads the run's definitions afresh: its failure may have been one fixed since.
    if (job.attemptsMade > 0) forgetRunCatalog(payload.runId);
    const catalog = await runCatalogOf(context.source, context.target, payload.runId);
    const run = catalog?.run;
    if (!catalog || !run) {
      throw new UnrecoverableError(
        `run ${payload.runId} is not recorded in this worker's target database; is its DATABASE_URL the one \`start\` used?`,
      );
    }
    if (run.status === 'cancelled') throw new UnrecoverableError(new RunCancelledError(payload.runId).message);
    await markTableCopying(context.target, payload.runId, payload.table);
    log.info({ attempt: job.attemptsMade + 1 }, 'copy started');
    const range = payload.range;
    const part = range
      ? ` range ${range.index + 1}/${range.count} (${range.column} from ${range.from ?? '-∞'} to ${range.to ?? '+∞'})`
      : '';
    await job.log(
      `attempt ${job.attemptsMade + 1}: copying ${payload.table}${part} into ${payload.targetSchema}.${payload.targetTable}`,
    );
    const cancellation = watchRunCancellation(context.target, payload.runId, payload.table);
    try {
      const result = await copyTable(
        context.source,
        context.target,
        {
          ...payload,
          ...copyPoliciesOf(run.options),
          where: run.options.where?.[payload.table],
          naming: run.options.naming,
        },
        {
          onProgress: (progress) => job.updateProgress(progress),
          onLog: (line) => job.log(line).then(() => undefined),
          signal: context.shutdown ? AbortSignal.any([cancellation.signal, context.shutdown]) : cancellation.signal,
          catalog,
        },
      );
      // A split table's indexes are rebuilt by the job whose range is the last to commit.
      let lastPart = true;
      if (range) {
        lastPart =
          (await recordRangeCopied(
            context.target,
            payload.runId,
            payload.table,
            result.rows,
            result.adjustments,
            copyPartLabel(range),
          )) >= range.count;
      } else await markTableCopied(context.target, payload.runId, payload.table, result);
      log.info(
        { rows: result.rows, rejected: result.rejected, ms: result.durationMs, adjustments: result.adjustments },
        'copy finished',
      );
      const finished = await finishCopiedPart(
        context.source,
        context.target,
        run,
        {
          table: payload.table,
          targetTable: payload.targetTable,
          rejectedRows: result.rejected,
          rows: result.rows,
          part: range
            ? { range: { column: range.column, from: range.from, to: range.to }, part: copyPartLabel(range) }
            : undefined,
          rebuildIndexes: lastPart,
        },
        (line) => job.log(line).then(() => undefined),
        catalog,
      );
      return {
        table: payload.table,
        rows: result.rows,
        rejected: result.rejected,
        durationMs: result.durationMs,
        adjustments: result.adjustments,
        ...finished,
      };
    } catch (error) {
      forgetRunCatalog(payload.runId);
      const message = describeError(error);
      if (error instanceof RunCancelledError) {
        // `cancel` records the table's state itself once every job of the run has stopped.
        // The log line is for the board; one that cannot be written must not hide the cancellation.
        await job.log(`stopped: ${message}`).catch(() => undefined);
        log.warn({ err: message }, 'copy stopped: run cancelled');
        throw new UnrecoverableError(message);
      }
      if (error instanceof WorkerStoppingError) {
        // The pool hands the job back to the queue; the next attempt starts over.
        // Best effort while the process stops: the next attempt marks the table copying again.
        await markTablePending(context.target, payload.runId, payload.table).catch(() => undefined);
        log.warn({ err: message }, 'copy stopped: shutting down');
        throw error;
      }
      const permanent = isPermanentError(error);
      const finalAttempt = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Recording the failure must not hide it (the target may be what failed): the job's own
      // failed state and reason are what retry and status rely on.
      const record = finalAttempt
        ? markTableFailed(context.target, payload.runId, payload.table, message)
        : markTablePending(context.target, payload.runId, payload.table, message);
      await record.catch(() => undefined);
      // Likewise the job log: the job fails with the same message either way.
      await job.log(`${permanent ? 'failed for good' : 'failed, will retry'}: ${message}`).catch(() => undefined);
      log.error({ err: message, permanent }, 'copy failed');
      if (permanent) throw new UnrecoverableError(message);
      throw error;
    } finally {
      cancellation.stop();
    }
  };
}
