import { FlowProducer, Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { connectRedis, producerRedisOptions } from './connection.js';
import {
  COPY_QUEUE,
  COPY_TABLE_JOB,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  FINALIZE_JOB,
  FINALIZE_QUEUE,
  finalizeJobId,
  type CopyProgress,
  type CopyTablePayload,
  type FinalizePayload,
} from './contract.js';

/** The producer side of the queues: what `start`, `status`, `retry` and `--wait` use. */
export interface QueueHandles {
  copy: Queue;
  finalize: Queue;
  flow: FlowProducer;
  close(): Promise<void>;
}

/** Opens the copy and finalize queues and a flow producer on one fail-fast connection. */
export function openQueues(redisUrl: string, prefix: string): QueueHandles {
  const connection: Redis = connectRedis(redisUrl, producerRedisOptions());
  connection.on('error', () => undefined);
  // A Queue writes its meta hash on creation; a start refused before it enqueues must leave
  // no key in Redis, so producers skip it (missing meta means defaults to BullMQ).
  const copy = new Queue(COPY_QUEUE, { connection, prefix, skipMetasUpdate: true });
  const finalize = new Queue(FINALIZE_QUEUE, { connection, prefix, skipMetasUpdate: true });
  const flow = new FlowProducer({ connection, prefix });
  copy.on('error', () => undefined);
  finalize.on('error', () => undefined);
  flow.on('error', () => undefined);
  let closed: Promise<void> | undefined;
  return {
    copy,
    finalize,
    flow,
    close() {
      closed ??= (async () => {
        await Promise.allSettled([copy.close(), finalize.close(), flow.close()]);
        connection.disconnect();
      })();
      return closed;
    },
  };
}

/** A table job of a run as the queue knows it. */
export interface TableJobRef {
  table: string;
  jobId: string;
}

/** Adds a run's flow: parent finalize, one copy-table child per table. Same ids, same flow: idempotent. */
export async function enqueueRun(
  queues: QueueHandles,
  run: { runId: string; targetSchema: string; batchSize: number; tables: (TableJobRef & { targetTable: string; columns?: string[] | undefined })[] },
  attempts = DEFAULT_ATTEMPTS,
): Promise<void> {
  const backoff = { type: 'exponential', delay: DEFAULT_BACKOFF_MS };
  const finalizeData: FinalizePayload = { runId: run.runId, targetSchema: run.targetSchema };
  await queues.flow.add({
    name: FINALIZE_JOB,
    queueName: FINALIZE_QUEUE,
    data: finalizeData,
    opts: { jobId: finalizeJobId(run.runId), attempts, backoff },
    children: run.tables.map((t) => {
      const data: CopyTablePayload = {
        runId: run.runId,
        table: t.table,
        targetTable: t.targetTable,
        targetSchema: run.targetSchema,
        batchSize: run.batchSize,
        ...(t.columns ? { columns: t.columns } : {}),
      };
      return { name: COPY_TABLE_JOB, queueName: COPY_QUEUE, data, opts: { jobId: t.jobId, attempts, backoff } };
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

function progressOf(job: Job | undefined): CopyProgress | null {
  const p = job?.progress;
  if (typeof p === 'object' && p !== null && 'rows' in p) return p as unknown as CopyProgress;
  return null;
}

/** Reads the state of every table job of a run. */
export async function readTableJobs(queues: QueueHandles, tables: readonly TableJobRef[]): Promise<TableJobState[]> {
  return Promise.all(
    tables.map(async (t) => {
      const job = await queues.copy.getJob(t.jobId);
      const state = job ? await job.getState() : 'missing';
      return { table: t.table, jobId: t.jobId, state, progress: progressOf(job), attemptsMade: job?.attemptsMade ?? 0, failedReason: job?.failedReason ?? null };
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
    onTick?: (states: TableJobState[]) => void;
    /** How long Redis may stay unreachable before the wait gives up, ms. Default 300000. */
    outageMs?: number;
    /** Called on each failed poll while Redis is unreachable, and with null once it answers again. */
    onRedisTrouble?: (error: Error | null) => void;
  } = {},
): Promise<RunSettlement> {
  const pollMs = options.pollMs ?? 500;
  const outageMs = options.outageMs ?? 300_000;
  // A completed job stays completed, so it is read once, not on every poll.
  const completed = new Map<string, TableJobState>();
  let troubleSince: number | undefined;
  for (;;) {
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
  onTick: ((states: TableJobState[]) => void) | undefined,
): Promise<RunSettlement | undefined> {
  const finalize = await queues.finalize.getJob(finalizeJobId(runId));
  const finalizeState = finalize ? await finalize.getState() : 'missing';
  const polled = await readTableJobs(queues, tables.filter((t) => !completed.has(t.jobId)));
  for (const s of polled) if (s.state === 'completed') completed.set(s.jobId, s);
  const current = new Map(polled.map((s) => [s.jobId, s]));
  const states = tables.map((t) => completed.get(t.jobId) ?? current.get(t.jobId)!);
  onTick?.(states);
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
    const job = await queues.copy.getJob(ref.jobId);
    const state = job ? await job.getState() : 'missing';
    if (job && state === 'failed') {
      await job.retry('failed');
      retried.push(ref.table);
    } else if (only) {
      skipped.push({ table: ref.table, state });
    }
  }
  const finalize = await queues.finalize.getJob(finalizeJobId(runId));
  if (finalize && (await finalize.getState()) === 'failed') {
    await finalize.retry('failed');
    retried.push('(finalize)');
  }
  return { retried, skipped };
}
