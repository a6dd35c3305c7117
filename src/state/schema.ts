import type { DataSource } from 'typeorm';
import { STATE_SCHEMA } from './entities.js';
import { quotePg } from '../dialect/postgres/quote.js';
import type { PoolClient } from '../dialect/postgres/connection.js';

// Any constant works; it only has to be the same in every my2pg process.
const STATE_LOCK_KEY = 0x6d793270; // "my2p"

/**
 * Creates or evolves the `my2pg` state schema (TypeORM synchronize over the state entities
 * only: it adds what is missing and keeps what an earlier version made), under an advisory
 * lock so two processes never race.
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

/** Whether the state schema exists (status and retry must not create it), asked on a DataSource or on a client of its pool. */
export async function stateSchemaExists(db: DataSource | PoolClient): Promise<boolean> {
  const sql = 'SELECT to_regclass($1) IS NOT NULL AS present';
  const params = [`${quotePg(STATE_SCHEMA)}.runs`];
  const rows: { present: boolean }[] =
    'manager' in db ? await db.query(sql, params) : (await db.query<{ present: boolean }>(sql, params)).rows;
  return Boolean(rows[0]?.present);
}
