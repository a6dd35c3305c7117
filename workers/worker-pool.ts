import { hostname } from 'node:os';
import { WaitingError, type Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { createCopyTableProcessor } from '../jobs/copy-table.js';
import { createFinalizeProcessor } from '../jobs/finalize.js';
import { createFollowProcessor } from '../jobs/follow.js';
import { createFollowBackProcessor } from '../jobs/follow-back.js';
import { runWatchedJob } from '../jobs/watch-job.js';
import { FOLLOW_BACK_JOB, FOLLOW_JOB } from '../src/queue/contract.js';
import { must, type Config } from '../src/config/config.js';
import type { Logger } from '../src/core/log.js';
import { openQueueBackend } from '../src/queue/open-queue-backend.js';
import { evictionProblem, readEvictionPolicy, uncheckedNotice } from '../src/queue/redis-policy.js';
import { readTargetScope, type QueueNames } from '../src/queue/target-scope.js';
import { withPgClient } from '../src/dialect/postgres/connection.js';
import { WorkerStoppingError } from '../src/state/run-cancellation.js';
import { closeAll, openSource, openTarget } from '../src/run/open-databases.js';
import { checkWorkerFits } from '../src/run/worker-fit.js';
import { createShutdown, settleWithin } from '../src/core/shutdown.js';
import type { InProcessPool } from '../src/queue/in-process-pool.js';

/** Options of a worker process. */
export interface WorkerPoolOptions {
  concurrency: number;
  logger: Logger;
  /** Stalled-job check interval, ms; default `config.stalledIntervalMs`. */
  stalledIntervalMs?: number;
  /** Job lock duration, ms; default `config.lockDurationMs`. */
  lockDurationMs?: number;
  /** No progress this long fails a job's attempt, ms; default `config.stallTimeoutMs`. */
  stallTimeoutMs?: number;
  /**
   * The queues to work (a run's, as recorded); default: the queues of the configured target
   * and schema (`DATABASE_URL`, `MY2PG_SCHEMA`), which the pool then lists in the queue
   * backend's registry so that the board shows them.
   */
  queues?: QueueNames;
}

/**
 * Starts a copy worker (N concurrent tables) and a finalize worker on the configured services.
 * They take jobs from one target's queues only: a job of another target could not be done here.
 */
export async function startWorkerPool(config: Config, options: WorkerPoolOptions): Promise<InProcessPool> {
  const concurrency = Math.max(1, options.concurrency);
  const source: DataSource = await openSource(must(config.mysqlUrl, 'the MySQL source'), concurrency + 2);
  let target: DataSource;
  try {
    // Two more than the copies use: a follow job holds one for its lock and one for its batch.
    target = await openTarget(must(config.databaseUrl, 'the PostgreSQL target'), concurrency + 4);
  } catch (error) {
    await closeAll(source);
    throw error;
  }
  // Aborted by a forced shutdown, so that running copies roll back before the process goes.
  const shutdown = new AbortController();
  // Aborted when a graceful stop begins: copies finish, but a follower (which never finishes on
  // its own) stops at its last commit and hands its job back for another worker to go on.
  const draining = new AbortController();
  const context = { source, target, logger: options.logger, shutdown: shutdown.signal, draining: draining.signal };
  // Redis or the target restarting is survived: the connections come back, the jobs are where they were.
  const backend = openQueueBackend(config, {
    role: 'worker',
    onError: (error) =>
      options.logger.warn({ err: error.message, queue: config.queueBackend }, 'queue connection error'),
  });
  if (config.redisUrl !== undefined) {
    // A worker does not refuse (the run was checked at start), but says so at once.
    const policy = await readEvictionPolicy(config.redisUrl).catch(() => undefined);
    const problem = policy && (evictionProblem(config.redisUrl, policy) ?? uncheckedNotice(config.redisUrl, policy));
    if (problem !== undefined) options.logger.warn({ queue: 'redis' }, problem);
  }
  let queues: QueueNames;
  try {
    if (options.queues) {
      queues = options.queues;
    } else {
      const scope = await withPgClient(target, (client) => readTargetScope(client, config.schema));
      const misfit = await checkWorkerFits(source, target, config.schema);
      if (misfit !== undefined) options.logger.warn(misfit);
      await backend.registerTarget(scope);
      queues = scope.queues;
    }
  } catch (error) {
    await backend.close();
    await closeAll(source, target);
    throw error;
  }
  const common = {
    // Shown by Bull Board and CLIENT LIST / pg_stat_activity: which process holds a job.
    name: `${hostname()}:${process.pid}`,
    // A killed worker's jobs come back after the lock expires and the next stalled check runs.
    stalledInterval: options.stalledIntervalMs ?? config.stalledIntervalMs,
    lockDuration: options.lockDurationMs ?? config.lockDurationMs,
  };
  // Jobs in progress with their lock tokens, and their processors still running, so that a
  // forced shutdown can stop them and hand the jobs back.
  const active = new Map<string, { job: Job; token: string | undefined }>();
  // Set once the connections are closing: a job done after that cannot be recorded as completed.
  let released = false;
  const inflight = new Set<Promise<unknown>>();
  // Jobs being handed back by their processors: a forced stop waits for them before the
  // connections close (on PostgreSQL the move may first have to open one).
  const handingBack = new Set<Promise<unknown>>();
  const stallTimeoutMs = options.stallTimeoutMs ?? config.stallTimeoutMs;
  const tracked =
    <R>(processor: (job: Job) => Promise<R>) =>
    async (job: Job, token?: string): Promise<R> => {
      const key = `${job.queueName}:${job.id ?? ''}`;
      active.set(key, { job, token });
      const run = (async () => {
        if (shutdown.signal.aborted) throw shutdown.signal.reason;
        return runWatchedJob(job, stallTimeoutMs, options.logger, processor);
      })();
      inflight.add(run);
      try {
        const result = await run;
        // Done before the connection closes: BullMQ records it as completed.
        if (!shutdown.signal.aborted || !released) return result;
      } catch (error) {
        if (!shutdown.signal.aborted && !(draining.signal.aborted && error instanceof WorkerStoppingError)) throw error;
      } finally {
        inflight.delete(run);
        active.delete(key);
      }
      // Stopped by a forced shutdown (or taken while closing, or done after the connection
      // closed): back to the wait list under this worker's own lock. WaitingError tells BullMQ
      // the job was moved already, so it sends nothing more to the queue for it (a command that
      // fails on a closed connection is retried by BullMQ without pause, starving the event loop).
      const back = handBack([{ job, token }]);
      handingBack.add(back);
      await back.finally(() => handingBack.delete(back));
      throw new WaitingError();
    };
  // The copy queue holds a `--follow` run's follow job too (the parent of its copy jobs).
  const copyTable = createCopyTableProcessor(context);
  const follow = createFollowProcessor(context);
  const followBack = createFollowBackProcessor(context);
  const workers = [
    backend.worker(
      queues.copy,
      tracked<unknown>((job: Job) =>
        job.name === FOLLOW_JOB ? follow(job) : job.name === FOLLOW_BACK_JOB ? followBack(job) : copyTable(job),
      ),
      { ...common, concurrency },
    ),
    backend.worker(queues.finalize, tracked(createFinalizeProcessor(context)), { ...common, concurrency: 1 }),
  ];
  let shuttingDown = false;
  for (const worker of workers) {
    // What workers say while they are stopped at once is noise.
    worker.on('error', (error) => shuttingDown || options.logger.warn({ err: error.message }, 'worker error'));
    // Processors log their own failures at warn/error; this line is for the rest (a bad payload).
    worker.on('failed', (job, error) => options.logger.info({ jobId: job?.id, err: error.message }, 'job failed'));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  options.logger.info(
    { concurrency, queue: backend.where, queues: `${queues.copy}, ${queues.finalize}` },
    'workers ready',
  );

  // Puts jobs back in the wait list at once, so another worker takes them now instead of
  // after the lock expires. Their copies were stopped and rolled back (or die with this
  // process), and every table job starts with TRUNCATE, so the next attempt starts clean.
  async function handBack(jobs: readonly { job: Job; token: string | undefined }[]): Promise<void> {
    await Promise.allSettled(
      jobs.map(async ({ job, token }) => {
        try {
          await backend.handBack(job, token);
          options.logger.warn({ jobId: job.id, queue: job.queueName }, 'shutdown: job handed back to the queue');
        } catch (error) {
          // Its lock expires instead, and the stalled-job check gives it to another worker.
          options.logger.warn(
            { jobId: job.id, queue: job.queueName, err: (error as Error).message },
            'shutdown: the job could not be handed back; another worker takes it once its lock expires',
          );
        }
      }),
    );
  }
  const stop = createShutdown({
    drain: async () => {
      draining.abort(new WorkerStoppingError());
      await Promise.allSettled(workers.map((w) => w.close()));
    },
    abort: async () => {
      options.logger.warn('forcing worker shutdown');
      shuttingDown = true;
      // Closing first: no new fetch starts. One already under way may still take a job (BullMQ
      // moves the next job to active when its blocking wait ends); its processor starts
      // stopped and hands it back at once.
      const closed = Promise.allSettled(workers.map((w) => w.close(true)));
      // Running copies stop, roll back and hand their jobs back themselves (see tracked).
      shutdown.abort(new WorkerStoppingError());
      await settleWithin([...inflight], 3000);
      await settleWithin([...handingBack], 5000);
      // Those that did not stop in time (a processor stuck in a server call): handed back from here.
      const stuck = [...active.values()];
      active.clear();
      await settleWithin([handBack(stuck)], 5000);
      await settleWithin([closed], 1000);
    },
    // After a forced stop, the pools are not waited for long: they wait for checked-out
    // connections (a running COPY) before they end, and the servers roll those back anyway.
    release: async () => {
      released = true;
      await closeAll(source, target);
      await settleWithin([backend.close()], 2000);
    },
  });
  return {
    queues,
    close: (graceMs = 30_000) => stop.close(graceMs),
    forceClose: () => stop.force(),
  };
}
