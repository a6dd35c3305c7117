import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import {
  RejectedRowEntity,
  RunEntity,
  RunTableEntity,
  SavedConstraintEntity,
  STATE_SCHEMA,
  type RejectedRowRow,
  type RunRow,
  type JsonRecord,
  type RunTableRow,
  type SavedConstraintRow,
} from './entities.js';
import { quotePg } from '../dialect/postgres/quote.js';

// Any constant works; it only has to be the same in every my2pg process.
const STATE_LOCK_KEY = 0x6d793270; // "my2p"

/**
 * Creates or evolves the `my2pg` state schema (TypeORM synchronize over the state entities
 * only), under an advisory lock so two processes never race.
 */
export async function ensureStateSchema(target: DataSource): Promise<void> {
  const runner = target.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [STATE_LOCK_KEY]);
    try {
      await runner.query(`CREATE SCHEMA IF NOT EXISTS ${quotePg(STATE_SCHEMA)}`);
      await target.synchronize(false);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [STATE_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** Whether the state schema exists (status and retry must not create it). */
export async function stateSchemaExists(target: DataSource): Promise<boolean> {
  const rows: { present: boolean }[] = await target.query(
    `SELECT to_regclass($1) IS NOT NULL AS present`,
    [`${quotePg(STATE_SCHEMA)}.runs`],
  );
  return Boolean(rows[0]?.present);
}

export async function insertRun(manager: EntityManager, run: Omit<RunRow, 'createdAt'>, tables: Omit<RunTableRow, 'runId'>[]): Promise<void> {
  await manager.getRepository(RunEntity).insert(run);
  if (tables.length > 0) {
    await manager.getRepository(RunTableEntity).insert(tables.map((t) => ({ ...t, runId: run.id })));
  }
}

export async function getRun(target: DataSource, runId: string): Promise<RunRow | null> {
  return target.getRepository(RunEntity).findOneBy({ id: runId });
}

/** Only a run's status: what a running job polls to learn that its run was cancelled. */
export async function getRunStatus(target: DataSource, runId: string): Promise<RunRow['status'] | null> {
  const rows: { status: RunRow['status'] }[] = await target.query(`SELECT status FROM ${quotePg(STATE_SCHEMA)}.runs WHERE id = $1`, [runId]);
  return rows[0]?.status ?? null;
}

/**
 * Marks a run cancelled unless it has already finished; returns the status it had. One
 * statement, so a finalize that records its outcome at the same moment wins or loses whole.
 */
export async function markRunCancelled(target: DataSource, runId: string): Promise<RunRow['status'] | null> {
  // A SELECT at the top, so that the driver hands back the rows (it answers an UPDATE with a count).
  const runs = `${quotePg(STATE_SCHEMA)}.runs`;
  const rows: { status: RunRow['status'] }[] = await target.query(
    `WITH old AS (SELECT id, status FROM ${runs} WHERE id = $1 FOR UPDATE),
          changed AS (UPDATE ${runs} r SET status = 'cancelled', finished_at = now() FROM old WHERE r.id = old.id AND old.status IN ('running', 'cancelled') RETURNING r.id)
     SELECT old.status FROM old JOIN changed ON changed.id = old.id`,
    [runId],
  );
  return rows[0]?.status ?? null;
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

export async function getLatestRun(target: DataSource, schema?: string): Promise<RunRow | null> {
  const rows = await target.getRepository(RunEntity).find({
    where: schema === undefined ? {} : { targetSchema: schema },
    order: { createdAt: 'DESC' },
    take: 1,
  });
  return rows[0] ?? null;
}

export async function listRunTables(target: DataSource, runId: string): Promise<RunTableRow[]> {
  return target.getRepository(RunTableEntity).find({ where: { runId }, order: { tableName: 'ASC' } });
}

export async function updateRunTable(target: DataSource, runId: string, tableName: string, patch: Partial<RunTableRow>): Promise<void> {
  await target.getRepository(RunTableEntity).update({ runId, tableName }, patch);
}

export async function updateRun(target: DataSource, runId: string, patch: Partial<RunRow>): Promise<void> {
  await target.getRepository(RunEntity).update({ id: runId }, patch);
}

/** Adds keys to a run's options (inside the caller's transaction). */
export async function mergeRunOptions(manager: EntityManager, runId: string, patch: Record<string, unknown>): Promise<void> {
  await manager.query(`UPDATE ${quotePg(STATE_SCHEMA)}.runs SET options = options || $2::jsonb WHERE id = $1`, [runId, JSON.stringify(patch)]);
}

/** Records many tables' verification (status, rows, the record itself) in one statement. */
export async function recordVerifications(
  target: DataSource,
  runId: string,
  rows: readonly { table: string; status: string; sourceRows: number; targetRows: number; verification: JsonRecord }[],
): Promise<void> {
  if (rows.length === 0) return;
  await target.query(
    `UPDATE ${quotePg(STATE_SCHEMA)}.run_tables AS t
        SET status = x.status,
            source_rows = COALESCE(x.source_rows, t.source_rows),
            target_rows = COALESCE(x.target_rows, t.target_rows),
            verification = x.verification
       FROM jsonb_to_recordset($2::jsonb) AS x(table_name text, status text, source_rows bigint, target_rows bigint, verification jsonb)
      WHERE t.run_id = $1 AND t.table_name = x.table_name`,
    [
      runId,
      JSON.stringify(
        rows.map((r) => ({
          table_name: r.table,
          status: r.status,
          source_rows: r.sourceRows >= 0 ? r.sourceRows : null,
          target_rows: r.targetRows >= 0 ? r.targetRows : null,
          verification: r.verification,
        })),
      ),
    ],
  );
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

/** Saves definitions a few hundred rows per INSERT. */
export async function saveConstraints(manager: EntityManager, rows: readonly Omit<SavedConstraintRow, 'id' | 'savedAt' | 'restoredAt' | 'error'>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await manager.getRepository(SavedConstraintEntity).insert(rows.slice(i, i + 500).map((row) => ({ ...row, restoredAt: null, error: null })));
  }
}

/** Constraints saved by earlier runs and never restored: the new run takes them over. */
export async function adoptUnrestoredConstraints(manager: EntityManager, runId: string, schema: string, tables: readonly string[]): Promise<number> {
  if (tables.length === 0) return 0;
  const result = await manager
    .createQueryBuilder()
    .update(SavedConstraintEntity)
    .set({ runId })
    .where('restored_at IS NULL AND schema_name = :schema AND table_name IN (:...tables)', { schema, tables: [...tables] })
    .execute();
  return result.affected ?? 0;
}

export async function listUnrestoredConstraints(target: DataSource, runId: string): Promise<SavedConstraintRow[]> {
  return target.getRepository(SavedConstraintEntity).find({ where: { runId, restoredAt: IsNull() }, order: { id: 'ASC' } });
}

/** The unrestored saved indexes of one table of a run. */
export async function listUnrestoredIndexes(target: DataSource, runId: string, tableName: string): Promise<SavedConstraintRow[]> {
  const rows: { id: number; schema_name: string; table_name: string; name: string; definition: string; saved_at: Date }[] = await target.query(
    `SELECT id, schema_name, table_name, name, definition, saved_at FROM ${quotePg(STATE_SCHEMA)}.saved_constraints
      WHERE run_id = $1 AND table_name = $2 AND kind = 'index' AND restored_at IS NULL ORDER BY id`,
    [runId, tableName],
  );
  return rows.map((r) => ({ id: r.id, runId, kind: 'index', schemaName: r.schema_name, tableName: r.table_name, name: r.name, definition: r.definition, savedAt: r.saved_at, restoredAt: null, error: null }));
}

/** Marks saved definitions restored, in one statement. */
export async function markConstraintsRestored(target: DataSource, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await target.query(`UPDATE ${quotePg(STATE_SCHEMA)}.saved_constraints SET restored_at = now(), error = NULL WHERE id = ANY($1::int[])`, [[...ids]]);
}

export async function markConstraintRestored(target: DataSource, id: number, error: string | null): Promise<void> {
  await target.getRepository(SavedConstraintEntity).update({ id }, { restoredAt: new Date(), error });
}

/** Rows of a table rejected in a run, in the order they were found. */
export async function listRejectedRows(target: DataSource, runId: string, tableName?: string, limit = 1000): Promise<RejectedRowRow[]> {
  return target.getRepository(RejectedRowEntity).find({
    where: tableName === undefined ? { runId } : { runId, tableName },
    order: { id: 'ASC' },
    take: limit,
  });
}

/** Canonical keys of a table's rejected rows (of one part of it, when given), with how many rows share each. */
export async function readRejectedKeys(target: DataSource, runId: string, tableName: string, part?: string): Promise<Map<string, number>> {
  const rows: { key_text: string; n: string }[] = await target.query(
    `SELECT key_text, count(*)::bigint AS n FROM ${quotePg(STATE_SCHEMA)}.rejected_rows WHERE run_id = $1 AND table_name = $2${part === undefined ? '' : ' AND part = $3'} GROUP BY key_text`,
    part === undefined ? [runId, tableName] : [runId, tableName, part],
  );
  return new Map(rows.map((r) => [r.key_text, Number(r.n)]));
}
