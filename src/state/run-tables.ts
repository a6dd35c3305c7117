import type { DataSource } from 'typeorm';
import { RunTableEntity, STATE_SCHEMA, type JsonRecord, type RunTableRow } from './entities.js';
import { quotePg } from '../dialect/postgres/quote.js';
import type { PoolClient } from '../dialect/postgres/connection.js';

const RUN_TABLES = `${quotePg(STATE_SCHEMA)}.run_tables`;

export async function listRunTables(target: DataSource, runId: string): Promise<RunTableRow[]> {
  return target.getRepository(RunTableEntity).find({ where: { runId }, order: { tableName: 'ASC' } });
}

/** A run's tables and their job ids only, read on a client of the caller's (the start guard's). */
export async function listRunTableJobs(
  client: PoolClient,
  runId: string,
): Promise<{ tableName: string; jobId: string }[]> {
  const tables = await client.query<{ table_name: string; job_id: string }>(
    `SELECT table_name, job_id FROM ${RUN_TABLES} WHERE run_id = $1`,
    [runId],
  );
  return tables.rows.map((t) => ({ tableName: t.table_name, jobId: t.job_id }));
}

async function updateRunTable(
  target: DataSource,
  runId: string,
  tableName: string,
  patch: Partial<RunTableRow>,
): Promise<void> {
  await target.getRepository(RunTableEntity).update({ runId, tableName }, patch);
}

/** Counts an attempt and marks the table as copying. */
export async function markTableCopying(target: DataSource, runId: string, tableName: string): Promise<void> {
  await target
    .createQueryBuilder()
    .update(RunTableEntity)
    .set({ status: 'copying', attempts: () => 'attempts + 1', startedAt: () => 'now()', lastError: null })
    .where({ runId, tableName })
    .execute();
}

/** A whole table's copy committed: its rows, adjustments and rejected rows. */
export async function markTableCopied(
  target: DataSource,
  runId: string,
  tableName: string,
  copy: { rows: number; rejected: number; adjustments: JsonRecord },
): Promise<void> {
  await updateRunTable(target, runId, tableName, {
    status: 'copied',
    rowsCopied: String(copy.rows),
    finishedAt: new Date(),
    lastError: null,
    adjustments: Object.keys(copy.adjustments).length > 0 ? copy.adjustments : null,
    rejectedRows: copy.rejected,
  });
}

/** The table waits for its job (again): a retry, or a copy handed back to the queue; `lastError` says why when it failed. */
export async function markTablePending(
  target: DataSource,
  runId: string,
  tableName: string,
  lastError: string | null = null,
): Promise<void> {
  await updateRunTable(target, runId, tableName, { status: 'pending', lastError });
}

/** The table's copy failed for good (its job will not retry on its own). */
export async function markTableFailed(
  target: DataSource,
  runId: string,
  tableName: string,
  lastError: string,
): Promise<void> {
  await updateRunTable(target, runId, tableName, { status: 'failed', lastError });
}

/** Marks the tables of a cancelled run that never completed their copy. */
export async function markTablesCancelled(target: DataSource, runId: string): Promise<number> {
  const result = await target
    .createQueryBuilder()
    .update(RunTableEntity)
    .set({ status: 'cancelled' })
    .where("run_id = :runId AND status IN ('pending', 'copying', 'failed')", { runId })
    .execute();
  return result.affected ?? 0;
}

/** Records many tables' verification (status, rows, the record itself) in one statement. */
export async function recordVerifications(
  target: DataSource,
  runId: string,
  rows: readonly { table: string; sourceRows: number; targetRows: number; verification: JsonRecord }[],
): Promise<void> {
  if (rows.length === 0) return;
  await target.query(
    `UPDATE ${RUN_TABLES} AS t
        SET source_rows = COALESCE(x.source_rows, t.source_rows),
            target_rows = COALESCE(x.target_rows, t.target_rows),
            verification = x.verification
       FROM jsonb_to_recordset($2::jsonb) AS x(table_name text, source_rows bigint, target_rows bigint, verification jsonb)
      WHERE t.run_id = $1 AND t.table_name = x.table_name`,
    [
      runId,
      JSON.stringify(
        rows.map((r) => ({
          table_name: r.table,
          source_rows: r.sourceRows >= 0 ? r.sourceRows : null,
          target_rows: r.targetRows >= 0 ? r.targetRows : null,
          verification: r.verification,
        })),
      ),
    ],
  );
}
