import type { Job } from 'bullmq';
import type { DataSource } from 'typeorm';
import { UsageError } from '../core/errors.js';
import { restoreConstraints, type RestoredConstraint } from '../finalize/restore-constraints.js';
import { restoreTriggers } from '../finalize/restore-triggers.js';
import { finalizeJobId, followJobId } from '../queue/contract.js';
import { jobIdsOf, type QueueHandles, type TableJobRef } from '../queue/run-queue.js';
import type { RunRow, RunStatus } from '../state/entities.js';
import { markRunCancelled, recordCancelSummary } from '../state/runs.js';
import { listRunTables, markTablesCancelled } from '../state/run-tables.js';
import { forgetLiveState } from '../state/live-tables.js';
import { dropRunWriteGuards } from '../follow/write-guard.js';

/** What `cancel` did. */
export interface CancelOutcome {
  /** `running`, or `cancelled` when an earlier cancel is finished off. */
  previousStatus: RunStatus;
  /** Jobs taken out of Redis. */
  removedJobs: number;
  /** Jobs that were running, stopped by their workers. */
  stoppedJobs: string[];
  /** Jobs a worker still held when the wait ended; constraints are then left for the next cancel. */
  stuckJobs: string[];
  /** The indexes and foreign keys restored (empty when jobs were stuck). */
  constraints: RestoredConstraint[];
  /** Tables my2pg created for the run: they stay, with what was copied into them. */
  createdTables: string[];
  /** A --follow run's tables whose write guards were dropped (empty when a cancel before did it). */
  unguardedTables: string[];
}

/** How often a cancel looks at the jobs it stops, ms. */
const CANCEL_POLL_MS = 250;

/** Options of a cancel. */
export interface CancelOptions {
  /** How long running jobs get to stop (their worker notices within a second or so; a dead worker's lock expires), ms. */
  stopWaitMs: number;
  /** Progress lines for the operator. */
  say(line: string): void;
}

async function stateOf(job: Job | undefined): Promise<string> {
  return job ? await job.getState() : 'missing';
}

/**
 * Cancels a run: marks it `cancelled` first (a job of it then refuses to start, and a running
 * one sees it within a second, stops and rolls back), removes its jobs from Redis once none
 * is locked (finalize with its children in one step, then any left), and restores every index
 * and foreign key the run saved and dropped. A foreign key that rows copied so far violate is
 * left in place NOT VALID. A --follow run's write guards are dropped and its change log cleared.
 * Safe to repeat: a second cancel finishes what the first left.
 */
export async function cancelRun(
  target: DataSource,
  queues: QueueHandles,
  run: RunRow,
  refs: readonly TableJobRef[],
  options: CancelOptions,
): Promise<CancelOutcome> {
  // The flow's parent: finalize, or a --follow run's follow job (in the copy queue), whose
  // running follower sees the cancellation within a second and stops.
  const parentId = run.options.follow ? followJobId(run.id) : finalizeJobId(run.id);
  const parentJob = (): Promise<Job | undefined> =>
    run.options.follow ? queues.copy.getJob(parentId) : queues.finalize.getJob(parentId);
  const finalize = run.options.follow ? undefined : await parentJob();
  if (run.status === 'running' && (await stateOf(finalize)) === 'active') {
    throw new UsageError(
      `run ${run.id} is finalizing (restoring its constraints and verifying), so it is not cancelled; wait for it: npx my2pg status ${run.id}`,
    );
  }
  const previousStatus = await markRunCancelled(target, run.id);
  if (previousStatus === null)
    throw new UsageError(
      `run ${run.id} has finished meanwhile; nothing was cancelled; see it with: npx my2pg status ${run.id}`,
    );

  const copyJobs = new Map<string, string>(refs.flatMap((ref) => jobIdsOf(ref).map((id) => [id, ref.table] as const)));
  const present = new Set<string>();
  const asked = new Set<string>();
  let parentSeen = false;
  const deadline = Date.now() + options.stopWaitMs;
  for (;;) {
    const left: string[] = [];
    for (const [id, table] of copyJobs) {
      const job = await queues.copy.getJob(id);
      if (!job) continue;
      present.add(id);
      left.push(id);
      if ((await job.getState()) === 'active' && !asked.has(id)) {
        asked.add(id);
        options.say(`table ${table}: job ${id} is running; asked to stop (its transaction rolls back)`);
      }
    }
    const parent = await parentJob();
    if (parent) parentSeen = true;
    // The parent first, with its children in the same script. Children go one by one only
    // beside a parent that a locked (running) child still holds back, so BullMQ never sees the
    // parent without pending children and moves it to the wait list.
    const jobs: Job[] = [
      ...(parent ? [parent] : []),
      ...(await Promise.all(left.map((id) => queues.copy.getJob(id)))).filter((j): j is Job => j !== undefined),
    ];
    for (const job of jobs) {
      try {
        await job.remove();
      } catch {
        // locked by a worker that has not stopped yet: next round
      }
    }
    const remaining: string[] = [];
    for (const id of left) if (await queues.copy.getJob(id)) remaining.push(id);
    const parentLeft = (await parentJob()) !== undefined;
    if (remaining.length === 0 && !parentLeft) break;
    if (Date.now() > deadline) {
      const stuckJobs = remaining.length > 0 ? remaining : [parentId];
      await recordCancelSummary(target, run.id, {
        runId: run.id,
        cancelledAt: new Date().toISOString(),
        problems: [`jobs still held by a worker: ${stuckJobs.join(', ')}; run npx my2pg cancel ${run.id} again`],
      });
      const removedJobs = present.size - remaining.length + (parentSeen && !parentLeft ? 1 : 0);
      return {
        previousStatus,
        removedJobs,
        stoppedJobs: [...asked].filter((id) => !remaining.includes(id)),
        stuckJobs,
        constraints: [],
        createdTables: [],
        unguardedTables: [],
      };
    }
    await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
  }
  const removedJobs = present.size + (parentSeen ? 1 : 0);

  // No follower runs any more: the application's writes to the tables are nobody's business now.
  const unguardedTables = run.options.follow ? await dropRunWriteGuards(target, run.targetSchema, run.id) : [];
  if (run.options.follow) await forgetLiveState(target, run.id);
  const constraints = [...(await restoreConstraints(target, run.id)), ...(await restoreTriggers(target, run.id))];
  await markTablesCancelled(target, run.id);
  const tables = await listRunTables(target, run.id);
  const problems = constraints
    .filter((c) => c.status === 'failed' || c.status === 'violated')
    .map(
      (c) =>
        `${kindWord(c.kind)} ${c.name} on ${c.table}: ${c.status === 'violated' ? 'restored NOT VALID: ' : ''}${c.error ?? c.status}`,
    );
  await recordCancelSummary(target, run.id, {
    runId: run.id,
    cancelledAt: new Date().toISOString(),
    removedJobs,
    stoppedJobs: [...asked],
    constraints,
    problems,
  });
  return {
    previousStatus,
    removedJobs,
    stoppedJobs: [...asked],
    stuckJobs: [],
    constraints,
    createdTables: tables.filter((t) => t.action === 'create').map((t) => t.targetTable),
    unguardedTables,
  };
}

function kindWord(kind: RestoredConstraint['kind']): string {
  return kind === 'foreign_key' ? 'foreign key' : kind === 'check' ? 'CHECK' : kind;
}

/** The lines `cancel` prints: what it removed, stopped and restored, and what comes next. */
export function describeCancelOutcome(runId: string, outcome: CancelOutcome): string[] {
  const lines: string[] = [];
  lines.push(
    `removed ${outcome.removedJobs} jobs of run ${runId} from Redis${outcome.stoppedJobs.length > 0 ? `; stopped ${outcome.stoppedJobs.length} running: ${outcome.stoppedJobs.join(', ')}` : ''}`,
  );
  if (outcome.stuckJobs.length > 0) {
    lines.push(
      `still held by a worker that did not stop: ${outcome.stuckJobs.join(', ')}; its constraints are not restored yet; run again: npx my2pg cancel ${runId} --yes`,
    );
    lines.push(`run ${runId}: cancelled, not finished`);
    return lines;
  }
  const count = (...kinds: RestoredConstraint['kind'][]): number =>
    outcome.constraints.filter((c) => kinds.includes(c.kind) && c.status !== 'failed').length;
  const extra = [
    count('check') > 0 ? `${count('check')} CHECK constraints` : '',
    count('trigger') > 0 ? `${count('trigger')} triggers` : '',
  ].filter(Boolean);
  lines.push(
    `restored ${count('index')} indexes and ${count('foreign_key')} foreign keys${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`,
  );
  for (const c of outcome.constraints) {
    if (c.status === 'violated') {
      lines.push(
        `${kindWord(c.kind)} ${c.name} on ${c.table} is back NOT VALID: rows copied so far break it (${c.error ?? ''}); a new run validates it`,
      );
    } else if (c.status === 'failed') {
      lines.push(
        `could not restore ${kindWord(c.kind)} ${c.name} on ${c.table}: ${c.error ?? 'unknown error'}; its definition stays in my2pg.saved_constraints and a new run restores it`,
      );
    }
  }
  if (outcome.unguardedTables.length > 0)
    lines.push(
      `write guards dropped from ${outcome.unguardedTables.length} table${outcome.unguardedTables.length === 1 ? '' : 's'}: ${outcome.unguardedTables.join(', ')}; the run's change log is cleared`,
    );
  if (outcome.createdTables.length > 0)
    lines.push(`tables this run created stay in place: ${outcome.createdTables.join(', ')}`);
  lines.push(
    `run ${runId}: cancelled${outcome.previousStatus === 'cancelled' ? ' (finished an earlier cancel)' : ''}; start a new run with: npx my2pg run`,
  );
  return lines;
}
