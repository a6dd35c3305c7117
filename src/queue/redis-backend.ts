/** The queues in Redis: one shared ioredis connection per process role, keys under a prefix. */
import { FlowProducer, Queue, Worker } from 'bullmq';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { settleWithin } from '../core/shutdown.js';
import { connectRedis, disconnectRedis, producerRedisOptions, workerRedisOptions } from './connection.js';
import type { OpenBackendOptions, QueueBackend, QueueRole } from './queue-backend.js';
import { sortTargets, targetFromRegistry, targetRegistryEntry, type TargetScope } from './target-scope.js';

function optionsFor(role: QueueRole): RedisOptions {
  if (role === 'worker') return workerRedisOptions();
  if (role === 'producer') return producerRedisOptions();
  // The board is long-lived and reconnects forever, but a request fails after one retry.
  return { maxRetriesPerRequest: 1, enableReadyCheck: true, retryStrategy: (times) => Math.min(times * 500, 5000) };
}

/** The Redis hash listing every target's queues under a prefix, so that the board finds them. */
function targetRegistryKey(prefix: string): string {
  return `${prefix}:my2pg-targets`;
}

/** A backend on the Redis at `url`, every key under `prefix`. */
export function openRedisBackend(url: string, prefix: string, options: OpenBackendOptions): QueueBackend {
  const connection: Redis | Cluster = connectRedis(url, optionsFor(options.role));
  // Every failure reaches the command that sent it as a rejection; the 'error' events only
  // repeat them, and one without a listener would crash the process.
  connection.on('error', (error: Error) => options.onError?.(error));
  const opened: { waitUntilReady(): Promise<unknown>; close(): Promise<void> }[] = [];
  let closed: Promise<void> | undefined;
  return {
    kind: 'redis',
    where: `Redis, prefix ${prefix}`,
    keyPrefix: `${prefix}:`,
    queue(name, queueOptions) {
      // A Queue writes its meta hash on creation; a start refused before it enqueues must
      // leave no key in Redis, so producers skip it (missing meta means defaults to BullMQ).
      const queue = new Queue(name, {
        connection,
        prefix,
        skipMetasUpdate: options.role === 'producer' || queueOptions?.readOnly === true,
      });
      queue.on('error', (error) => options.onError?.(error));
      opened.push(queue);
      return queue;
    },
    flowProducer() {
      const flow = new FlowProducer({ connection, prefix });
      flow.on('error', (error) => options.onError?.(error));
      opened.push(flow);
      return flow;
    },
    worker(name, processor, settings) {
      return new Worker(name, processor, {
        connection,
        prefix,
        concurrency: settings.concurrency,
        name: settings.name,
        stalledInterval: settings.stalledInterval,
        lockDuration: settings.lockDuration,
      });
    },
    async handBack(job, token) {
      // The workers share this backend's connection, which stays open until close().
      await job.moveToWait(token);
    },
    async registerTarget(scope) {
      await connection.hset(targetRegistryKey(prefix), scope.id, JSON.stringify(targetRegistryEntry(scope)));
    },
    async listTargets() {
      const entries = await connection.hgetall(targetRegistryKey(prefix));
      return sortTargets(
        Object.entries(entries)
          .map(([id, raw]) => targetFromRegistry(id, raw))
          .filter((t): t is TargetScope => t !== undefined),
      );
    },
    close() {
      closed ??= (async () => {
        // BullMQ sends a few commands when a queue is created and reports their failure as an
        // 'error' event; disconnecting while one is in flight would raise it after close()
        // removed the listeners, crashing a command that had succeeded. Let them settle first
        // (briefly: Redis may be gone), then quit politely.
        await settleWithin(
          opened.map((o) => o.waitUntilReady()),
          2000,
        );
        await Promise.allSettled(opened.map((o) => o.close()));
        await settleWithin([connection.quit()], 1000);
        disconnectRedis(connection);
      })();
      return closed;
    },
  };
}
