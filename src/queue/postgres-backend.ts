/**
 * The queues in the PostgreSQL target (BullMQ 6's PostgreSQL backend): jobs are rows in a
 * schema of their own (`MY2PG_QUEUE_SCHEMA`, default `my2pg_queue`), claimed with
 * `FOR UPDATE SKIP LOCKED`, and workers wait on LISTEN/NOTIFY. The target's URL is all a
 * worker on any host needs.
 */
import {
  createPostgresBackend,
  FlowProducer,
  Job,
  PostgresConnection,
  PostgresQueueBackend,
  Queue,
  Worker,
  type BackendFactory,
  type PostgresConnectionOptions,
  type PostgresPoolConfig,
} from 'bullmq';
import pg from 'pg';
import { UsageError } from '../core/errors.js';
import { redactUrl } from '../config/config.js';
import { qualifyPg } from '../dialect/postgres/quote.js';
import type { AnyQueue, OpenBackendOptions, QueueBackend } from './queue-backend.js';
import { sortTargets, targetFromRegistry, targetRegistryEntry, type TargetScope } from './target-scope.js';

/** PostgreSQL cuts application names at 63 bytes; BullMQ finds workers by theirs. */
const MAX_APPLICATION_NAME = 63;

/** The table (in the queue schema) listing every target whose queues live there, for the board. */
const REGISTRY_TABLE = 'my2pg_targets';

/**
 * The pool settings of one BullMQ connection: BullMQ pins the search path to the queue schema
 * and makes it on first use (its migrations take an advisory lock, so workers starting
 * together run them once). TCP keepalive finds a connection a restarted or lost server left.
 */
function poolConfig(url: string, schema: string, max: number): PostgresPoolConfig {
  return {
    connectionString: url,
    schema,
    migrate: true,
    max,
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
    // An idle pooled connection is closed after a while, so few stay open on the target.
    idleTimeoutMillis: 30_000,
  };
}

/**
 * Makes a backend append a job's log lines one after the other. BullMQ 6.7.6's PostgreSQL
 * `add_log` numbers a line `MAX(idx) + 1` without a lock, so two lines of one job sent at once
 * (finalize and the copy jobs log from parallel work) collide on the key and fail the job;
 * Redis's RPUSH cannot. Lines of one job come from the one process that holds it, so ordering
 * them here is enough.
 */
function withOrderedLogs<B extends PostgresQueueBackend>(backend: B): B {
  const addLog = backend.addLog.bind(backend);
  const tails = new Map<string, Promise<unknown>>();
  backend.addLog = (jobId, logRow, keepLogs) => {
    const previous = tails.get(jobId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => addLog(jobId, logRow, keepLogs));
    tails.set(jobId, next);
    // The chain of a job is forgotten once its last line is in.
    void next.finally(() => tails.get(jobId) === next && tails.delete(jobId)).catch(() => undefined);
    return next;
  };
  return backend;
}

/** A backend on the target database at `url`, queues in `schema`. */
export function openPostgresBackend(url: string, schema: string, options: OpenBackendOptions): QueueBackend {
  // Queues, the flow producer and the registry share one connection (a small pool); each
  // worker has its own, with the dedicated LISTEN connection BullMQ gives it.
  let shared: PostgresConnection | undefined;
  const connection = (): PostgresConnection => {
    if (!shared) {
      shared = new PostgresConnection(poolConfig(url, schema, 4));
      // Idle connections a target restart breaks are reported here; the pool opens new ones.
      shared.on('error', (error: Error) => options.onError?.(error));
    }
    return shared;
  };
  const sharing: BackendFactory<PostgresQueueBackend, PostgresConnectionOptions> = (name, opts) =>
    withOrderedLogs(new PostgresQueueBackend(connection(), name, opts, false));
  const owning: BackendFactory<PostgresQueueBackend, PostgresConnectionOptions> = (name, opts, factoryOptions) =>
    withOrderedLogs(createPostgresBackend(name, opts, factoryOptions));
  const opened: { close(): Promise<void> }[] = [];
  const handBackQueues = new Map<string, AnyQueue>();
  const qualifiedRegistry = qualifyPg(schema, REGISTRY_TABLE);
  const query = async (sql: string, params: unknown[] = []): Promise<pg.QueryResult> => {
    const c = connection();
    await c.waitUntilReady();
    return c.pool.query(sql, params) as Promise<pg.QueryResult>;
  };
  let closed: Promise<void> | undefined;
  return {
    kind: 'postgres',
    where: `PostgreSQL schema ${schema} of the target`,
    keyPrefix: '',
    queue(name, queueOptions) {
      const queue = new Queue(
        name,
        { connection: url, skipMetasUpdate: options.role === 'producer' || queueOptions?.readOnly === true },
        sharing,
      );
      queue.on('error', (error) => options.onError?.(error));
      opened.push(queue);
      return queue;
    },
    flowProducer() {
      const flow = new FlowProducer({ connection: url }, sharing);
      flow.on('error', (error) => options.onError?.(error));
      opened.push(flow);
      return flow;
    },
    worker(name, processor, settings) {
      // The worker's name goes into its LISTEN connection's application name after the queue
      // name; where the two do not fit, the worker stays unnamed so that it is still counted.
      const named = name.length + 3 + settings.name.length <= MAX_APPLICATION_NAME;
      return new Worker(
        name,
        processor,
        {
          connection: poolConfig(url, schema, Math.min(10, settings.concurrency + 2)),
          concurrency: settings.concurrency,
          ...(named ? { name: settings.name } : {}),
          stalledInterval: settings.stalledInterval,
          lockDuration: settings.lockDuration,
        },
        owning,
      );
    },
    async handBack(job, token) {
      // A worker's own connection is closing by then (a forced stop closes the workers first)
      // and would never answer: the job is moved through the shared connection instead.
      let queue = handBackQueues.get(job.queueName);
      if (!queue) {
        queue = this.queue(job.queueName);
        handBackQueues.set(job.queueName, queue);
      }
      const held = await Job.fromId(queue, String(job.id));
      await held?.moveToWait(token);
    },
    async registerTarget(scope) {
      await query(`CREATE TABLE IF NOT EXISTS ${qualifiedRegistry} (id text PRIMARY KEY, target jsonb NOT NULL)`);
      await query(
        `INSERT INTO ${qualifiedRegistry} (id, target) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET target = EXCLUDED.target`,
        [scope.id, JSON.stringify(targetRegistryEntry(scope))],
      );
    },
    async listTargets() {
      const present = await query('SELECT to_regclass($1) IS NOT NULL AS present', [qualifiedRegistry]);
      if (!present.rows[0]?.present) return [];
      const { rows } = await query(`SELECT id, target FROM ${qualifiedRegistry}`);
      return sortTargets(
        rows.map((r) => targetFromRegistry(String(r.id), r.target)).filter((t): t is TargetScope => t !== undefined),
      );
    },
    close() {
      closed ??= (async () => {
        await Promise.allSettled(opened.map((o) => o.close()));
        await shared?.close();
      })();
      return closed;
    },
  };
}

/**
 * Checks that the target answers; a UsageError with one clear line otherwise. The queue schema
 * is made by the first use of the queue (BullMQ's migrations), so a start refused before it
 * enqueues leaves the target as it was.
 */
export async function pingPostgresQueue(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new UsageError(
      `cannot connect to the PostgreSQL target ${redactUrl(url)} (it holds the queue): ${(error as Error).message}; start it, or set REDIS_URL / --redis for a Redis queue`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
