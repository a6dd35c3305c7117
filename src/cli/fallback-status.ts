import type { DataSource } from 'typeorm';
import { followBackJobId, type FollowBackProgress } from '../queue/contract.js';
import type { QueueHandles } from '../queue/run-queue.js';
import type { RunRow } from '../state/entities.js';
import { getFallback } from '../state/fallback-state.js';

/** WAL a slot may hold before status warns (the issue's --max-retained default). */
const RETAINED_WARNING_BYTES = 1024 ** 3;

/** Where a `--fallback` run's way back stands, for `status` and `status --json`. */
export interface FallbackStatus {
  direction: 'PostgreSQL → MySQL';
  /** following, stopped (a refused change), done (fallback went) or finished (slot dropped). */
  status: string;
  jobState: string;
  slot: string;
  /** The end of the last PostgreSQL transaction MySQL committed. */
  lsn: string;
  eventsApplied: number;
  eventsPerSecond: number | null;
  /** Bytes of WAL past the position the way back is known complete at (its lag). */
  bytesBehind: number | null;
  /** Bytes of WAL the slot keeps PostgreSQL from removing (null once it is dropped). */
  retainedBytes: number | null;
  error: string | null;
  outcome: Record<string, unknown> | null;
}

/** The way back of a run, or null for a run without one (yet). */
export async function readFallbackStatus(
  target: DataSource,
  queues: QueueHandles,
  run: RunRow,
): Promise<FallbackStatus | null> {
  if (!run.options.fallback) return null;
  const row = await getFallback(target, run.id);
  if (!row) return null;
  const job = await queues.copy.getJob(followBackJobId(run.id));
  const jobState = job ? await job.getState() : 'missing';
  const progress = (job?.progress ?? null) as FollowBackProgress | null;
  const wal: { behind: string; retained: string | null }[] = await target.query(
    `SELECT GREATEST(pg_wal_lsn_diff(pg_current_wal_lsn(), $2::pg_lsn), 0)::bigint::text AS behind,
            (SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text FROM pg_replication_slots WHERE slot_name = $1) AS retained`,
    [row.slotName, row.reachedLsn],
  );
  return {
    direction: 'PostgreSQL → MySQL',
    status: row.status,
    jobState,
    slot: row.slotName,
    lsn: row.appliedLsn,
    eventsApplied: Number(row.eventsApplied),
    eventsPerSecond:
      jobState === 'active' && typeof progress?.eventsPerSecond === 'number' ? progress.eventsPerSecond : null,
    bytesBehind: row.status === 'following' && wal[0] ? Number(wal[0].behind) : null,
    retainedBytes: wal[0]?.retained == null ? null : Number(wal[0].retained),
    error: row.error ?? (jobState === 'failed' ? (job?.failedReason ?? null) : null),
    outcome: row.outcome,
  };
}

/** One line (two past the retention warning) for `status`. */
export function formatFallbackStatus(f: FallbackStatus, runId: string): string {
  const retained =
    f.retainedBytes === null ? 'slot dropped' : `${f.retainedBytes} bytes of WAL retained by slot ${f.slot}`;
  const head = `way back (${f.direction}): ${f.status} (job ${f.jobState}) at ${f.lsn}, ${f.eventsApplied} row changes applied${f.eventsPerSecond === null ? '' : ` (${f.eventsPerSecond}/s)`}${f.bytesBehind === null ? '' : `, ${f.bytesBehind} bytes of WAL behind`}, ${retained}`;
  const lines = [f.error ? `${head}; stopped: ${f.error}` : head];
  if (f.retainedBytes !== null && f.retainedBytes > RETAINED_WARNING_BYTES)
    lines.push(
      `warning: the way back's slot holds ${(f.retainedBytes / 1024 ** 3).toFixed(1)} GB of WAL, which fills PostgreSQL's disk: fall back (npx my2pg fallback ${runId} --lock) or end it (npx my2pg finish ${runId})`,
    );
  return lines.join('\n');
}
