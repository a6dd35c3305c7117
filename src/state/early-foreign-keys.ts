import type { DataSource } from 'typeorm';
import { quotePg } from '../dialect/postgres/quote.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { STATE_SCHEMA } from './entities.js';
import type { EarlyForeignKeyRow } from './live-entities.js';

const EARLY = `${quotePg(STATE_SCHEMA)}.early_foreign_keys`;
const SAVED = `${quotePg(STATE_SCHEMA)}.saved_constraints`;

export type { EarlyForeignKeyRow } from './live-entities.js';

/** The run's foreign keys added while following, with how far their tables' logged keys were checked. */
export async function listEarlyForeignKeys(target: DataSource, runId: string): Promise<EarlyForeignKeyRow[]> {
  const rows: Record<string, unknown>[] = await target.query(
    `SELECT constraint_id, name, child_table, parent_table, checked_seq FROM ${EARLY} WHERE run_id = $1 ORDER BY constraint_id`,
    [runId],
  );
  return rows.map((r) => ({
    runId,
    constraintId: Number(r.constraint_id),
    name: String(r.name),
    childTable: String(r.child_table),
    parentTable: String(r.parent_table),
    checkedSeq: String(r.checked_seq),
  }));
}

/** Inside the transaction that adds them: from now on the change log keeps their tables' keys after `seq`. */
export async function recordEarlyForeignKeys(
  pg: PoolClient,
  runId: string,
  keys: readonly Omit<EarlyForeignKeyRow, 'runId' | 'checkedSeq'>[],
  seq: number,
): Promise<void> {
  for (const key of keys) {
    await pg.query(
      `INSERT INTO ${EARLY} (run_id, constraint_id, name, child_table, parent_table, checked_seq) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (run_id, constraint_id) DO UPDATE SET checked_seq = EXCLUDED.checked_seq`,
      [runId, key.constraintId, key.name, key.childTable, key.parentTable, seq],
    );
  }
}

/** Every logged key of the key's two tables up to batch `seq` holds to it. */
export async function advanceEarlyCheck(
  target: DataSource,
  runId: string,
  constraintId: number,
  seq: number,
): Promise<void> {
  await target.query(
    `UPDATE ${EARLY} SET checked_seq = GREATEST(checked_seq, $3) WHERE run_id = $1 AND constraint_id = $2`,
    [runId, constraintId, seq],
  );
}

/**
 * The key goes back to finalize: its record goes, and its saved definition is unrestored again
 * (the caller dropped the constraint), so finalize adds and validates it as for any run.
 */
export async function returnEarlyForeignKey(target: DataSource, runId: string, constraintId: number): Promise<void> {
  await target.query(`DELETE FROM ${EARLY} WHERE run_id = $1 AND constraint_id = $2`, [runId, constraintId]);
  await target.query(`UPDATE ${SAVED} SET restored_at = NULL, error = NULL WHERE id = $1`, [constraintId]);
}
