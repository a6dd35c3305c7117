import { EntitySchema } from 'typeorm';
import type { RunOptions } from './run-options.js';
import type { RunSummary } from './run-summary.js';
import { LIVE_ENTITIES } from './live-entities.js';

/** The schema in the target database that holds my2pg's own state. */
export const STATE_SCHEMA = 'my2pg';

/** A jsonb document (any JSON object; TypeORM's partial types need the loose value type). */
// biome-ignore lint/suspicious/noExplicitAny: TypeORM's partial entity types need the loose value type
export type JsonRecord = Record<string, any>;

/** Overall state of a run. `cancelled`: stopped by `my2pg cancel`; never resumed or retried. */
export type RunStatus = 'running' | 'verified' | 'not_verified' | 'unverified' | 'cancelled';

/** One migration run, as stored: its jsonb documents as the driver hands them over. */
export interface RunRecord {
  id: string;
  createdAt: Date;
  finishedAt: Date | null;
  status: RunStatus;
  targetSchema: string;
  sourceDatabase: string;
  /** The source URL with its password redacted. */
  source: string;
  options: JsonRecord;
  summary: JsonRecord | null;
}

/** One migration run, as the rest of my2pg reads it: its documents parsed (see runs.ts). */
export interface RunRow extends Omit<RunRecord, 'options' | 'summary'> {
  /** Options of the run (batch size, verify mode…); never credentials. */
  options: RunOptions;
  /** finalize's (or cancel's) outcome; null while the run has not finished. */
  summary: RunSummary | null;
}

/** State of one table within a run. */
type TableStatus =
  | 'pending'
  | 'copying'
  | 'copied'
  | 'failed'
  | 'verified'
  | 'rejected'
  | 'mismatch'
  | 'unverified'
  | 'cancelled';

/** One table of a run. */
export interface RunTableRow {
  runId: string;
  tableName: string;
  targetTable: string;
  jobId: string;
  /** `fill` an existing target table, or `create` it first. */
  action: 'fill' | 'create';
  status: TableStatus;
  rowsCopied: string | null;
  sourceRows: string | null;
  targetRows: string | null;
  attempts: number;
  lastError: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  verification: JsonRecord | null;
  /** Values changed to fit PostgreSQL, per column (see TableAdjustments); null when none. */
  adjustments: JsonRecord | null;
  /** Rows rejected by the last copy (listed in rejected_rows). */
  rejectedRows: number;
  /** Key ranges of a split table whose copy committed, by label (null for a whole table). */
  partsCopied?: JsonRecord | null;
}

/** A constraint, index or trigger dropped (or deferred) for the load, to be restored by finalize. */
export interface SavedConstraintRow {
  id: number;
  runId: string;
  /** `trigger`: an ON UPDATE CURRENT_TIMESTAMP trigger of a created table (its CREATE TRIGGER statement). A CHECK is restored like a foreign key: NOT VALID, then VALIDATE. */
  kind: 'foreign_key' | 'index' | 'check' | 'trigger';
  schemaName: string;
  tableName: string;
  name: string;
  /** For a foreign key or CHECK the constraint definition; for an index the whole CREATE INDEX statement. */
  definition: string;
  savedAt: Date;
  restoredAt: Date | null;
  error: string | null;
}

export const RunEntity = new EntitySchema<RunRecord>({
  name: 'Run',
  schema: STATE_SCHEMA,
  tableName: 'runs',
  columns: {
    id: { type: 'text', primary: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    finishedAt: { name: 'finished_at', type: 'timestamptz', nullable: true },
    status: { type: 'text' },
    targetSchema: { name: 'target_schema', type: 'text' },
    sourceDatabase: { name: 'source_database', type: 'text' },
    source: { type: 'text' },
    options: { type: 'jsonb' },
    summary: { type: 'jsonb', nullable: true },
  },
  indices: [{ name: 'runs_created_at_idx', columns: ['createdAt'] }],
});

export const RunTableEntity = new EntitySchema<RunTableRow>({
  name: 'RunTable',
  schema: STATE_SCHEMA,
  tableName: 'run_tables',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true },
    tableName: { name: 'table_name', type: 'text', primary: true },
    targetTable: { name: 'target_table', type: 'text' },
    jobId: { name: 'job_id', type: 'text' },
    action: { type: 'text' },
    status: { type: 'text' },
    rowsCopied: { name: 'rows_copied', type: 'bigint', nullable: true },
    sourceRows: { name: 'source_rows', type: 'bigint', nullable: true },
    targetRows: { name: 'target_rows', type: 'bigint', nullable: true },
    attempts: { type: 'int', default: 0 },
    lastError: { name: 'last_error', type: 'text', nullable: true },
    startedAt: { name: 'started_at', type: 'timestamptz', nullable: true },
    finishedAt: { name: 'finished_at', type: 'timestamptz', nullable: true },
    verification: { type: 'jsonb', nullable: true },
    adjustments: { type: 'jsonb', nullable: true },
    rejectedRows: { name: 'rejected_rows', type: 'int', default: 0 },
    partsCopied: { name: 'parts_copied', type: 'jsonb', nullable: true },
  },
});

export const SavedConstraintEntity = new EntitySchema<SavedConstraintRow>({
  name: 'SavedConstraint',
  schema: STATE_SCHEMA,
  tableName: 'saved_constraints',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    runId: { name: 'run_id', type: 'text' },
    kind: { type: 'text' },
    schemaName: { name: 'schema_name', type: 'text' },
    tableName: { name: 'table_name', type: 'text' },
    name: { type: 'text' },
    definition: { type: 'text' },
    savedAt: { name: 'saved_at', type: 'timestamptz', createDate: true },
    restoredAt: { name: 'restored_at', type: 'timestamptz', nullable: true },
    error: { type: 'text', nullable: true },
  },
  indices: [{ name: 'saved_constraints_run_idx', columns: ['runId'] }],
});

/** A source row that PostgreSQL could not take as it is: not copied, listed here instead. */
export interface RejectedRowRow {
  id: string;
  runId: string;
  tableName: string;
  /** The part of the table its job copied ('' for the whole table, else a key range label). */
  part: string;
  /** The primary key, column by column (the first columns for a table without one). */
  key: JsonRecord;
  /** The canonical key text verification matches missing rows against. */
  keyText: string;
  /** The column whose value was refused, when known. */
  columnName: string | null;
  reason: string;
  /** SQLSTATE of PostgreSQL's refusal, or null when my2pg refused it before sending. */
  sqlstate: string | null;
  /** The whole source row, column by column (bytes as 0x-hex). */
  row: JsonRecord;
  createdAt: Date;
}

export const RejectedRowEntity = new EntitySchema<RejectedRowRow>({
  name: 'RejectedRow',
  schema: STATE_SCHEMA,
  tableName: 'rejected_rows',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    runId: { name: 'run_id', type: 'text' },
    tableName: { name: 'table_name', type: 'text' },
    part: { type: 'text', default: '' },
    key: { type: 'jsonb' },
    keyText: { name: 'key_text', type: 'text' },
    columnName: { name: 'column_name', type: 'text', nullable: true },
    reason: { type: 'text' },
    sqlstate: { type: 'text', nullable: true },
    row: { type: 'jsonb' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
  indices: [{ name: 'rejected_rows_run_table_idx', columns: ['runId', 'tableName', 'part'] }],
});

/**
 * Where a run's follower stands: `copying` until every table is copied, `following` while it
 * applies the binary log, `held` at a schema change it could not apply (until resumed), `stopped` for good (DDL on a followed table, a refused row), `done`
 * once cutover went.
 */
export type FollowStatus = 'copying' | 'following' | 'held' | 'stopped' | 'done';

/** The binary log follower of a `--follow` run: the position its last commit applied up to. */
export interface FollowRow {
  runId: string;
  status: FollowStatus;
  /** Binary log file and offset the next read starts at (a transaction boundary). */
  binlogFile: string;
  binlogPosition: string;
  /** Row changes applied (each row of each row event), over every attempt. */
  eventsApplied: string;
  /** Source time (binary log header, whole seconds) of the last event applied; null before the first. */
  lastEventAt: Date | null;
  /** When the last batch committed. */
  appliedAt: Date | null;
  /** Why the follower stopped for good. */
  error: string | null;
  /** Cutover's last outcome (go/no-go, freeze duration, position); null before the first. */
  cutover: JsonRecord | null;
  /** Batches applied, over every attempt: my2pg.change_log's `seq` of a key is the batch that last wrote it. */
  batchSeq: string;
  /** XA transactions prepared and not yet committed at the recorded position, with their keys (see ChangeBatcher). */
  prepared: JsonRecord | null;
  /** Verification while following: figures the follower reports each second (see LiveVerification). */
  verification: JsonRecord | null;
  /** While `held`: the schema change it is held at (table, statement, position, why); see HeldChange. */
  held?: JsonRecord | null;
}

export const FollowEntity = new EntitySchema<FollowRow>({
  name: 'Follow',
  schema: STATE_SCHEMA,
  tableName: 'follow',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true },
    status: { type: 'text' },
    binlogFile: { name: 'binlog_file', type: 'text' },
    binlogPosition: { name: 'binlog_position', type: 'bigint' },
    eventsApplied: { name: 'events_applied', type: 'bigint', default: 0 },
    lastEventAt: { name: 'last_event_at', type: 'timestamptz', nullable: true },
    appliedAt: { name: 'applied_at', type: 'timestamptz', nullable: true },
    error: { type: 'text', nullable: true },
    cutover: { type: 'jsonb', nullable: true },
    batchSeq: { name: 'batch_seq', type: 'bigint', default: 0 },
    prepared: { type: 'jsonb', nullable: true },
    verification: { type: 'jsonb', nullable: true },
    held: { type: 'jsonb', nullable: true },
  },
});

/** The way back of a `--fallback` run: `following` from cutover's go, `stopped` on a refused change, `done` after fallback went, `finished` once `finish` dropped the slot. */
export type FallbackStatus = 'following' | 'stopped' | 'done' | 'finished';

/** The way back (docs/fallback.md): the slot and publication cutover made, and how far MySQL has got. */
export interface FallbackRow {
  runId: string;
  status: FallbackStatus;
  slotName: string;
  publicationName: string;
  /** The slot's consistent point, where the way back starts (pg_lsn text). */
  startLsn: string;
  /** The end of the last transaction MySQL committed (its own my2pg_fallback row is the authority; this is a copy for status). */
  appliedLsn: string;
  /** A WAL position every transaction before which MySQL has (fallback's drain waits for it). */
  reachedLsn: string;
  eventsApplied: string;
  appliedAt: Date | null;
  error: string | null;
  /** fallback's last outcome. */
  outcome: JsonRecord | null;
}

export const FallbackEntity = new EntitySchema<FallbackRow>({
  name: 'Fallback',
  schema: STATE_SCHEMA,
  tableName: 'fallback',
  columns: {
    runId: { name: 'run_id', type: 'text', primary: true },
    status: { type: 'text' },
    slotName: { name: 'slot_name', type: 'text' },
    publicationName: { name: 'publication_name', type: 'text' },
    startLsn: { name: 'start_lsn', type: 'text' },
    appliedLsn: { name: 'applied_lsn', type: 'text' },
    reachedLsn: { name: 'reached_lsn', type: 'text' },
    eventsApplied: { name: 'events_applied', type: 'bigint', default: 0 },
    appliedAt: { name: 'applied_at', type: 'timestamptz', nullable: true },
    error: { type: 'text', nullable: true },
    outcome: { type: 'jsonb', nullable: true },
  },
});

/** Every entity of the state schema. */
export const STATE_ENTITIES = [
  RunEntity,
  RunTableEntity,
  SavedConstraintEntity,
  RejectedRowEntity,
  FollowEntity,
  FallbackEntity,
  ...LIVE_ENTITIES,
];
