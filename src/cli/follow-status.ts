import type { DataSource } from 'typeorm';
import { followJobId } from '../queue/contract.js';
import { followProgressOf } from '../queue/job-states.js';
import type { QueueHandles } from '../queue/run-queue.js';
import type { RunRow } from '../state/entities.js';
import { getFollow } from '../state/follow-state.js';
import type { LiveFigures } from '../verify/live-figures.js';

/** Where a `--follow` run's follower stands, for `status` and `status --json`. */
export interface FollowStatus {
  /** copying, following, held (at a schema change, until resumed), stopped (for good) or done (cut over). */
  status: string;
  /** The follow job's state in the queue (waiting-children while tables copy). */
  jobState: string;
  /** Binary log position of the last commit. */
  file: string;
  position: number;
  eventsApplied: number;
  eventsPerSecond: number | null;
  eventsPending: number | null;
  bytesBehind: number | null;
  lagSeconds: number | null;
  /** Verification while following: tables verified, keys waiting for re-verification (null before its first report). */
  verification: LiveFigures | null;
  /** Source time of the last event applied. */
  lastEventAt: Date | null;
  error: string | null;
  /** While held: the schema change it is held at (table, statement, file, position, reason). */
  held: Record<string, unknown> | null;
  /** The last cutover's outcome. */
  cutover: Record<string, unknown> | null;
}

/** The follower of a run, or null for a run without --follow. */
export async function readFollowStatus(
  target: DataSource,
  queues: QueueHandles,
  run: RunRow,
): Promise<FollowStatus | null> {
  if (!run.options.follow) return null;
  const row = await getFollow(target, run.id);
  if (!row) return null;
  const job = await queues.copy.getJob(followJobId(run.id));
  const jobState = job ? await job.getState() : 'missing';
  const progress = followProgressOf(job);
  const live = jobState === 'active' && progress !== null;
  return {
    status: row.status,
    jobState,
    file: row.binlogFile,
    position: Number(row.binlogPosition),
    eventsApplied: Number(row.eventsApplied),
    eventsPerSecond: live ? progress.eventsPerSecond : null,
    eventsPending: live ? progress.eventsPending : null,
    bytesBehind: live ? progress.bytesBehind : null,
    lagSeconds: live ? progress.lagSeconds : null,
    verification: live ? (progress.verification ?? null) : null,
    lastEventAt: row.lastEventAt,
    error: row.error ?? (jobState === 'failed' ? (job?.failedReason ?? null) : null),
    held: row.held ?? null,
    cutover: row.cutover,
  };
}

/** The follower in one line for `status`. */
export function formatFollowStatus(f: FollowStatus, runId: string): string {
  if (f.status === 'held') return `follow: ${f.error ?? 'held at a schema change'}`;
  if (f.status === 'stopped' || f.jobState === 'failed')
    return `follow: stopped for good at ${f.file}:${f.position} after ${f.eventsApplied} events: ${f.error ?? 'no reason recorded'}`;
  if (f.status === 'done') return `follow: done, ${f.eventsApplied} events applied; ${describeCutover(f.cutover)}`;
  if (f.status === 'copying')
    return `follow: waiting for the copy to complete; it then applies the binary log from ${f.file}:${f.position}`;
  const lag =
    f.lagSeconds === null
      ? 'lag unknown (is a worker running?)'
      : `lag ${f.lagSeconds} s, ${f.eventsPending} events pending${f.bytesBehind !== null && f.bytesBehind >= 0 ? `, ${f.bytesBehind} bytes of binary log unread` : ''}`;
  const last = f.cutover ? `; last ${describeCutover(f.cutover)}` : '';
  const v = f.verification;
  const verified = v
    ? `; verified while following: ${v.tablesVerified}/${v.tables} tables, ${v.keysWaiting} changed keys to re-verify${v.keysDiffering > 0 ? `, ${v.keysDiffering} differing` : ''}${v.keysOutside > 0 ? `, ${v.keysOutside} written in PostgreSQL outside the follower` : ''}`
    : '';
  return `follow: following at ${f.file}:${f.position}, ${f.eventsApplied} events applied${f.eventsPerSecond === null ? '' : ` (${f.eventsPerSecond}/s)`}, ${lag}${verified}${last}; switch with: npx my2pg cutover ${runId} --wait`;
}

/** `cutover go at binlog.000001:123, writes frozen for 0.3 s`, from the recorded outcome. */
function describeCutover(cutover: Record<string, unknown> | null): string {
  if (!cutover) return 'not cut over';
  const frozen =
    typeof cutover.frozenMs === 'number' ? `, writes frozen for ${(cutover.frozenMs / 1000).toFixed(1)} s` : '';
  return `cutover ${cutover.go ? 'go' : 'no-go'} at ${String(cutover.file)}:${String(cutover.position)}${frozen}`;
}
