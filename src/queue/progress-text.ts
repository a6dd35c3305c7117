import type { FinalizeProgress } from './contract.js';

/* What the jobs report, in words: the CLI's bars and the board's job list say it the same way. */

/** Whole seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A count with thousands separators: `1,000,000`. */
export function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * Where finalize is: `indexes 3/10`, `foreign keys 2/5`, `sequences`, `alembic_version`,
 * `verification 2/5 tables (users: 1,000,000 rows compared, 450,000 rows/s)`.
 */
export function describeFinalizeProgress(p: FinalizeProgress): string {
  switch (p.phase) {
    case 'indexes':
    case 'foreign keys':
      return `${p.phase} ${p.done}/${p.total}`;
    case 'verification': {
      const last =
        p.table && p.rows !== undefined
          ? ` (${p.table}: ${grouped(p.rows)} rows compared${p.rowsPerSecond ? `, ${grouped(p.rowsPerSecond)} rows/s` : ''})`
          : '';
      return `verification ${p.done}/${p.total} tables${last}`;
    }
    default:
      return p.phase;
  }
}
