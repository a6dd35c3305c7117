import type { DataSource, EntityManager } from 'typeorm';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { quotePg } from '../dialect/postgres/quote.js';
import { STATE_SCHEMA } from './entities.js';

const DEFINITIONS = `${quotePg(STATE_SCHEMA)}.follow_definitions`;

/**
 * In prepare's transaction: each followed table's MySQL definition as the run planned it, the
 * one its target table matches. A schema change met in the binary log is the difference
 * between this and MySQL's catalog; a second call changes nothing.
 */
export async function recordFollowDefinitions(
  manager: Pick<EntityManager, 'query'>,
  runId: string,
  tables: readonly SourceTable[],
): Promise<void> {
  if (tables.length === 0) return;
  await manager.query(
    `INSERT INTO ${DEFINITIONS} (run_id, table_name, definition) SELECT $1, d->>'name', d FROM jsonb_array_elements($2::jsonb) AS d ON CONFLICT DO NOTHING`,
    [runId, JSON.stringify(tables)],
  );
}

/** The recorded definition of a followed table, or null (a run prepared before they were recorded). */
export async function followDefinitionOf(
  db: DataSource | PoolClient,
  runId: string,
  table: string,
): Promise<SourceTable | null> {
  const sql = `SELECT definition FROM ${DEFINITIONS} WHERE run_id = $1 AND table_name = $2`;
  const rows: { definition: SourceTable }[] =
    'manager' in db ? await db.query(sql, [runId, table]) : (await db.query(sql, [runId, table])).rows;
  return rows[0]?.definition ?? null;
}

/** Inside the transaction that applied a schema change: the table's definition as the target matches it now. */
export async function replaceFollowDefinition(pg: PoolClient, runId: string, definition: SourceTable): Promise<void> {
  await pg.query(
    `INSERT INTO ${DEFINITIONS} (run_id, table_name, definition) VALUES ($1, $2, $3::jsonb) ON CONFLICT (run_id, table_name) DO UPDATE SET definition = EXCLUDED.definition`,
    [runId, definition.name, JSON.stringify(definition)],
  );
}

const SAVED = `${quotePg(STATE_SCHEMA)}.saved_constraints`;
const LIVE = `${quotePg(STATE_SCHEMA)}.live_tables`;
const EARLY = `${quotePg(STATE_SCHEMA)}.early_foreign_keys`;

/** Definitions (name, CREATE INDEX … or FOREIGN KEY …) a schema change adds, and names it drops. */
export interface SavedChange {
  added: readonly { name: string; definition: string }[];
  dropped: readonly string[];
}

/**
 * Inside a schema change's transaction: indexes added and dropped on the source. While the run's
 * saved indexes wait for finalize, an added one is saved with them and a dropped one taken off;
 * returns the statements to run now (the DROP of an index that exists, the CREATE once
 * finalize has restored the others).
 */
export async function changeSavedIndexes(
  pg: PoolClient,
  runId: string,
  schema: string,
  table: string,
  change: SavedChange,
): Promise<string[]> {
  const statements: string[] = [];
  for (const name of change.dropped) {
    await pg.query(
      `DELETE FROM ${SAVED} WHERE run_id = $1 AND schema_name = $2 AND table_name = $3 AND kind = 'index' AND name = $4 AND restored_at IS NULL`,
      [runId, schema, table, name],
    );
    statements.push(`DROP INDEX IF EXISTS ${quotePg(schema)}.${quotePg(name)}`);
  }
  const waiting = await pg.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${SAVED} WHERE run_id = $1 AND kind = 'index' AND restored_at IS NULL`,
    [runId],
  );
  for (const index of change.added) {
    if (Number(waiting.rows[0]?.n ?? 0) === 0) statements.push(index.definition);
    else
      await pg.query(
        `INSERT INTO ${SAVED} (run_id, kind, schema_name, table_name, name, definition) VALUES ($1, 'index', $2, $3, $4, $5)`,
        [runId, schema, table, index.name, index.definition],
      );
  }
  return statements;
}

/**
 * Inside a schema change's transaction: foreign keys added are saved for finalize (it adds and
 * validates them at cutover, as the keys the run dropped for the load); a dropped one leaves
 * what finalize waits for, and what verification while following checks of it. Returns the
 * statements that drop the dropped ones from the target (where they were added already).
 */
export async function changeSavedForeignKeys(
  pg: PoolClient,
  runId: string,
  schema: string,
  table: string,
  change: SavedChange,
): Promise<string[]> {
  const statements: string[] = [];
  for (const name of change.dropped) {
    await pg.query(
      `DELETE FROM ${EARLY} WHERE run_id = $1 AND constraint_id IN (SELECT id FROM ${SAVED} WHERE run_id = $1 AND schema_name = $2 AND table_name = $3 AND kind = 'foreign_key' AND name = $4)`,
      [runId, schema, table, name],
    );
    await pg.query(
      `DELETE FROM ${SAVED} WHERE run_id = $1 AND schema_name = $2 AND table_name = $3 AND kind = 'foreign_key' AND name = $4`,
      [runId, schema, table, name],
    );
    statements.push(`ALTER TABLE ${quotePg(schema)}.${quotePg(table)} DROP CONSTRAINT IF EXISTS ${quotePg(name)}`);
  }
  for (const key of change.added)
    await pg.query(
      `INSERT INTO ${SAVED} (run_id, kind, schema_name, table_name, name, definition) VALUES ($1, 'foreign_key', $2, $3, $4, $5)`,
      [runId, schema, table, key.name, key.definition],
    );
  return statements;
}

/** Inside a schema change's transaction: the table's comparison while following is redone whole. */
export async function markForWholeComparison(pg: PoolClient, runId: string, table: string): Promise<void> {
  await pg.query(`UPDATE ${LIVE} SET status = 'pending', problem = NULL WHERE run_id = $1 AND table_name = $2`, [
    runId,
    table,
  ]);
}

const FOLLOW = `${quotePg(STATE_SCHEMA)}.follow`;

/** The schema change a follower is held at: the table, the statement, where it ends, why. */
export interface HeldChange {
  table: string;
  statement: string;
  file: string;
  position: number;
  reason: string;
}

/** The follower holds at a schema change; `message` is what status and cutover say. */
export async function holdFollower(
  target: DataSource,
  runId: string,
  held: HeldChange,
  message: string,
): Promise<void> {
  await target.query(`UPDATE ${FOLLOW} SET status = 'held', error = $2, held = $3::jsonb WHERE run_id = $1`, [
    runId,
    message,
    JSON.stringify(held),
  ]);
}

/** Inside the transaction that records the target as matching MySQL again: the follower follows. */
export async function releaseFollower(pg: PoolClient, runId: string): Promise<void> {
  await pg.query(`UPDATE ${FOLLOW} SET status = 'following', error = NULL, held = NULL WHERE run_id = $1`, [runId]);
}
