import { settleWithin } from '../core/shutdown.js';
import {
  COPY_TABLE_JOB,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  FINALIZE_JOB,
  finalizeJobId,
  FOLLOW_ATTEMPTS,
  FOLLOW_BACKOFF_MS,
  FOLLOW_BACK_JOB,
  FOLLOW_JOB,
  followBackJobId,
  followJobId,
  type FollowPayload,
  type CopyTablePayload,
  type FinalizePayload,
} from './contract.js';
import type { AnyFlowProducer, AnyQueue, QueueBackend } from './queue-backend.js';
import type { QueueNames } from './target-scope.js';

/** The producer side of one target's queues: what `start`, `status`, `retry` and `--wait` use. */
export interface QueueHandles {
  readonly copy: AnyQueue;
  readonly finalize: AnyQueue;
  readonly flow: AnyFlowProducer;
  names: QueueNames;
  /** The backend the queues are on (for the target registry). */
  backend: QueueBackend;
  close(): Promise<void>;
}

/**
 * A target's copy and finalize queues and a flow producer on the backend's shared connection,
 * each made on first use: a command that ends before it needs the queue (a refused `start`)
 * sends nothing to it, so it leaves no key in Redis and no queue schema in the target.
 */
export function openQueues(backend: QueueBackend, names: QueueNames): QueueHandles {
  let copy: AnyQueue | undefined;
  let finalize: AnyQueue | undefined;
  let flow: AnyFlowProducer | undefined;
  let closed: Promise<void> | undefined;
  return {
    get copy() {
      copy ??= backend.queue(names.copy);
      return copy;
    },
    get finalize() {
      finalize ??= backend.queue(names.finalize);
      return finalize;
    },
    get flow() {
      flow ??= backend.flowProducer();
      return flow;
    },
    names,
    backend,
    close() {
      closed ??= (async () => {
        const opened = [copy, finalize, flow].filter((o) => o !== undefined);
        // BullMQ sends a few commands when a queue is created and reports their failure as an
        // 'error' event; closing while one is in flight would raise it after close() removed
        // the listeners. Let them settle first (briefly: the queue's server may be gone).
        await settleWithin(
          opened.map((o) => o.waitUntilReady()),
          2000,
        );
        await Promise.allSettled(opened.map((o) => o.close()));
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

/**
 * Adds a run's flow: parent finalize, one copy-table child per table. Same ids, same flow:
 * idempotent. A `--follow` run's parent is its follow job instead (in the copy queue): it
 * starts once every table is copied, and finalize is run by `my2pg cutover`.
 */
export async function enqueueRun(
  queues: QueueHandles,
  run: {
    runId: string;
    targetSchema: string;
    batchSize: number;
    tables: (TableJobRef & {
      targetTable: string;
      columns?: string[] | undefined;
      ranges?: { jobId: string; column: string; from: string | null; to: string | null }[] | undefined;
    })[];
    /** A `--follow` run's recorded start (its follow job then stands where finalize does); absent or null otherwise. */
    follow?: object | null | undefined;
  },
  attempts = DEFAULT_ATTEMPTS,
): Promise<void> {
  const backoff = { type: 'exponential', delay: DEFAULT_BACKOFF_MS };
  const finalizeData: FinalizePayload = { runId: run.runId, targetSchema: run.targetSchema };
  const followData: FollowPayload = { runId: run.runId, targetSchema: run.targetSchema };
  const parent = run.follow
    ? {
        name: FOLLOW_JOB,
        queueName: queues.names.copy,
        data: followData,
        opts: {
          jobId: followJobId(run.runId),
          attempts: FOLLOW_ATTEMPTS,
          backoff: { type: 'fixed', delay: FOLLOW_BACKOFF_MS },
        },
      }
    : {
        name: FINALIZE_JOB,
        queueName: queues.names.finalize,
        data: finalizeData,
        opts: { jobId: finalizeJobId(run.runId), attempts, backoff },
      };
  await queues.flow.add({
    ...parent,
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
        return [
          { name: COPY_TABLE_JOB, queueName: queues.names.copy, data, opts: { jobId: t.jobId, attempts, backoff } },
        ];
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

/** At cutover's go of a `--fallback` run: the way back's job (one per run: its id is the run's). Idempotent. */
export async function enqueueFollowBack(queues: QueueHandles, runId: string, targetSchema: string): Promise<void> {
  const data: FollowPayload = { runId, targetSchema };
  await queues.copy.add(FOLLOW_BACK_JOB, data, {
    jobId: followBackJobId(runId),
    attempts: FOLLOW_ATTEMPTS,
    backoff: { type: 'fixed', delay: FOLLOW_BACKOFF_MS },
  });
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
  // A --follow run's follower that gave up (its attempts spent on a lost connection) resumes
  // from its last commit; one stopped for good by DDL fails again at once, saying why.
  const follow = await queues.copy.getJob(followJobId(runId));
  if (follow && (await follow.getState()) === 'failed' && !only) {
    await follow.retry('failed');
    retried.push('(follow)');
  }
  const back = await queues.copy.getJob(followBackJobId(runId));
  if (back && (await back.getState()) === 'failed' && !only) {
    await back.retry('failed');
    retried.push('(follow-back)');
  }
  return { retried, skipped };
}
