import type { TableVerification } from '../verify/verify-run.js';
import type { TableAdjustments } from '../vocabulary/adjustments.js';
import type { RestoredConstraint } from './restore-constraints.js';

/**
 * Progress object a finalize job reports, phase by phase, so that a long finalize is seen
 * moving (Bull Board, the CLI's bars): `done` of `total` steps of the current phase. During
 * verification a step is a table, with the rows it compared and the rate.
 */
export interface FinalizeProgress {
  /** `foreign keys` counts the CHECK constraints restored with them. */
  phase: 'indexes' | 'foreign keys' | 'sequences' | 'alembic_version' | 'verification';
  done: number;
  total: number;
  /** The table of the last step, when a step is a table. */
  table?: string;
  /** Rows compared in that table (verification). */
  rows?: number;
  /** Rows compared per second in that table (verification). */
  rowsPerSecond?: number;
}

/** Return value of a copy-table job. */
export interface CopyTableResult {
  table: string;
  /** Rows written to the target. */
  rows: number;
  /** Rows the target refused, listed in my2pg.rejected_rows. */
  rejected: number;
  durationMs: number;
  /** Columns whose values had to change to fit PostgreSQL (zero dates, NUL characters). */
  adjustments: TableAdjustments;
  /** The part's checksum verification, done right after the copy committed; finalize uses it. */
  verification?: TableVerification;
  /** Indexes the job rebuilt for its table (whole-table jobs). */
  indexes?: RestoredConstraint[];
  /** How long the verification and the index builds after the copy took, ms. */
  timings?: { verifyMs: number; indexesMs: number };
}
