import { hostname } from 'node:os';
import { Job, Queue, Worker } from 'bullmq';
import type { DataSource } from 'typeorm';
import { createCopyTableProcessor } from '../jobs/copy-table.js';
import { createFinalizeProcessor } from '../jobs/finalize.js';
import { must, type Config } from '../src/config.js';
import type { Logger } from '../src/log.js';
import { connectRedis, producerRedisOptions, workerRedisOptions } from '../src/queue/connection.js';
import { readTargetScope, registerTarget, type QueueNames } from '../src/queue/target-scope.js';
import { withPgClient } from '../src/db/postgres.js';
import { closeAll, openSource, openTarget } from '../src/services.js';

/** Running workers of one process. */
export interface WorkerPool {
  /** Stops taking jobs, lets active ones finish within `graceMs`, then forces. Safe to call twice. */
  close(graceMs?: number): Promise<void>;
  /** Forces the close now (second signal). */
  forceClose(): Promise<void>;
  /** The queues this pool takes jobs from. */
  queues: QueueNames;
}

/** Options of a worker process. */
export interface WorkerPoolOptions {
  concurrency: number;
  logger: Logger;
  /** Stalled-job check interval, ms; default `config.stalledIntervalMs`. */
  stalledIntervalMs?: number;
  /** Job lock duration, ms; default `config.lockDurationMs`. */
  lockDurationMs?: number;
  /**
   * The queues to work (a run's, as recorded); default: the queues of the configured target
   * and schema (`DATABASE_URL`, `MY2PG_SCHEMA`), which the pool then lists in the Redis
   * registry so that the board shows them.
   */
  queues?: QueueNames;
}

/**
 * Starts a copy worker (N concurrent tables) and a finalize worker on the configured services.
 * They take jobs from one target's queues only: a job of another target could not be done here.
 */
export async function startWorkerPool(config: Config, options: WorkerPoolOptions): Promise<WorkerPool> {
  const concurrency = Math.max(1, options.concurrency);
  const source: DataSource = await openSource(must(config.mysqlUrl, 'the MySQL source'), concurrency + 2);
  let target: DataSource;
  try {
    target = await openTarget(must(config.databaseUrl, 'the PostgreSQL target'), concurrency + 2);
  } catch (error) {
    await closeAll(source);
    throw error;
  }
  const context = { source, target, logger: options.logger };
  const connection = connectRedis(config.redisUrl, workerRedisOptions());
  connection.on('error', (error) => options.logger.warn({ err: error.message }, 'redis connection error'));
  let queues: QueueNames;
  try {
    if (options.queues) {
      queues = options.queues;
    } else {
      const scope = await withPgClient(target, (client) => readTargetScope(client, config.schema));
      await registerTarget(connection, config.queuePrefix, scope);
      queues = scope.queues;
    }
  } catch (error) {
    connection.disconnect();
    await closeAll(source, target);
    throw error;
  }
  const common = {
    connection,
    prefix: config.queuePrefix,
    // Shown by Bull Board and CLIENT LIST: which process holds a job.
    name: `${hostname()}:${process.pid}`,
    // A killed worker's jobs come back after the lock expires and the next stalled check runs.
    stalledInterval: options.stalledIntervalMs ?? config.stalledIntervalMs,
    lockDuration: options.lockDurationMs ?? config.lockDurationMs,
  };
  // Jobs in progress with their lock tokens, so a forced shutdown can hand them back.
  const active = new Map<string, { job: Job; token: string | undefined }>();
  const tracked = <R>(processor: (job: Job) => Promise<R>) =>
    async (job: Job, token?: string): Promise<R> => {
      const key = `${job.queueName}:${job.id ?? ''}`;
      active.set(key, { job, token });
      try {
        return await processor(job);
      } finally {
        active.delete(key);
      }
    };
  const workers = [
    new Worker(queues.copy, tracked(createCopyTableProcessor(context)), { ...common, concurrency }),
    new Worker(queues.finalize, tracked(createFinalizeProcessor(context)), { ...common, concurrency: 1 }),
  ];
  let shuttingDown = false;
  for (const worker of workers) {
    // A forced shutdown cuts the connection under the workers; what they say then is noise.
    worker.on('error', (error) => shuttingDown || options.logger.warn({ err: error.message }, 'worker error'));
    // Processors log their own failures at warn/error; this line is for the rest (a bad payload).
    worker.on('failed', (job, error) => options.logger.info({ jobId: job?.id, err: error.message }, 'job failed'));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  options.logger.info({ concurrency, prefix: config.queuePrefix, queues: `${queues.copy}, ${queues.finalize}` }, 'workers ready');

  let closing: Promise<void> | undefined;
  let forced: Promise<void> | undefined;
  const release = async (): Promise<void> => {
    await closeAll(source, target);
    connection.disconnect();
  };
  // Puts the jobs still running back in the wait list at once, so another worker takes them
  // now instead of after the lock expires. Their transactions die with this process, and
  // every table job starts with TRUNCATE, so the next attempt starts clean. On a connection
  // of its own: the workers' one is cut first (see forceClose).
  const handBack = async (): Promise<void> => {
    const jobs = [...active.values()];
    active.clear();
    if (jobs.length === 0) return;
    const fresh = connectRedis(config.redisUrl, producerRedisOptions());
    fresh.on('error', () => undefined);
    try {
      await Promise.allSettled(
        jobs.map(async ({ job, token }) => {
          const queue = new Queue(job.queueName, { connection: fresh, prefix: config.queuePrefix, skipMetasUpdate: true });
          try {
            const current = await Job.fromId(queue, job.id ?? '');
            if (!current) return;
            await current.moveToWait(token);
            options.logger.warn({ jobId: job.id, queue: job.queueName }, 'shutdown: job handed back to the queue');
          } finally {
            await queue.close().catch(() => undefined);
          }
        }),
      );
    } finally {
      fresh.disconnect();
    }
  };
  const forceClose = (): Promise<void> => {
    forced ??= (async () => {
      options.logger.warn('forcing worker shutdown');
      shuttingDown = true;
      const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
      // Cut the workers' connection first: a closing worker may still finish a fetch it had
      // started (BullMQ moves the next job to active after its blocking wait ends), and would
      // take a handed-back job again at once, keeping it locked after this process is gone.
      connection.disconnect();
      await bounded(Promise.allSettled(workers.map((w) => w.close(true))));
      await handBack();
      // Pools wait for checked-out connections (a running COPY) before they end; a forced
      // close does not: the process exits and the servers roll the transactions back.
      await bounded(release());
    })();
    return forced;
  };
  return {
    queues,
    close(graceMs = 30_000) {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const graceful = Promise.allSettled(workers.map((w) => w.close())).then(() => 'done' as const);
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), graceMs);
        });
        const outcome = await Promise.race([graceful, timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout') await forceClose();
        else await release();
      })();
      return closing;
    },
    forceClose,
  };
}
