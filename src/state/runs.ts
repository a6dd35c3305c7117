import type { DataSource, EntityManager } from 'typeorm';
import {
  RunEntity,
  RunTableEntity,
  STATE_SCHEMA,
  type JsonRecord,
  type RunRecord,
  type RunRow,
  type RunStatus,
  type RunTableRow,
} from './entities.js';
import { parseRunOptions, type RunOptions } from './run-options.js';
import { parseRunSummary, type RunSummary } from './run-summary.js';
import { stateSchemaExists } from './schema.js';
import { quotePg } from '../dialect/postgres/quote.js';
import type { PoolClient } from '../dialect/postgres/connection.js';

const RUNS = `${quotePg(STATE_SCHEMA)}.runs`;

/** A stored run with its jsonb documents parsed. */
function toRunRow(record: RunRecord): RunRow {
  return { ...record, options: parseRunOptions(record.options), summary: parseRunSummary(record.summary) };
}

/** A typed document as TypeORM's update types want a jsonb value: the loose record. */
function asJsonb(document: RunOptions | RunSummary): JsonRecord {
  return document as JsonRecord;
}

/** Records a new run, running, and its tables, each pending (inside the caller's transaction). */
export async function insertRun(
  manager: EntityManager,
  run: Pick<RunRow, 'id' | 'targetSchema' | 'sourceDatabase' | 'source' | 'options'>,
  tables: readonly Pick<RunTableRow, 'tableName' | 'targetTable' | 'jobId' | 'action'>[],
): Promise<void> {
  await manager
    .getRepository(RunEntity)
    .insert({ ...run, status: 'running', finishedAt: null, options: asJsonb(run.options), summary: null });
  if (tables.length === 0) return;
  await manager.getRepository(RunTableEntity).insert(
    tables.map((t) => ({
      ...t,
      runId: run.id,
      status: 'pending' as const,
      rowsCopied: null,
      sourceRows: null,
      targetRows: null,
      attempts: 0,
      lastError: null,
      startedAt: null,
      finishedAt: null,
      verification: null,
      adjustments: null,
      rejectedRows: 0,
    })),
  );
}

export async function getRun(target: DataSource, runId: string): Promise<RunRow | null> {
  const record = await target.getRepository(RunEntity).findOneBy({ id: runId });
  return record ? toRunRow(record) : null;
}

/** The latest run (of a schema, when given). */
export async function getLatestRun(target: DataSource, schema?: string): Promise<RunRow | null> {
  const rows = await target.getRepository(RunEntity).find({
    where: schema === undefined ? {} : { targetSchema: schema },
    order: { createdAt: 'DESC' },
    take: 1,
  });
  return rows[0] ? toRunRow(rows[0]) : null;
}

/** Only a run's status: what a running job polls to learn that its run was cancelled. */
export async function getRunStatus(target: DataSource, runId: string): Promise<RunStatus | null> {
  const rows: { status: RunStatus }[] = await target.query(`SELECT status FROM ${RUNS} WHERE id = $1`, [runId]);
  return rows[0]?.status ?? null;
}

/** A run recorded as running, as the start guard reads it. */
export interface RunningRun {
  id: string;
  createdAt: Date;
  options: RunOptions;
}

/**
 * The runs of a target schema recorded as running, newest first (none when the state schema
 * does not exist yet). Read on the guard's own client, which holds its advisory lock.
 */
export async function listRunningRuns(client: PoolClient, schema: string): Promise<RunningRun[]> {
  if (!(await stateSchemaExists(client))) return [];
  const runs = await client.query<{ id: string; created_at: Date; options: unknown }>(
    `SELECT id, created_at, options FROM ${RUNS} WHERE status = 'running' AND target_schema = $1 ORDER BY created_at DESC`,
    [schema],
  );
  return runs.rows.map((r) => ({ id: r.id, createdAt: r.created_at, options: parseRunOptions(r.options) }));
}

/** The runs of a target recorded as running, in every schema (none before the state schema exists). */
export async function listRunningRunsOfTarget(
  target: DataSource,
): Promise<{ id: string; targetSchema: string; sourceDatabase: string }[]> {
  if (!(await stateSchemaExists(target))) return [];
  return target.query(
    `SELECT id, target_schema AS "targetSchema", source_database AS "sourceDatabase" FROM ${RUNS} WHERE status = 'running' ORDER BY created_at DESC`,
  );
}

/**
 * Marks a run cancelled unless it has already finished; returns the status it had. One
 * statement, so a finalize that records its outcome at the same moment wins or loses whole.
 */
export async function markRunCancelled(target: DataSource, runId: string): Promise<RunStatus | null> {
  // A SELECT at the top, so that the driver hands back the rows (it answers an UPDATE with a count).
  const rows: { status: RunStatus }[] = await target.query(
    `WITH old AS (SELECT id, status FROM ${RUNS} WHERE id = $1 FOR UPDATE),
          changed AS (UPDATE ${RUNS} r SET status = 'cancelled', finished_at = now() FROM old WHERE r.id = old.id AND old.status IN ('running', 'cancelled') RETURNING r.id)
     SELECT old.status FROM old JOIN changed ON changed.id = old.id`,
    [runId],
  );
  return rows[0]?.status ?? null;
}

/** Records how a run ended: its status, when, and finalize's summary. */
export async function recordRunOutcome(
  target: DataSource,
  runId: string,
  status: RunStatus,
  summary: RunSummary,
): Promise<void> {
  await target
    .getRepository(RunEntity)
    .update({ id: runId }, { status, finishedAt: new Date(), summary: asJsonb(summary) });
}

/** Records what `cancel` did (its status was set by markRunCancelled). */
export async function recordCancelSummary(target: DataSource, runId: string, summary: RunSummary): Promise<void> {
  await target.getRepository(RunEntity).update({ id: runId }, { summary: asJsonb(summary) });
}

/** A run goes on again (retry): running, not finished. */
export async function reopenRun(target: DataSource, runId: string): Promise<void> {
  await target.getRepository(RunEntity).update({ id: runId }, { status: 'running', finishedAt: null });
}

/** Adds keys to a run's options (inside the caller's transaction). */
export async function mergeRunOptions(manager: EntityManager, runId: string, patch: RunOptions): Promise<void> {
  await manager.query(`UPDATE ${RUNS} SET options = options || $2::jsonb WHERE id = $1`, [
    runId,
    JSON.stringify(patch),
  ]);
}
