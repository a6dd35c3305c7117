import { z } from 'zod';
import type { LiveFigures } from '../verify/live-figures.js';
import { SAFE_ID } from '../state/job-ids.js';

// Queue names depend on the target: see target-scope.ts (scopeOf, queuesOfRun).

/** Job name of a table copy. */
export const COPY_TABLE_JOB = 'copy-table';
/** Job name of the finalize step. */
export const FINALIZE_JOB = 'finalize';

/** Job name of a `--follow` run's binary log follower (in the copy queue, the parent of the run's copy jobs). */
export const FOLLOW_JOB = 'follow';
/** Attempts of a follow job: a lost connection is retried from the last commit many times before it gives up. */
export const FOLLOW_ATTEMPTS = 50;
/** Delay between a follow job's attempts. */
export const FOLLOW_BACKOFF_MS = 3000;

/** Job name of a `--fallback` run's way back: PostgreSQL's writes applied to MySQL (in the copy queue, one per run). */
export const FOLLOW_BACK_JOB = 'follow-back';

/** Default attempts of a job (first try included). */
export const DEFAULT_ATTEMPTS = 3;
/** Default first backoff delay; doubles each retry. */
export const DEFAULT_BACKOFF_MS = 2000;

/** A key bound: a decimal integer, or a JSON array of decimal or lower-case hex strings (decodeKeyBound checks them against the key). */
const KEY_BOUND = /^(?:-?\d+|\["[-0-9a-f]*"(?:,"[-0-9a-f]*")*\])$/;

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
   * (src/core/key-range.ts) are decimal strings for a single integer key (BIGINT UNSIGNED does
   * not fit a JS number), JSON arrays of decimal or hex strings for a composite or binary key;
   * null = unbounded, so the ranges of a table always cover every key, including rows added
   * after planning.
   */
  range: z
    .object({
      /** Source (MySQL) primary key columns, `, `-separated (keyPartsLabel). */
      column: z.string().min(1),
      /** Inclusive lower bound, or null. */
      from: z.string().regex(KEY_BOUND).nullable(),
      /** Exclusive upper bound, or null. */
      to: z.string().regex(KEY_BOUND).nullable(),
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

/** Payload of a follow job. */
export const followPayloadSchema = z.object({
  runId: z.string().regex(SAFE_ID),
  targetSchema: z.string().min(1),
});
export type FollowPayload = z.infer<typeof followPayloadSchema>;

/** Progress object a copy-table job reports (Bull Board shows it as is). */
export interface CopyProgress {
  rows: number;
  total: number;
  rowsPerSecond: number;
}

export type { CopyTableResult, FinalizeProgress } from '../finalize/job-results.js';
export {
  copyJobId,
  finalizeJobId,
  followBackJobId,
  followJobId,
  rangeJobId,
  tableJobIds,
} from '../state/job-ids.js';

/** What the follow job reports (Bull Board shows it as is; status reads it). */
export interface FollowProgress {
  status: 'following';
  /** Row changes applied since the run began following. */
  eventsApplied: number;
  /** Row changes applied per second over the last few seconds. */
  eventsPerSecond: number;
  /** Row changes read from the binary log and not applied yet. */
  eventsPending: number;
  /** Bytes of binary log the source has written past what the follower has read (same file only; -1 across files). */
  bytesBehind: number;
  /** Seconds (to a tenth) between the source committing the oldest change not yet applied and now; 0 when caught up. */
  lagSeconds: number;
  /** Where the next read would start (the last batch's commit). */
  file: string;
  position: number;
  /** Verification while following (see LiveVerification); absent before its first pass. */
  verification?: LiveFigures;
  /** The same in one line, as Bull Board and the logs show it. */
  step: string;
}

/** What the way back's job reports (Bull Board shows it as is; status reads it). */
export interface FollowBackProgress {
  direction: 'PostgreSQL → MySQL';
  /** The end of the last PostgreSQL transaction MySQL committed. */
  lsn: string;
  eventsApplied: number;
  eventsPerSecond: number;
  /** Bytes of WAL PostgreSQL has written past where the way back is known complete. */
  bytesBehind: number;
  /** Bytes of WAL the slot keeps PostgreSQL from removing. */
  retainedBytes: number;
  step: string;
}
