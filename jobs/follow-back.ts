import { UnrecoverableError, type Job } from 'bullmq';
import { describeError, PermanentError } from '../src/core/errors.js';
import { waitingAt } from '../src/core/watchdog.js';
import { backTablesOf } from '../src/fallback/back-tables.js';
import { followBack } from '../src/fallback/reverse-follower.js';
import { FOLLOW_BACK_JOB, followPayloadSchema } from '../src/queue/contract.js';
import { getFallback, setFallbackStatus } from '../src/state/fallback-state.js';
import { RunCancelledError, WorkerStoppingError } from '../src/state/run-cancellation.js';
import { forgetRunCatalog, runCatalogOf } from '../src/state/run-catalog.js';
import type { JobContext } from './context.js';
import { validatePayload } from './validate-payload.js';

/** The way back's processor: applies PostgreSQL's changes to MySQL from cutover's go until fallback or finish. */
export function createFollowBackProcessor(context: JobContext) {
  return async function processFollowBack(job: Job): Promise<{ ended: 'done' }> {
    const payload = validatePayload(followPayloadSchema, job.data, FOLLOW_BACK_JOB);
    const log = context.logger.child({ runId: payload.runId, table: '(follow-back)', jobId: job.id });
    forgetRunCatalog(payload.runId);
    const catalog = await runCatalogOf(context.source, context.target, payload.runId);
    if (!catalog) throw new UnrecoverableError(`run ${payload.runId} is not recorded in this worker's target database`);
    const state = await getFallback(context.target, payload.runId);
    // A new attempt after a stop for good is a retry: the operator fixed what stopped it.
    if (state?.status === 'stopped') await setFallbackStatus(context.target, payload.runId, 'following');
    await job.log(`attempt ${job.attemptsMade + 1}: following PostgreSQL back to MySQL`);
    waitingAt('starting the way back: it has not reported its first progress');
    try {
      const ended = await followBack({
        runId: payload.runId,
        source: context.source,
        target: context.target,
        tables: await backTablesOf(context.target, catalog.run, catalog),
        signal: AbortSignal.any([context.shutdown, context.draining].filter((s): s is AbortSignal => s !== undefined)),
        onProgress: (progress) => job.updateProgress(progress as unknown as object),
        onLog: (line) => job.log(line).then(() => undefined),
      });
      await job.log(`the way back ended: ${ended}`);
      return { ended };
    } catch (error) {
      const message = describeError(error);
      if (error instanceof WorkerStoppingError) {
        await job.log('stopped: this worker is shutting down; the job goes back to the queue').catch(() => undefined);
        throw error;
      }
      log.error({ err: message }, 'follow-back failed');
      await job.log(`failed: ${message}`).catch(() => undefined);
      if (error instanceof RunCancelledError || error instanceof PermanentError) throw new UnrecoverableError(message);
      throw error;
    }
  };
}
