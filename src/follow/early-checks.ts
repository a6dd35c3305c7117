import type { DataSource } from 'typeorm';
import { describeError } from '../core/errors.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginStatement, beginTransaction } from '../dialect/postgres/transaction.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { STATE_SCHEMA, type RunRow } from '../state/entities.js';
import { listUnrestoredConstraints } from '../state/saved-constraints.js';
import type { FollowedTableRef } from './followed-table.js';

const SAVED = `${quotePg(STATE_SCHEMA)}.saved_constraints`;
/** lock_not_available (lock_timeout) and deadlock_detected. */
const LOCK_BUSY = new Set(['55P03', '40P01']);

/**
 * CHECKs added and validated while following instead of inside the freeze (see
 * docs/live-verification.md, "CHECKs and views before the freeze"). A CHECK is about one row, and
 * the follower writes each row as the source committed it, so a CHECK that holds for every row
 * now and is enforced on every later write holds at the freeze. Added NOT VALID (enforced on new
 * writes at once, brief lock), then validated and recorded restored in one transaction. A later
 * write of the follower that violates it fails its batch with 23514: handBackViolatedCheck drops
 * it, and finalize adds it at the freeze and reports the violating rows, as for any run.
 */
export async function addChecksEarly(
  target: DataSource,
  run: RunRow,
  tables: readonly FollowedTableRef[],
  log: (line: string) => void | Promise<void>,
): Promise<void> {
  const candidates = (await listUnrestoredConstraints(target, run.id)).filter(
    (s) => s.kind === 'check' && s.schemaName === run.targetSchema && tables.some((t) => t.targetTable === s.tableName),
  );
  if (candidates.length === 0) return;
  const inTarget: { t: string; c: string }[] = await target.query(
    `SELECT c.relname AS t, con.conname AS c FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE con.contype = 'c' AND n.nspname = $1`,
    [run.targetSchema],
  );
  const present = new Set(inTarget.map((r) => `${r.t}\u0000${r.c}`));
  let validated = 0;
  let busy = 0;
  for (const item of candidates) {
    const table = qualifyPg(item.schemaName, item.tableName);
    const constraint = quotePg(item.name);
    try {
      await withPgClient(target, async (pg) => {
        const inTransaction = async (sql: string): Promise<void> => {
          try {
            await pg.query(sql);
          } catch (error) {
            await pg.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        };
        if (!present.has(`${item.tableName}\u0000${item.name}`)) {
          // Definitions were printed with search_path = pg_catalog; they are read back the same way.
          await inTransaction(
            `${beginStatement({ settings: { lock_timeout: '5s', search_path: 'pg_catalog' } })}; ALTER TABLE ${table} ADD CONSTRAINT ${constraint} ${item.definition} NOT VALID; COMMIT`,
          );
        }
        // VALIDATE holds SHARE UPDATE EXCLUSIVE to its commit, which a hand-back's DROP waits for:
        // the record cannot say restored for a constraint a violating batch dropped meanwhile.
        await inTransaction(
          `${beginStatement()}; ALTER TABLE ${table} VALIDATE CONSTRAINT ${constraint}; UPDATE ${SAVED} SET restored_at = now(), error = NULL WHERE id = ${Number(item.id)}; COMMIT`,
        );
      });
      validated += 1;
    } catch (error) {
      // Refused or violated now: dropped, and left to finalize, which reports it at the freeze.
      await target.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${constraint}`).catch(() => undefined);
      // A lock not granted in time, or a deadlock with a batch: tried again in a later pass.
      if (LOCK_BUSY.has(String((error as { code?: unknown }).code))) busy += 1;
      else await log(`CHECK ${item.name} on ${item.tableName}: left to the freeze (${describeError(error)})`);
    }
  }
  if (busy > 0) throw new Error(`${busy} CHECKs could not take their table's lock in time`);
  await log(
    `CHECKs: ${validated} of ${candidates.length} added and validated while following; the others at the freeze`,
  );
}

/** The PostgreSQL error in `error` or its causes, if it is a CHECK violation (23514). */
function checkViolation(error: unknown): { table: string; constraint: string } | null {
  for (let e = error as { code?: unknown; table?: unknown; constraint?: unknown; cause?: unknown } | undefined; e; ) {
    if (e.code === '23514' && typeof e.table === 'string' && typeof e.constraint === 'string')
      return { table: e.table, constraint: e.constraint };
    e = e.cause as typeof e;
  }
  return null;
}

/**
 * A follower's batch refused by a CHECK (23514) that this run added (while following, or at a
 * no-go's finalize): the CHECK is dropped and its saved definition unrestored again, in one
 * transaction, so that the batch can be applied again and finalize adds and validates it at the
 * freeze (reporting the violating rows). Returns the constraint's name, or null when the error is
 * not that (the batch fails as before).
 */
export async function handBackViolatedCheck(target: DataSource, runId: string, error: unknown): Promise<string | null> {
  const violation = checkViolation(error);
  if (!violation) return null;
  return withPgClient(target, async (pg) => {
    await beginTransaction(pg);
    try {
      const saved = await pg.query<{ id: number; schema_name: string }>(
        `SELECT id, schema_name FROM ${SAVED} WHERE run_id = $1 AND kind = 'check' AND table_name = $2 AND name = $3 FOR UPDATE`,
        [runId, violation.table, violation.constraint],
      );
      const row = saved.rows[0];
      if (!row) {
        await pg.query('ROLLBACK');
        return null;
      }
      await pg.query(
        `ALTER TABLE ${qualifyPg(row.schema_name, violation.table)} DROP CONSTRAINT IF EXISTS ${quotePg(violation.constraint)}`,
      );
      await pg.query(`UPDATE ${SAVED} SET restored_at = NULL, error = NULL WHERE id = $1`, [row.id]);
      await pg.query('COMMIT');
      return violation.constraint;
    } catch (failure) {
      await pg.query('ROLLBACK').catch(() => undefined);
      throw failure;
    }
  });
}

/** The run's CHECKs in place before the freeze (validated while following, or by an earlier cutover's finalize). */
export async function checksInPlace(target: DataSource, runId: string): Promise<number> {
  const rows: { n: string }[] = await target.query(
    `SELECT count(*)::text AS n FROM ${SAVED} WHERE run_id = $1 AND kind = 'check' AND restored_at IS NOT NULL AND error IS NULL`,
    [runId],
  );
  return Number(rows[0]?.n ?? 0);
}
