import type { TableVerification, VerifyMethod } from '../verify/verify-run.js';
import type { NotMigratedObject, SchemaObjectsRecord } from '../schema/translate/schema-objects.js';
import type { StoredOutcome } from '../schema/stored/stored-code.js';
import type { RestoredConstraint } from './restore-constraints.js';
import type { SequenceReset } from './reset-sequences.js';
import type { AlembicSync } from './sync-alembic.js';
import type { ViewOutcome } from './migrate-views.js';

/** finalize's return value, also stored as the run's summary. */
export interface FinalizeSummary {
  runId: string;
  /** True when every table was checked and is equal (rejected rows only with --allow-rejects). */
  verified: boolean;
  method: VerifyMethod;
  allowRejects: boolean;
  /** Rows rejected by the copies, over all tables. */
  rejected: number;
  tables: TableVerification[];
  constraints: RestoredConstraint[];
  sequences: SequenceReset[];
  alembicVersion: AlembicSync | null;
  /** The source's views: created and verified, or why not. */
  views: ViewOutcome[];
  /** Stored functions, procedures, triggers (created, or why not) and events (listed). */
  storedCode?: StoredOutcome[];
  /** Generated columns and CHECKs of the created tables, as prepare translated them. */
  schemaObjects: SchemaObjectsRecord | null;
  /** Triggers, routines, events, excluded or skipped views, CHECKs that did not translate. */
  notMigrated: NotMigratedObject[];
  problems: string[];
  /** Where finalize's time went, ms (index builds and foreign keys run beside the verification of tables no copy job verified). */
  timings?: FinalizeTimings;
}

/** finalize's phases, ms. */
export interface FinalizeTimings {
  /** Indexes left to build (split tables, failed builds). */
  indexesMs: number;
  /** Foreign keys added NOT VALID and validated. */
  foreignKeysMs: number;
  /** Sequences and alembic_version. */
  sequencesMs: number;
  /** Verification of the tables no copy job verified, and recording every table's result. */
  verifyMs: number;
  totalMs: number;
}

/** One line for a run's outcome. */
export function describeOutcome(summary: FinalizeSummary): string {
  if (summary.verified) {
    const rejected =
      summary.rejected > 0 ? `, but for ${summary.rejected} rejected rows (allowed by --allow-rejects)` : '';
    return `verified (${summary.method}): every table is equal on both sides${rejected}`;
  }
  if (summary.problems.length === 0) return 'copied; not verified (--verify none)';
  return `not verified: ${summary.problems.join('; ')}`;
}

/**
 * One line per constraint that could not be restored. Under a `where`, a foreign key that fails
 * most likely references a parent row the condition left out: the line says so, and which
 * tables were copied in part (the constraint stays unrestored; nothing is deleted to fit it).
 */
export function constraintProblems(
  constraints: readonly RestoredConstraint[],
  where: Readonly<Record<string, string>> = {},
): string[] {
  const filtered = Object.keys(where);
  const hint =
    filtered.length === 0
      ? ''
      : `; likely cause: the migration file's where copies only part of ${filtered.join(', ')}, so a row may reference one left out (copy the parent whole, or filter the child to match)`;
  return constraints
    .filter((c) => c.status === 'violated' || c.status === 'failed')
    .map(
      (c) =>
        `${c.kind === 'foreign_key' ? 'foreign key' : c.kind === 'check' ? 'CHECK' : c.kind} ${c.name} on ${c.table}: ${c.error ?? c.status}${c.kind === 'foreign_key' ? hint : ''}`,
    );
}
