import type { DataSource } from 'typeorm';
import { pgPoolOf, type PoolClient } from '../dialect/postgres/connection.js';
import { UsageError } from '../core/errors.js';
import { readTableJobs } from '../queue/job-states.js';
import type { QueueHandles } from '../queue/run-queue.js';
import { finalizeJobId, followJobId } from '../queue/contract.js';
import { queuesOfRun, type QueueNames } from '../queue/target-scope.js';
import { tableJobRefs } from '../state/job-ids.js';
import { listRunningRuns } from '../state/runs.js';
import { listRunTableJobs } from '../state/run-tables.js';

// First half of the two-key advisory lock; the second is the schema's hash. Any constant
// works as long as every my2pg process uses the same one.
const START_LOCK_KEY = 0x6d793273; // "my2s"

/** Opens (or reuses) the queues of one target: each run's jobs are in its target's queues. */
export type QueuesFor = (names: QueueNames) => QueueHandles;

/** Held by `start` from the check until its flow is enqueued. */
export interface RunGuard {
  /** Releases the lock; safe to call twice. */
  release(): Promise<void>;
}

/** A run of the same target schema that still has work queued or running. */
interface ActiveRun {
  runId: string;
  createdAt: Date;
  tablesDone: number;
  tables: number;
}

// Job states in which a job still will (or may) run without anyone's help.
const LIVE_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'paused', 'waiting-children', 'wait']);

/**
 * Finds a run of `schema` that is still active: recorded as running in `my2pg.runs` and with
 * a job in Redis that will still run (a follow job that is following is one). A run whose remaining tables all failed for good waits
 * for an operator's retry and does not block a new start; neither does a run whose jobs are
 * gone from Redis (a `start` that died before enqueueing).
 */
async function findActiveRun(
  client: PoolClient,
  queuesFor: QueuesFor,
  schema: string,
  exceptRunId?: string,
): Promise<ActiveRun | undefined> {
  for (const run of await listRunningRuns(client, schema)) {
    if (run.id === exceptRunId) continue;
    const queues = queuesFor(queuesOfRun(run.options));
    // The flow's parent: finalize, or a --follow run's follow job (following is work under way).
    const parent = run.options.follow
      ? await queues.copy.getJob(followJobId(run.id))
      : await queues.finalize.getJob(finalizeJobId(run.id));
    const parentState = parent ? await parent.getState() : 'missing';
    if (!LIVE_STATES.has(parentState)) continue;
    // A split table's jobs are its key ranges; its own id names no job.
    const jobs = await readTableJobs(queues, tableJobRefs(await listRunTableJobs(client, run.id), run.options.ranges));
    // The parent runs only when every child completed; with no live child it waits for a retry.
    const live = parentState !== 'waiting-children' || jobs.some((j) => LIVE_STATES.has(j.state));
    if (live) {
      return {
        runId: run.id,
        createdAt: run.createdAt,
        tables: jobs.length,
        tablesDone: jobs.filter((j) => j.state === 'completed').length,
      };
    }
  }
  return undefined;
}

/** What the guard is held for: a new run, or work on an existing run X (which may be active itself). */
export interface GuardPurpose {
  /** The run being retried, resumed or cancelled. */
  of: string;
  action: 'retry' | 'resume' | 'cancel';
}

const PURPOSE_WORDS: Record<GuardPurpose['action'], { doing: string; nothing: string }> = {
  retry: { doing: 'retrying', nothing: 'nothing was retried' },
  resume: { doing: 'resuming', nothing: 'nothing was resumed' },
  cancel: { doing: 'cancelling', nothing: 'nothing was cancelled' },
};

/**
 * Makes sure no other run fills the same target schema: takes a PostgreSQL advisory lock for
 * the schema (so two `start`s cannot both pass the check), then refuses when a run of that
 * schema is still active. Two runs would truncate each other's tables. A `retry`, `resume` or
 * `cancel` of run X passes it as `purpose`: X itself may be active, any other run may not; a
 * `cancel` holds the lock until it has restored X's constraints, so that no start adopts them
 * halfway.
 */
export async function guardRunStart(
  target: DataSource,
  queuesFor: QueuesFor,
  schema: string,
  purpose?: GuardPurpose,
): Promise<RunGuard> {
  const doing = purpose ? `${PURPOSE_WORDS[purpose.action].doing} run ${purpose.of}` : 'a second run';
  const nothing = purpose ? PURPOSE_WORDS[purpose.action].nothing : 'nothing was enqueued';
  const client = await pgPoolOf(target).connect();
  let locked = false;
  const release = async (): Promise<void> => {
    if (locked) {
      locked = false;
      // A session lock: if unlocking fails the connection is broken, and PostgreSQL drops the lock with it.
      await client
        .query('SELECT pg_advisory_unlock($1, hashtext($2))', [START_LOCK_KEY, schema])
        .catch(() => undefined);
    }
    client.release();
  };
  let released: Promise<void> | undefined;
  const guard: RunGuard = { release: () => (released ??= release()) };
  try {
    const got = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [
      START_LOCK_KEY,
      schema,
    ]);
    locked = Boolean(got.rows[0]?.locked);
    if (!locked) {
      throw new UsageError(
        `another my2pg start is preparing a run for schema ${JSON.stringify(schema)} in this target right now; ${nothing}. Wait for it, then see its run with: npx my2pg status`,
      );
    }
    const active = await findActiveRun(client, queuesFor, schema, purpose?.of);
    if (active) {
      throw new UsageError(
        `run ${active.runId} (started ${active.createdAt.toISOString()}, ${active.tablesDone}/${active.tables} tables copied) is still active on schema ${JSON.stringify(schema)}; ${doing} would truncate the same tables, so ${nothing}. Finish it with: npx my2pg resume ${active.runId} (or wait for its workers: npx my2pg status ${active.runId}), or stop it and restore its constraints with: npx my2pg cancel ${active.runId}`,
      );
    }
  } catch (error) {
    await guard.release();
    throw error;
  }
  return guard;
}
