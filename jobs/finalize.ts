import { UnrecoverableError, type Job } from 'bullmq';
import { finalizeRun, type FinalizeSummary } from '../src/finalize/finalize-run.js';
import { describeError } from '../src/core/errors.js';
import { isPermanentError } from '../src/dialect/driver-errors.js';
import { FINALIZE_JOB, finalizePayloadSchema, type CopyTableResult } from '../src/queue/contract.js';
import { RunCancelledError } from '../src/state/run-cancellation.js';
import { getRunStatus } from '../src/state/runs.js';
import type { JobContext } from './context.js';
import { validatePayload } from './validate-payload.js';

/** The finalize processor: runs once every copy-table child has completed. */
export function createFinalizeProcessor(context: JobContext) {
  return async function processFinalize(job: Job): Promise<FinalizeSummary> {
    const payload = validatePayload(finalizePayloadSchema, job.data, FINALIZE_JOB);
    const log = context.logger.child({ runId: payload.runId, table: '(finalize)', jobId: job.id });
    // A run cancelled while its last table completed: cancel restores the constraints itself.
    if ((await getRunStatus(context.target, payload.runId)) === 'cancelled')
      throw new UnrecoverableError(new RunCancelledError(payload.runId).message);
    log.info('finalize started');
    try {
      // Each copy job's return value: the verification and indexes it did after its copy.
      const children = await job.getChildrenValues<CopyTableResult>();
      // getChildrenValues keys are `<prefix>:<queue>:<job id>` (Redis) or `<queue>:<job id>` (PostgreSQL); job ids never hold ':'.
      const copyResults = new Map(
        Object.entries(children).map(([key, value]) => [key.slice(key.lastIndexOf(':') + 1), value]),
      );
      const summary = await finalizeRun(
        context.source,
        context.target,
        payload.runId,
        (line) => job.log(line).then(() => undefined),
        {
          copyResults,
          // The phase and step, for Bull Board and the CLI's progress line.
          onProgress: (progress) => job.updateProgress(progress as unknown as object),
        },
      );
      log.info({ verified: summary.verified, problems: summary.problems }, 'finalize finished');
      return summary;
    } catch (error) {
      const message = describeError(error);
      log.error({ err: message }, 'finalize failed');
      // The job's log line is a courtesy: the error thrown below is what BullMQ records.
      await job.log(`failed: ${message}`).catch(() => undefined);
      if (isPermanentError(error)) throw new UnrecoverableError(message);
      throw error;
    }
  };
}
