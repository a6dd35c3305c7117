import { z } from 'zod';
import { field, type Strict } from './json-document.js';
import { schemaObjectsSchema } from './run-options.js';

/**
 * One table's verification in a summary (finalize's TableVerification): stored by earlier
 * versions, composed from `run_tables` when shown now (the key fields; the rest passes through).
 */
export const summaryTableSchema = z.looseObject({
  table: z.string(),
  status: field(z.string()),
  method: field(z.string()),
  sourceRows: field(z.number()),
  targetRows: field(z.number()),
  rejected: field(z.number()),
});

/** An index, foreign key, CHECK or trigger finalize (or cancel) restored (finalize's RestoredConstraint). */
const constraintSchema = z.looseObject({
  kind: z.enum(['foreign_key', 'index', 'check', 'trigger']),
  table: z.string(),
  name: z.string(),
  status: z.enum(['restored', 'already-present', 'violated', 'failed']),
  error: field(z.string()),
  id: field(z.number()),
});

/** A view's outcome (finalize's ViewOutcome, with verify's ViewVerification). */
const viewSchema = z.looseObject({
  name: z.string(),
  status: z.enum(['verified', 'created', 'mismatch', 'failed', 'excluded', 'skipped']),
  reason: field(z.string()),
  statement: field(z.string()),
  targetName: field(z.string()),
  targetColumns: field(z.array(z.string())),
  unorderedLists: field(z.record(z.string(), z.string())),
  verification: field(
    z.looseObject({
      status: z.enum(['verified', 'mismatch']),
      sourceRows: z.number(),
      targetRows: z.number(),
      differenceCount: z.number(),
      differences: z.array(
        z.looseObject({ kind: z.enum(['missing', 'extra']), row: z.record(z.string(), z.string().nullable()) }),
      ),
      note: field(z.string()),
      error: field(z.string()),
      durationMs: z.number(),
    }),
  ),
});

/**
 * `my2pg.runs.summary`: finalize's outcome (or cancel's). Every field is optional, as in
 * older runs. Per-table verdicts are not part of it any more: they are `run_tables`'
 * `verification`, and `tables` is composed from there when a summary is shown
 * (see composeSummaryTables); older summaries that hold it are still read.
 */
const runSummarySchema = z.looseObject({
  runId: field(z.string()),
  verified: field(z.boolean()),
  method: field(z.enum(['checksum', 'count', 'none'])),
  allowRejects: field(z.boolean()),
  /** Rows rejected by the copies, over all tables. */
  rejected: field(z.number()),
  tables: field(z.array(summaryTableSchema)),
  constraints: field(z.array(constraintSchema)),
  sequences: field(
    z.array(z.looseObject({ table: z.string(), column: z.string(), sequence: z.string(), nextValue: z.string() })),
  ),
  alembicVersion: field(
    z.looseObject({ source: z.array(z.string()), target: z.array(z.string()), created: z.boolean() }).nullable(),
  ),
  views: field(z.array(viewSchema)),
  /** Stored functions, procedures, triggers and events: created, excluded (why), or listed. */
  storedCode: field(
    z.array(
      z.looseObject({
        kind: z.enum(['function', 'procedure', 'trigger', 'event']),
        name: z.string(),
        status: z.enum(['created', 'translated', 'excluded', 'skipped', 'listed']),
        reason: field(z.string()),
      }),
    ),
  ),
  schemaObjects: field(schemaObjectsSchema.nullable()),
  notMigrated: field(schemaObjectsSchema.shape.notMigrated),
  problems: field(z.array(z.string())),
  timings: field(
    z.looseObject({
      indexesMs: z.number(),
      foreignKeysMs: z.number(),
      sequencesMs: z.number(),
      verifyMs: z.number(),
      totalMs: z.number(),
    }),
  ),
  /** Written by `cancel`. */
  cancelledAt: field(z.string()),
  removedJobs: field(z.number()),
  stoppedJobs: field(z.array(z.string())),
});

/** A run's summary, as written and as read back. */
export type RunSummary = Strict<z.infer<typeof runSummarySchema>>;

/** Reads a stored summary; null when there is none (the run has not finished). */
export function parseRunSummary(stored: unknown): RunSummary | null {
  if (stored === null || stored === undefined) return null;
  const parsed = runSummarySchema.safeParse(stored);
  // The loose object keeps every stored key; Strict only narrows the type to the known ones.
  return (parsed.success ? parsed.data : {}) as RunSummary;
}
