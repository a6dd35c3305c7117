import { FlowProducer, Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis, disconnectRedis, producerRedisOptions } from './connection.js';
import { settleWithin } from '../core/shutdown.js';
import {
  COPY_TABLE_JOB,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  FINALIZE_JOB,
  finalizeJobId,
  type CopyProgress,
  type CopyTablePayload,
  type FinalizePayload,
  type FinalizeProgress,
} from './contract.js';
import type { QueueNames } from './target-scope.js';

/** The producer side of one target's queues: what `start`, `status`, `retry` and `--wait` use. */
export interface QueueHandles {
  copy: Queue;
  finalize: Queue;
  flow: FlowProducer;
  names: QueueNames;
  /** The connection the queues share (for the target registry). */
  redis: Redis;
  close(): Promise<void>;
}

/** Opens a target's copy and finalize queues and a flow producer on one fail-fast connection. */
export function openQueues(redisUrl: string, prefix: string, names: QueueNames): QueueHandles {
  const connection: Redis = connectRedis(redisUrl, producerRedisOptions());
  // Every failure reaches the command that sent it as a rejection (fail-fast options); the
  // 'error' events only repeat them, and one without a listener would crash the process.
  connection.on('error', () => undefined);
  // A Queue writes its meta hash on creation; a start refused before it enqueues must leave
  // no key in Redis, so producers skip it (missing meta means defaults to BullMQ).
  const copy = new Queue(names.copy, { connection, prefix, skipMetasUpdate: true });
  const finalize = new Queue(names.finalize, { connection, prefix, skipMetasUpdate: true });
  const flow = new FlowProducer({ connection, prefix });
  copy.on('error', () => undefined);
  finalize.on('error', () => undefined);
  flow.on('error', () => undefined);
  let closed: Promise<void> | undefined;
  return {
    copy,
    finalize,
    flow,
    names,
    redis: connection,
    close() {
      closed ??= (async () => {
        // BullMQ sends a few commands when a queue is created and reports their failure as an
        // 'error' event; disconnecting while one is in flight would raise it after close()
        // removed the listeners, crashing a command that had succeeded. Let them settle first
        // (briefly: Redis may be gone), then quit politely.
        await settleWithin([copy.waitUntilReady(), finalize.waitUntilReady(), flow.waitUntilReady()], 2000);
        await Promise.allSettled([copy.close(), finalize.close(), flow.close()]);
        await settleWithin([connection.quit()], 1000);
        disconnectRedis(connection);
      })();
      return closed;
    },
  };
}

/** A table job of a run as the queue knows it. */
export interface TableJobRef {
  table: string;
  jobId: string;
  /** The key-range jobs of a split table; absent = the table is the one job `jobId`. */
  rangeJobIds?: string[] | undefined;
}

/** Every BullMQ job id of a table. */
export function jobIdsOf(ref: TableJobRef): string[] {
  return ref.rangeJobIds && ref.rangeJobIds.length > 0 ? ref.rangeJobIds : [ref.jobId];
}

/** Adds a run's flow: parent finalize, one copy-table child per table. Same ids, same flow: idempotent. */
export async function enqueueRun(
  queues: QueueHandles,
  run: {
    runId: string;
    targetSchema: string;
    batchSize: number;
    tables: (TableJobRef & { targetTable: string; columns?: string[] | undefined; ranges?: { jobId: string; column: string; from: string | null; to: string | null }[] | undefined })[];
  },
  attempts = DEFAULT_ATTEMPTS,
): Promise<void> {
  const backoff = { type: 'exponential', delay: DEFAULT_BACKOFF_MS };
  const finalizeData: FinalizePayload = { runId: run.runId, targetSchema: run.targetSchema };
  await queues.flow.add({
    name: FINALIZE_JOB,
    queueName: queues.names.finalize,
    data: finalizeData,
    opts: { jobId: finalizeJobId(run.runId), attempts, backoff },
    // A split table gives one child per key range: each is retried alone, and several
    // workers copy the table at once. Biggest ranges of different tables interleave by order.
    children: run.tables.flatMap((t) => {
      const data: CopyTablePayload = {
        runId: run.runId,
        table: t.table,
        targetTable: t.targetTable,
        targetSchema: run.targetSchema,
        batchSize: run.batchSize,
        ...(t.columns ? { columns: t.columns } : {}),
      };
      if (!t.ranges || t.ranges.length <= 1) {
        return [{ name: COPY_TABLE_JOB, queueName: queues.names.copy, data, opts: { jobId: t.jobId, attempts, backoff } }];
      }
      const count = t.ranges.length;
      return t.ranges.map((r, index) => ({
        name: COPY_TABLE_JOB,
        queueName: queues.names.copy,
        data: { ...data, range: { column: r.column, from: r.from, to: r.to, index, count } } satisfies CopyTablePayload,
        opts: { jobId: r.jobId, attempts, backoff },
      }));
    }),
  });
}

/** State of one table job during a wait. */
export interface TableJobState {
  table: string;
  jobId: string;
  state: string;
  progress: CopyProgress | null;
  attemptsMade: number;
  failedReason: string | null;
}

/** How a run settled. */
export interface RunSettlement {
  /** `finished`: finalize completed. `tables-failed`: some table failed for good. `finalize-failed`. */
  outcome: 'finished' | 'tables-failed' | 'finalize-failed';
  tables: TableJobState[];
  finalizeReason: string | null;
  finalizeResult: unknown;
}

/** The finalize job of a run during a wait: its state and the phase it reported last. */
export interface FinalizeJobState {
  state: string;
  progress: FinalizeProgress | null;
}

function finalizeProgressOf(job: Job | undefined): FinalizeProgress | null {
  const p = job?.progress;
  if (typeof p === 'object' && p !== null && 'phase' in p) return p as unknown as FinalizeProgress;
  return null;
}

/**
 * How many workers are connected to a target's copy queue (BullMQ names each worker's
 * blocking connection `prefix:base64(queue)`, and lists them with CLIENT LIST), or null when
 * this Redis does not tell (CLIENT LIST disabled or refused by an ACL).
 */
export async function countWorkers(queues: QueueHandles): Promise<number | null> {
  try {
    const workers = await queues.copy.getWorkers();
    // BullMQ's stand-in answer where CLIENT is not a command (Google Memorystore).
    if (workers.some((w) => w.name === 'GCP does not support client list')) return null;
    return workers.length;
  } catch {
    // CLIENT LIST refused (an ACL) or Redis away: the answer is "unknown", as documented above.
    return null;
  }
}

function progressOf(job: Job | undefined): CopyProgress | null {
  const p = job?.progress;
  if (typeof p === 'object' && p !== null && 'rows' in p) return p as unknown as CopyProgress;
  return null;
}

async function readJob(queues: QueueHandles, table: string, jobId: string): Promise<TableJobState> {
  const job = await queues.copy.getJob(jobId);
  const state = job ? await job.getState() : 'missing';
  return { table, jobId, state, progress: progressOf(job), attemptsMade: job?.attemptsMade ?? 0, failedReason: job?.failedReason ?? null };
}

const STATE_RANK = ['failed', 'missing', 'active', 'waiting-children', 'prioritized', 'waiting', 'delayed', 'completed'];

/**
 * One state for a split table from its range jobs: the most urgent state wins (failed, then
 * active, then waiting; completed only when all are), rows are summed, attempts the most.
 */
export function mergeRangeStates(table: string, jobId: string, states: readonly TableJobState[]): TableJobState {
  if (states.length === 1) return { ...states[0]!, table, jobId };
  const rank = (s: string): number => {
    const i = STATE_RANK.indexOf(s);
    return i < 0 ? STATE_RANK.indexOf('waiting') : i;
  };
  const state = states.map((s) => s.state).reduce((a, b) => (rank(b) < rank(a) ? b : a), 'completed');
  const withProgress = states.filter((s) => s.progress !== null);
  const progress: CopyProgress | null =
    withProgress.length === 0
      ? null
      : withProgress.reduce<CopyProgress>(
          (acc, s) => ({ rows: acc.rows + s.progress!.rows, total: acc.total + s.progress!.total, rowsPerSecond: acc.rowsPerSecond + (s.state === 'active' ? s.progress!.rowsPerSecond : 0) }),
          { rows: 0, total: 0, rowsPerSecond: 0 },
        );
  const failed = states.filter((s) => s.state === 'failed' && s.failedReason);
  const failedReason = failed.length === 0 ? null : failed.map((s) => `range ${s.jobId.slice(s.jobId.lastIndexOf('.') + 1)}: ${s.failedReason}`).join('; ');
  return { table, jobId, state, progress, attemptsMade: Math.max(0, ...states.map((s) => s.attemptsMade)), failedReason };
}

/** Reads the state of every table job of a run (a split table's range jobs merged into one). */
export async function readTableJobs(queues: QueueHandles, tables: readonly TableJobRef[]): Promise<TableJobState[]> {
  return Promise.all(
    tables.map(async (t) => {
      const states = await Promise.all(jobIdsOf(t).map((id) => readJob(queues, t.table, id)));
      return mergeRangeStates(t.table, t.jobId, states);
    }),
  );
}

/**
 * Waits until a run settles: finalize completed or failed, or every table job either completed
 * or failed for good (finalize then waits for a retry, so waiting longer would hang).
 */
export async function waitForRun(
  queues: QueueHandles,
  runId: string,
  tables: readonly TableJobRef[],
  options: {
    pollMs?: number;
    onTick?: (states: TableJobState[], finalize: FinalizeJobState) => void;
    /** How long Redis may stay unreachable before the wait gives up, ms. Default 300000. */
    outageMs?: number;
    /** Called on each failed poll while Redis is unreachable, and with null once it answers again. */
    onRedisTrouble?: (error: Error | null) => void;
    /** Stops the wait (it then rejects with the signal's reason). */
    signal?: AbortSignal;
  } = {},
): Promise<RunSettlement> {
  const pollMs = options.pollMs ?? 500;
  const outageMs = options.outageMs ?? 300_000;
  // A completed job stays completed, so it is read once, not on every poll.
  const completed = new Map<string, TableJobState>();
  let troubleSince: number | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    let settlement: RunSettlement | undefined;
    try {
      settlement = await pollRun(queues, runId, tables, completed, options.onTick);
      if (troubleSince !== undefined) options.onRedisTrouble?.(null);
      troubleSince = undefined;
    } catch (error) {
      // Redis restarted or the connection was cut: the jobs live on in Redis and in the
      // workers, so keep polling until it answers again, within the outage budget.
      troubleSince ??= Date.now();
      if (Date.now() - troubleSince > outageMs) {
        throw new Error(`Redis has not answered for ${Math.round(outageMs / 1000)} s while waiting for run ${runId} (${(error as Error).message}); the run goes on without this wait: npx my2pg status ${runId}`);
      }
      options.onRedisTrouble?.(error as Error);
    }
    if (settlement) return settlement;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function pollRun(
  queues: QueueHandles,
  runId: string,
  tables: readonly TableJobRef[],
  completed: Map<string, TableJobState>,
  onTick: ((states: TableJobState[], finalize: FinalizeJobState) => void) | undefined,
): Promise<RunSettlement | undefined> {
  const finalize = await queues.finalize.getJob(finalizeJobId(runId));
  const finalizeState = finalize ? await finalize.getState() : 'missing';
  const polled = await readTableJobs(queues, tables.filter((t) => !completed.has(t.jobId)));
  for (const s of polled) if (s.state === 'completed') completed.set(s.jobId, s);
  const current = new Map(polled.map((s) => [s.jobId, s]));
  const states = tables.map((t) => completed.get(t.jobId) ?? current.get(t.jobId)!);
  onTick?.(states, { state: finalizeState, progress: finalizeProgressOf(finalize) });
  if (finalizeState === 'completed') {
    return { outcome: 'finished', tables: states, finalizeReason: null, finalizeResult: finalize?.returnvalue ?? null };
  }
  if (finalizeState === 'failed') {
    return { outcome: 'finalize-failed', tables: states, finalizeReason: finalize?.failedReason ?? null, finalizeResult: null };
  }
  const settled = states.every((s) => s.state === 'completed' || s.state === 'failed' || s.state === 'missing');
  if (settled && states.some((s) => s.state === 'failed' || s.state === 'missing')) {
    return { outcome: 'tables-failed', tables: states, finalizeReason: null, finalizeResult: null };
  }
  if (finalizeState === 'missing' && tables.length === 0) {
    return { outcome: 'finalize-failed', tables: states, finalizeReason: 'the finalize job is missing from Redis', finalizeResult: null };
  }
  return undefined;
}

/**
 * Re-queues a run's failed table jobs (all, or the named tables) and a failed finalize. Returns
 * what was retried and, for named tables, why any was not.
 */
export async function retryFailedJobs(
  queues: QueueHandles,
  runId: string,
  tables: readonly TableJobRef[],
  only?: readonly string[],
): Promise<{ retried: string[]; skipped: { table: string; state: string }[] }> {
  const retried: string[] = [];
  const skipped: { table: string; state: string }[] = [];
  for (const ref of tables) {
    if (only && !only.includes(ref.table)) continue;
    // Only the failed ranges of a split table go back; completed ranges stay as they are.
    let any = false;
    const states: string[] = [];
    for (const jobId of jobIdsOf(ref)) {
      const job = await queues.copy.getJob(jobId);
      const state = job ? await job.getState() : 'missing';
      states.push(state);
      if (job && state === 'failed') {
        await job.retry('failed');
        any = true;
      }
    }
    if (any) retried.push(ref.table);
    else if (only) skipped.push({ table: ref.table, state: [...new Set(states)].join('/') });
  }
  const finalize = await queues.finalize.getJob(finalizeJobId(runId));
  if (finalize && (await finalize.getState()) === 'failed') {
    await finalize.retry('failed');
    retried.push('(finalize)');
  }
  return { retried, skipped };
}
