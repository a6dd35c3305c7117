import { UnrecoverableError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { describeError, PermanentError } from '../src/core/errors.js';
import { waitingAt } from '../src/core/watchdog.js';
import { mysqlTlsOptions } from '../src/dialect/mysql/tls.js';
import { FollowedCatalog } from '../src/follow/followed-catalog.js';
import { followRun, type FollowEnd } from '../src/follow/follower.js';
import { prepareForCutover } from '../src/follow/prepare-cutover.js';
import { FOLLOW_JOB, followPayloadSchema } from '../src/queue/contract.js';
import { RunCancelledError, WorkerStoppingError } from '../src/state/run-cancellation.js';
import { getFollow, setFollowStatus } from '../src/state/follow-state.js';
import { forgetRunCatalog, runCatalogOf } from '../src/state/run-catalog.js';
import { listRunTables } from '../src/state/run-tables.js';
import { copyPoliciesOf } from '../src/state/run-options.js';
import type { JobContext } from './context.js';
import { validatePayload } from './validate-payload.js';

/** The mysql2 options of the source's binary log connection, from the source DataSource's URL. */
function sourceConnectionOf(source: DataSource): Record<string, unknown> {
  const url = (source.options as { url?: string }).url;
  if (!url) throw new PermanentError('the source has no URL to open its binary log connection with');
  const parsed = new URL(url);
  const ssl = mysqlTlsOptions(url);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    ...(ssl ? { ssl } : {}),
  };
}

/** The follow processor: applies the binary log from the run's last commit until cutover. */
export function createFollowProcessor(context: JobContext) {
  return async function processFollow(job: Job): Promise<{ ended: FollowEnd }> {
    const payload = validatePayload(followPayloadSchema, job.data, FOLLOW_JOB);
    const log = context.logger.child({ runId: payload.runId, table: '(follow)', jobId: job.id });
    /** The run's tables as recorded now, and their follower (again after they changed: a table joined or was renamed). */
    const followOnce = async (): Promise<FollowEnd> => {
      forgetRunCatalog(payload.runId);
      const runCatalog = await runCatalogOf(context.source, context.target, payload.runId);
      const run = runCatalog?.run;
      if (!runCatalog || !run)
        throw new UnrecoverableError(`run ${payload.runId} is not recorded in this worker's target database`);
      if (run.status === 'cancelled') throw new UnrecoverableError(new RunCancelledError(payload.runId).message);
      const follow = run.options.follow;
      if (!follow) throw new UnrecoverableError(`run ${payload.runId} was not started with --follow`);
      const policies = copyPoliciesOf(run.options);
      // Shared by the follower and verification while following: a schema change shows in both.
      const catalog = new FollowedCatalog(runCatalog);
      const tables = new Map(
        (await listRunTables(context.target, payload.runId)).map((t) => [
          t.tableName,
          {
            key: follow.keys[t.tableName] ?? [],
            input: {
              runId: payload.runId,
              table: t.tableName,
              targetTable: t.targetTable,
              targetSchema: run.targetSchema,
              columns: run.options.columns?.[t.tableName],
              batchSize: run.options.batchSize ?? 10_000,
              ...policies,
              where: run.options.where?.[t.tableName],
              naming: run.options.naming,
            },
          },
        ]),
      );
      const verifier = await prepareForCutover(
        context.source,
        context.target,
        run,
        catalog,
        [...tables].map(([table, t]) => ({ table, targetTable: t.input.targetTable, key: t.key })),
        (line) => job.log(line).then(() => undefined),
      );
      const ended = await followRun({
        runId: payload.runId,
        source: context.source,
        target: context.target,
        catalog,
        sourceConnection: sourceConnectionOf(context.source),
        database: run.sourceDatabase,
        onDdl: run.options.onDdl,
        tables,
        signal: AbortSignal.any([context.shutdown, context.draining].filter((s): s is AbortSignal => s !== undefined)),
        onProgress: (progress) => job.updateProgress(progress as unknown as object),
        onLog: (line) => job.log(line).then(() => undefined),
        verifier,
      });
      return ended;
    };
    await job.log(`attempt ${job.attemptsMade + 1}: following the binary log`);
    waitingAt('starting the follower: it has not reported its first progress');
    log.info({ attempt: job.attemptsMade + 1 }, 'follow started');
    try {
      let ended = await followOnce();
      while (ended === 'tables-changed') {
        await job.log(
          "the run's tables changed (a table joined or was renamed): following again with them as recorded now",
        );
        ended = await followOnce();
      }
      await job.log(`follow ended: ${ended}`);
      log.info({ ended }, 'follow ended');
      return { ended };
    } catch (error) {
      const message = describeError(error);
      if (error instanceof WorkerStoppingError) {
        // The pool hands the job back to the queue: another worker goes on from the last commit.
        log.warn('follow stopped: this worker is shutting down');
        await job.log('stopped: this worker is shutting down; the job goes back to the queue').catch(() => undefined);
        throw error;
      }
      log.error({ err: message }, 'follow failed');
      await job.log(`failed: ${message}`).catch(() => undefined);
      if (error instanceof RunCancelledError) throw new UnrecoverableError(message);
      if (error instanceof PermanentError) {
        // Kept for status and cutover: the follower stopped for good, and why.
        const state = await getFollow(context.target, payload.runId).catch(() => null);
        if (state && state.status !== 'stopped' && state.status !== 'held')
          await setFollowStatus(context.target, payload.runId, 'stopped', message).catch(() => undefined);
        throw new UnrecoverableError(message);
      }
      throw error;
    }
  };
}
