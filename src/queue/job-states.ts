/**
 * The reading side of a run's jobs: the state of each table job (a split table's range jobs
 * merged into one), the workers connected, and the wait until the run settles.
 */
import type { Job } from 'bullmq';
import { isJoinedJobId, rangeLabelOf } from '../state/job-ids.js';
import {
  finalizeJobId,
  followJobId,
  type CopyProgress,
  type FinalizeProgress,
  type FollowProgress,
} from './contract.js';
import { jobIdsOf, type QueueHandles, type TableJobRef } from './run-queue.js';

/** State of one table job during a wait. */
export interface TableJobState {
  table: string;
  jobId: string;
  state: string;
  progress: CopyProgress | null;
  attemptsMade: number;
  failedReason: string | null;
  /** Quiet since (ISO time) and where: shown while the watchdog has not acted yet; null while moving. */
  stalled?: JobStall | null;
  /** Attempts the watchdog ended (no progress for the stall timeout). */
  watchdogAttempts?: number;
}

/** What a quiet job's progress says (jobs/watch-job.ts). */
interface JobStall {
  since: string;
  where: string;
}

/** A job's quiet mark, when its progress carries one. */
function stallOf(job: Job | undefined): JobStall | null {
  const p = job?.progress as { stalled?: JobStall } | undefined;
  return typeof p === 'object' && p !== null && p.stalled && job?.finishedOn === undefined ? p.stalled : null;
}

/** Attempts of a job ended by the watchdog: BullMQ keeps each failed attempt's stack, which names the error class. */
function watchdogAttemptsOf(job: Job | undefined): number {
  return (job?.stacktrace ?? []).filter((s) => typeof s === 'string' && s.startsWith('StallError')).length;
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

/** A follow job's last report, or null before its first. */
export function followProgressOf(job: Job | undefined): FollowProgress | null {
  const p = job?.progress;
  if (typeof p === 'object' && p !== null && 'eventsApplied' in p) return p as unknown as FollowProgress;
  return null;
}

function progressOf(job: Job | undefined): CopyProgress | null {
  const p = job?.progress;
  if (typeof p === 'object' && p !== null && 'rows' in p) return p as unknown as CopyProgress;
  return null;
}

async function readJob(queues: QueueHandles, table: string, jobId: string): Promise<TableJobState> {
  // A table that joined a following run has no copy job: its copy is complete (see joinedJobId).
  const job = isJoinedJobId(jobId) ? undefined : await queues.copy.getJob(jobId);
  const state = job ? await job.getState() : isJoinedJobId(jobId) ? 'completed' : 'missing';
  return {
    table,
    jobId,
    state,
    progress: progressOf(job),
    attemptsMade: job?.attemptsMade ?? 0,
    failedReason: job?.failedReason ?? null,
    stalled: state === 'active' ? stallOf(job) : null,
    watchdogAttempts: watchdogAttemptsOf(job),
  };
}

const STATE_RANK = [
  'failed',
  'missing',
  'active',
  'waiting-children',
  'prioritized',
  'waiting',
  'delayed',
  'completed',
];

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
          (acc, s) => ({
            rows: acc.rows + s.progress!.rows,
            total: acc.total + s.progress!.total,
            rowsPerSecond: acc.rowsPerSecond + (s.state === 'active' ? s.progress!.rowsPerSecond : 0),
          }),
          { rows: 0, total: 0, rowsPerSecond: 0 },
        );
  const failed = states.filter((s) => s.state === 'failed' && s.failedReason);
  const failedReason =
    failed.length === 0 ? null : failed.map((s) => `range ${rangeLabelOf(s.jobId)}: ${s.failedReason}`).join('; ');
  return {
    table,
    jobId,
    state,
    progress,
    attemptsMade: Math.max(0, ...states.map((s) => s.attemptsMade)),
    failedReason,
    stalled: states.find((s) => s.stalled)?.stalled ?? null,
    watchdogAttempts: states.reduce((n, s) => n + (s.watchdogAttempts ?? 0), 0),
  };
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

/** How often a wait reads the run's job states, ms. */
const WAIT_POLL_MS = 500;

/**
 * Waits until a run settles: finalize completed or failed, or every table job either completed
 * or failed for good (finalize then waits for a retry, so waiting longer would hang).
 */
export async function waitForRun(
  queues: QueueHandles,
  runId: string,
  tables: readonly TableJobRef[],
  options: {
    onTick?: (states: TableJobState[], finalize: FinalizeJobState) => void;
    /** How long Redis may stay unreachable before the wait gives up, ms. Default 300000. */
    outageMs?: number;
    /** Called on each failed poll while Redis is unreachable, and with null once it answers again. */
    onRedisTrouble?: (error: Error | null) => void;
    /** Stops the wait (it then rejects with the signal's reason). */
    signal?: AbortSignal;
    /** A `--follow` run: it settles when its follow job ends (after cutover), not finalize. */
    follow?: boolean;
    /** A `--follow` run's follower progress, on each poll while it follows. */
    onFollow?: (progress: FollowProgress) => void;
  } = {},
): Promise<RunSettlement> {
  const outageMs = options.outageMs ?? 300_000;
  // A completed job stays completed, so it is read once, not on every poll.
  const completed = new Map<string, TableJobState>();
  let troubleSince: number | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    let settlement: RunSettlement | undefined;
    try {
      settlement = await pollRun(
        queues,
        runId,
        tables,
        completed,
        options.onTick,
        options.follow ? (options.onFollow ?? (() => undefined)) : undefined,
      );
      if (troubleSince !== undefined) options.onRedisTrouble?.(null);
      troubleSince = undefined;
    } catch (error) {
      // The queue's server (Redis, or the target) restarted or the connection was cut: the jobs
      // live on there and in the workers, so keep polling until it answers again, within the
      // outage budget.
      troubleSince ??= Date.now();
      if (Date.now() - troubleSince > outageMs) {
        throw new Error(
          `${queues.backend.kind === 'redis' ? 'Redis has' : 'the queue (in the PostgreSQL target) has'} not answered for ${Math.round(outageMs / 1000)} s while waiting for run ${runId} (${(error as Error).message}); the run goes on without this wait: npx my2pg status ${runId}`,
        );
      }
      options.onRedisTrouble?.(error as Error);
    }
    if (settlement) return settlement;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
}

async function pollRun(
  queues: QueueHandles,
  runId: string,
  tables: readonly TableJobRef[],
  completed: Map<string, TableJobState>,
  onTick: ((states: TableJobState[], finalize: FinalizeJobState) => void) | undefined,
  /** Set for a `--follow` run: its follow job stands where finalize stands. */
  onFollow?: (progress: FollowProgress) => void,
): Promise<RunSettlement | undefined> {
  const finalize = onFollow
    ? await queues.copy.getJob(followJobId(runId))
    : await queues.finalize.getJob(finalizeJobId(runId));
  const followProgress = onFollow ? followProgressOf(finalize) : null;
  if (followProgress) onFollow?.(followProgress);
  const finalizeState = finalize ? await finalize.getState() : 'missing';
  const polled = await readTableJobs(
    queues,
    tables.filter((t) => !completed.has(t.jobId)),
  );
  for (const s of polled) if (s.state === 'completed') completed.set(s.jobId, s);
  const current = new Map(polled.map((s) => [s.jobId, s]));
  const states = tables.map((t) => completed.get(t.jobId) ?? current.get(t.jobId)!);
  onTick?.(states, { state: finalizeState, progress: finalizeProgressOf(finalize) });
  if (finalizeState === 'completed') {
    return { outcome: 'finished', tables: states, finalizeReason: null, finalizeResult: finalize?.returnvalue ?? null };
  }
  if (finalizeState === 'failed') {
    return {
      outcome: 'finalize-failed',
      tables: states,
      finalizeReason: finalize?.failedReason ?? null,
      finalizeResult: null,
    };
  }
  const settled = states.every((s) => s.state === 'completed' || s.state === 'failed' || s.state === 'missing');
  if (settled && states.some((s) => s.state === 'failed' || s.state === 'missing')) {
    return { outcome: 'tables-failed', tables: states, finalizeReason: null, finalizeResult: null };
  }
  if (finalizeState === 'missing' && tables.length === 0) {
    return {
      outcome: 'finalize-failed',
      tables: states,
      finalizeReason: 'the finalize job is missing from the queue',
      finalizeResult: null,
    };
  }
  return undefined;
}
