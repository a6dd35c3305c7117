import { EntitySchema } from 'typeorm';

/** The state schema's name (entities.ts exports it too; repeated here so this file is a leaf). */
const SCHEMA = 'my2pg';

/**
 * A key the follower wrote, or that something else wrote in PostgreSQL, since its table was
 * last verified: re-verified in the background and at the freeze (see docs/live-verification.md).
 */
interface ChangeLogRow {
  runId: string;
  tableName: string;
  /** The key's values as PostgreSQL text, a JSON array (null for NULL). */
  pgKey: string;
  /** The batch (my2pg.follow.batch_seq) that last wrote the key; for a write outside the follower, the batch after the last. */
  seq: string;
  /** Not the follower's write: how it was written (INSERT/UPDATE/DELETE/TRUNCATE by whom), else null. */
  outside: string | null;
  /** Why the key's row differed at its last re-verification; null when it was equal or is not checked yet. */
  differs: string | null;
  /** When the key was last logged (clock_timestamp): a re-verification settles only an entry nobody logged again since it was read. */
  stamp: Date;
}

const ChangeLogEntity = new EntitySchema<ChangeLogRow>({
  name: 'ChangeLog',
  schema: SCHEMA,
  tableName: 'change_log',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true },
    tableName: { name: 'table_name', type: 'text', primary: true },
    pgKey: { name: 'pg_key', type: 'text', primary: true },
    seq: { type: 'bigint' },
    outside: { type: 'text', nullable: true },
    differs: { type: 'text', nullable: true },
    stamp: { type: 'timestamptz', default: () => 'clock_timestamp()' },
  },
  indices: [{ name: 'change_log_seq_key', columns: ['runId', 'tableName', 'seq', 'pgKey'] }],
});

/** Verification while following, per table: `verified` means equal at batch `verifiedSeq` but for the change log's keys after it. */
export interface LiveTableRow {
  runId: string;
  tableName: string;
  status: 'pending' | 'verified' | 'mismatch';
  /** The follower's batch the last full comparison or re-verification holds for. */
  verifiedSeq: string;
  /** Rows on each side at the full comparison. */
  rows: string;
  /** How long the full comparison took, ms (cutover predicts a freeze that must compare the table whole from it). */
  fullMs: number;
  verifiedAt: Date | null;
  /** Why the full comparison found the table different (the keys are in the change log). */
  problem: string | null;
}

const LiveTableEntity = new EntitySchema<LiveTableRow>({
  name: 'LiveTable',
  schema: SCHEMA,
  tableName: 'live_tables',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true },
    tableName: { name: 'table_name', type: 'text', primary: true },
    status: { type: 'text' },
    verifiedSeq: { name: 'verified_seq', type: 'bigint', default: 0 },
    rows: { type: 'bigint', default: 0 },
    fullMs: { name: 'full_ms', type: 'integer', default: 0 },
    verifiedAt: { name: 'verified_at', type: 'timestamptz', nullable: true },
    problem: { type: 'text', nullable: true },
  },
});

/**
 * A foreign key added and validated while following (see docs/live-verification.md): the keys of
 * its two tables logged after `checkedSeq` have not been checked against it yet, so the change log
 * keeps them until they are.
 */
export interface EarlyForeignKeyRow {
  runId: string;
  /** The saved definition's id (my2pg.saved_constraints). */
  constraintId: number;
  name: string;
  /** The referencing and the referenced table, source names (as the change log names them). */
  childTable: string;
  parentTable: string;
  /** The follower's batch up to which every logged key of both tables was checked against the key. */
  checkedSeq: string;
}

const EarlyForeignKeyEntity = new EntitySchema<EarlyForeignKeyRow>({
  name: 'EarlyForeignKey',
  schema: SCHEMA,
  tableName: 'early_foreign_keys',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true },
    constraintId: { name: 'constraint_id', type: 'int', primary: true },
    name: { type: 'text' },
    childTable: { name: 'child_table', type: 'text' },
    parentTable: { name: 'parent_table', type: 'text' },
    checkedSeq: { name: 'checked_seq', type: 'bigint' },
  },
});

/**
 * A followed table's MySQL definition as the target matches it (catalog.ts SourceTable): recorded
 * when a `--follow` run is prepared, replaced in the transaction that applies a schema change.
 */
interface FollowDefinitionRow {
  runId: string;
  tableName: string;
  definition: Record<string, unknown>;
}

const FollowDefinitionEntity = new EntitySchema<FollowDefinitionRow>({
  name: 'FollowDefinition',
  schema: SCHEMA,
  tableName: 'follow_definitions',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true },
    tableName: { name: 'table_name', type: 'text', primary: true },
    definition: { type: 'jsonb' },
  },
});

export const LIVE_ENTITIES = [ChangeLogEntity, LiveTableEntity, EarlyForeignKeyEntity, FollowDefinitionEntity];
