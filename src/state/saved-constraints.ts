import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import { SavedConstraintEntity, STATE_SCHEMA, type SavedConstraintRow } from './entities.js';
import { quotePg } from '../dialect/postgres/quote.js';

const SAVED = `${quotePg(STATE_SCHEMA)}.saved_constraints`;

/** Saves definitions a few hundred rows per INSERT. */
export async function saveConstraints(
  manager: EntityManager,
  rows: readonly Omit<SavedConstraintRow, 'id' | 'savedAt' | 'restoredAt' | 'error'>[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await manager
      .getRepository(SavedConstraintEntity)
      .insert(rows.slice(i, i + 500).map((row) => ({ ...row, restoredAt: null, error: null })));
  }
}

/** Constraints saved by earlier runs and never restored: the new run takes them over. */
export async function adoptUnrestoredConstraints(
  manager: EntityManager,
  runId: string,
  schema: string,
  tables: readonly string[],
): Promise<number> {
  if (tables.length === 0) return 0;
  const result = await manager
    .createQueryBuilder()
    .update(SavedConstraintEntity)
    .set({ runId })
    .where('restored_at IS NULL AND schema_name = :schema AND table_name IN (:...tables)', {
      schema,
      tables: [...tables],
    })
    .execute();
  return result.affected ?? 0;
}

export async function listUnrestoredConstraints(target: DataSource, runId: string): Promise<SavedConstraintRow[]> {
  return target
    .getRepository(SavedConstraintEntity)
    .find({ where: { runId, restoredAt: IsNull() }, order: { id: 'ASC' } });
}

/** The unrestored saved indexes of one table of a run. */
export async function listUnrestoredIndexes(
  target: DataSource,
  runId: string,
  tableName: string,
): Promise<SavedConstraintRow[]> {
  const rows: {
    id: number;
    schema_name: string;
    table_name: string;
    name: string;
    definition: string;
    saved_at: Date;
  }[] = await target.query(
    `SELECT id, schema_name, table_name, name, definition, saved_at FROM ${SAVED}
      WHERE run_id = $1 AND table_name = $2 AND kind = 'index' AND restored_at IS NULL ORDER BY id`,
    [runId, tableName],
  );
  return rows.map((r) => ({
    id: r.id,
    runId,
    kind: 'index',
    schemaName: r.schema_name,
    tableName: r.table_name,
    name: r.name,
    definition: r.definition,
    savedAt: r.saved_at,
    restoredAt: null,
    error: null,
  }));
}

/** Marks saved definitions restored, in one statement. */
export async function markConstraintsRestored(target: DataSource, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await target.query(`UPDATE ${SAVED} SET restored_at = now(), error = NULL WHERE id = ANY($1::int[])`, [[...ids]]);
}

export async function markConstraintRestored(target: DataSource, id: number, error: string | null): Promise<void> {
  await target.getRepository(SavedConstraintEntity).update({ id }, { restoredAt: new Date(), error });
}
