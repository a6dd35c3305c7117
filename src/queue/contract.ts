import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TableAdjustments } from '../copy/copy-table.js';
import type { RestoredConstraint } from '../finalize/restore-constraints.js';
import type { TableVerification } from '../verify/verify-run.js';

// Queue names depend on the target: see target-scope.ts (scopeOf, queuesOfRun).

/** Job name of a table copy. */
export const COPY_TABLE_JOB = 'copy-table';
/** Job name of the finalize step. */
export const FINALIZE_JOB = 'finalize';

/** Default attempts of a job (first try included). */
export const DEFAULT_ATTEMPTS = 3;
/** Default first backoff delay; doubles each retry. */
export const DEFAULT_BACKOFF_MS = 2000;

const SAFE_ID = /^[A-Za-z0-9_.-]+$/;

/** Payload of a copy-table job: ids and options only, never credentials. */
export const copyTablePayloadSchema = z.object({
  runId: z.string().regex(SAFE_ID),
  /** Source (MySQL) table name. */
  table: z.string().min(1),
  /** Target (PostgreSQL) table name. */
  targetTable: z.string().min(1),
  targetSchema: z.string().min(1),
  /** Source columns to copy; absent = every column. */
  columns: z.array(z.string().min(1)).optional(),
  /** Rows per COPY write. */
  batchSize: z.number().int().positive(),
  /**
   * A primary-key range of a table split into several jobs; absent = the whole table. Bounds
   * are decimal strings (BIGINT UNSIGNED does not fit a JS number); null = unbounded, so the
   * ranges of a table always cover every key, including rows added after planning.
   */
  range: z
    .object({
      /** Source (MySQL) key column; a single integer primary key. */
      column: z.string().min(1),
      /** Inclusive lower bound, or null. */
      from: z.string().regex(/^-?\d+$/).nullable(),
      /** Exclusive upper bound, or null. */
      to: z.string().regex(/^-?\d+$/).nullable(),
      /** 0-based position among the table's ranges. */
      index: z.number().int().nonnegative(),
      /** How many ranges the table has. */
      count: z.number().int().positive(),
    })
    .optional(),
});
export type CopyTablePayload = z.infer<typeof copyTablePayloadSchema>;

/** Payload of a finalize job. */
export const finalizePayloadSchema = z.object({
  runId: z.string().regex(SAFE_ID),
  targetSchema: z.string().min(1),
});
export type FinalizePayload = z.infer<typeof finalizePayloadSchema>;

/** Progress object a copy-table job reports (Bull Board shows it as is). */
export interface CopyProgress {
  rows: number;
  total: number;
  rowsPerSecond: number;
}

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

/**
 * A job id for a table: derived from the run id and the table name only, so re-adding a flow
 * is idempotent. Names outside [A-Za-z0-9_.-] (BullMQ forbids `:`) get a hash instead.
 */
export function copyJobId(runId: string, table: string): string {
  const slug = SAFE_ID.test(table) && table.length <= 80 ? table : `t-${createHash('sha1').update(table).digest('hex').slice(0, 16)}`;
  return `${runId}.${slug}`;
}

/** The job id of one key range of a split table: the table's job id plus `.r<index>`. */
export function rangeJobId(tableJobId: string, index: number): string {
  return `${tableJobId}.r${index}`;
}

export function finalizeJobId(runId: string): string {
  return `${runId}.finalize`;
}

/** A new run id: sortable by time, unique enough, safe as a BullMQ id. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `run-${stamp}-${createHash('sha1').update(`${now.getTime()}-${process.pid}-${Math.random()}`).digest('hex').slice(0, 6)}`;
}
