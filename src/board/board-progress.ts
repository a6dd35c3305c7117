import { describeFinalizeProgress, formatDuration } from '../queue/progress-text.js';
import type { FinalizeProgress } from '../queue/contract.js';

/** The progress a copy-table job reports, as Bull Board shows it. */
interface ReportedProgress {
  rows: number;
  total: number;
  rowsPerSecond: number;
}

function isReportedProgress(value: unknown): value is ReportedProgress {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && typeof v.rows === 'number' && typeof v.total === 'number';
}

function isFinalizeProgress(value: unknown): value is FinalizeProgress {
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.phase === 'string' &&
    typeof v.done === 'number' &&
    typeof v.total === 'number'
  );
}

/**
 * Adds `progress` (a percentage, which Bull Board draws as the job's progress ring) and an ETA
 * to a copy job's `{rows, total, rowsPerSecond}`, and a percentage and a sentence (`step`) to
 * a finalize job's phase; anything else is shown as it is.
 */
export function formatBoardProgress(progress: unknown): unknown {
  if (isFinalizeProgress(progress)) {
    // A finalize job: its ring shows the current phase's share done, the text says which phase.
    return {
      progress: progress.total > 0 ? Math.min(100, Math.floor((progress.done / progress.total) * 100)) : 0,
      ...progress,
      step: describeFinalizeProgress(progress),
    };
  }
  if (!isReportedProgress(progress)) return progress;
  const percent = progress.total > 0 ? Math.min(100, Math.floor((progress.rows / progress.total) * 100)) : 100;
  const remaining = Math.max(0, progress.total - progress.rows);
  const rate = progress.rowsPerSecond;
  return {
    progress: percent,
    rows: progress.rows,
    total: progress.total,
    rowsPerSecond: rate,
    eta: remaining === 0 ? 'done' : rate > 0 ? formatDuration(remaining / rate) : 'unknown',
    // Quiet since when and where (jobs/watch-job.ts), shown before the watchdog ends the attempt.
    ...((progress as { stalled?: unknown }).stalled ? { stalled: (progress as { stalled?: unknown }).stalled } : {}),
  };
}

/** `copy-table users`: the table is what an operator looks for in a list of jobs. */
export function formatBoardJobName(job: { name?: unknown; data?: unknown }): string {
  const name = typeof job.name === 'string' ? job.name : '';
  const data = job.data as { table?: unknown; runId?: unknown } | null | undefined;
  if (typeof data?.table === 'string') return `${name} ${data.table}`;
  if (typeof data?.runId === 'string') return `${name} ${data.runId}`;
  return name;
}
