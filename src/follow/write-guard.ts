import type { DataSource, EntityManager } from 'typeorm';
import { literalPg, qualifyPg, quotePg } from '../dialect/postgres/quote.js';

/** The guard's function, in the state schema; one for every run and table (its arguments say which). */
const GUARD_FUNCTION = `${quotePg('my2pg')}.guard_write`;
const ROW_TRIGGER = 'my2pg_guard';
const STATEMENT_TRIGGER = 'my2pg_guard_copy';
const TRUNCATE_TRIGGER = 'my2pg_guard_truncate';

/** A followed table's guard: its target table, its name in my2pg's state, and its key columns on the target. */
export interface GuardedTable {
  schema: string;
  targetTable: string;
  table: string;
  keyColumns: readonly string[];
}

/**
 * Triggers that record every write to a followed table that is not the follower's: the key goes
 * to my2pg.change_log marked `outside` (how, by whom), so that it is re-verified before the
 * verdict and cutover says NO-GO while the row differs from MySQL. The follower's sessions
 * either run as `session_replication_role = replica` (ordinary triggers do not fire) or set
 * `my2pg.writer = 'follower'` (the trigger's WHEN skips them). A copy job's writes (a retry
 * while following) make the table be compared whole again. TRUNCATE by anyone does too.
 */
export async function installWriteGuards(
  target: DataSource,
  runId: string,
  tables: readonly GuardedTable[],
): Promise<void> {
  await target.query(`CREATE OR REPLACE FUNCTION ${GUARD_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $guard$
DECLARE
  next_seq bigint;
  keys text[];
  k text;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    UPDATE my2pg.live_tables SET status = 'pending', problem = TG_OP || ' by ' || current_user || ' while following'
     WHERE run_id = TG_ARGV[0] AND table_name = TG_ARGV[1];
    RETURN NULL;
  END IF;
  SELECT batch_seq + 1 INTO next_seq FROM my2pg.follow WHERE run_id = TG_ARGV[0];
  IF TG_OP <> 'INSERT' THEN
    SELECT array_to_json(array_agg(to_jsonb(OLD) ->> c ORDER BY o))::text INTO k FROM unnest(TG_ARGV[2:]) WITH ORDINALITY AS u(c, o);
    keys := keys || k;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    SELECT array_to_json(array_agg(to_jsonb(NEW) ->> c ORDER BY o))::text INTO k FROM unnest(TG_ARGV[2:]) WITH ORDINALITY AS u(c, o);
    keys := keys || k;
  END IF;
  INSERT INTO my2pg.change_log (run_id, table_name, pg_key, seq, outside, stamp)
  SELECT TG_ARGV[0], TG_ARGV[1], x, COALESCE(next_seq, 0), TG_OP || ' by ' || current_user, clock_timestamp() FROM (SELECT DISTINCT x FROM unnest(keys) AS x) AS d
  ON CONFLICT (run_id, table_name, pg_key) DO UPDATE
    SET outside = EXCLUDED.outside, stamp = clock_timestamp(), seq = GREATEST(my2pg.change_log.seq, EXCLUDED.seq);
  RETURN NULL;
END
$guard$`);
  for (const t of tables) {
    const table = qualifyPg(t.schema, t.targetTable);
    const args = [runId, t.table, ...t.keyColumns].map(literalPg).join(', ');
    await target.query(
      `CREATE OR REPLACE TRIGGER ${ROW_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW
        WHEN (COALESCE(current_setting('my2pg.writer', true), '') = '') EXECUTE FUNCTION ${GUARD_FUNCTION}(${args})`,
    );
    await target.query(
      `CREATE OR REPLACE TRIGGER ${STATEMENT_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH STATEMENT
        WHEN (current_setting('my2pg.writer', true) = 'copy') EXECUTE FUNCTION ${GUARD_FUNCTION}(${args})`,
    );
    await target.query(
      `CREATE OR REPLACE TRIGGER ${TRUNCATE_TRIGGER} AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${GUARD_FUNCTION}(${args})`,
    );
  }
}

/** After a go: the application owns the target; no write is guarded any more. */
export async function dropWriteGuards(target: DataSource, tables: readonly GuardedTable[]): Promise<void> {
  for (const t of tables) {
    const table = qualifyPg(t.schema, t.targetTable);
    await target.query(`DROP TRIGGER IF EXISTS ${ROW_TRIGGER} ON ${table}`);
    await target.query(`DROP TRIGGER IF EXISTS ${STATEMENT_TRIGGER} ON ${table}`);
    await target.query(`DROP TRIGGER IF EXISTS ${TRUNCATE_TRIGGER} ON ${table}`);
  }
}

/** A guard trigger found on a table of a schema, and the run it logs for (its first argument). */
interface FoundGuard {
  table: string;
  trigger: string;
  runId: string;
}

/**
 * The guard triggers on the tables of `schema` (of `tables` only, when given), found by their
 * function rather than by the tables a run recorded: a table renamed while following keeps its
 * triggers. A partition's clone of its parent's trigger goes with the parent's.
 */
async function findWriteGuards(
  db: Pick<EntityManager, 'query'>,
  schema: string,
  tables?: readonly string[],
): Promise<FoundGuard[]> {
  const rows: { table_name: string; trigger_name: string; run_id: string | null }[] = await db.query(
    `SELECT c.relname AS table_name, t.tgname AS trigger_name,
            CASE WHEN t.tgnargs > 0 THEN convert_from(substring(t.tgargs FROM 1 FOR position(decode('00', 'hex') IN t.tgargs) - 1), 'UTF8') END AS run_id
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
      WHERE pn.nspname = 'my2pg' AND p.proname = 'guard_write' AND t.tgparentid = 0 AND n.nspname = $1
        AND ($2::text[] IS NULL OR c.relname = ANY($2::text[]))
      ORDER BY c.relname, t.tgname`,
    [schema, tables ? [...tables] : null],
  );
  return rows.map((r) => ({ table: r.table_name, trigger: r.trigger_name, runId: r.run_id ?? '' }));
}

/** Drops the guards; returns the tables they were on, per run. */
async function dropFoundGuards(
  db: Pick<EntityManager, 'query'>,
  schema: string,
  guards: readonly FoundGuard[],
): Promise<Map<string, string[]>> {
  const tables = new Map<string, string[]>();
  for (const g of guards) {
    await db.query(`DROP TRIGGER IF EXISTS ${quotePg(g.trigger)} ON ${qualifyPg(schema, g.table)}`);
    const list = tables.get(g.runId) ?? [];
    if (!list.includes(g.table)) list.push(g.table);
    tables.set(g.runId, list);
  }
  return tables;
}

/** A cancelled run's guards, on whatever tables of its schema carry them; returns those tables. Safe to repeat. */
export async function dropRunWriteGuards(target: DataSource, schema: string, runId: string): Promise<string[]> {
  const guards = (await findWriteGuards(target, schema)).filter((g) => g.runId === runId);
  return (await dropFoundGuards(target, schema, guards)).get(runId) ?? [];
}

/**
 * Before a new run copies into `tables`: guards another run left on them (a --follow run that
 * was neither cut over nor cancelled) would log the new run's and then the application's writes
 * for a run that is over. Returns, per run, the tables they were dropped from.
 */
export async function dropOtherRunsWriteGuards(
  db: Pick<EntityManager, 'query'>,
  schema: string,
  tables: readonly string[],
  runId: string,
): Promise<Map<string, string[]>> {
  if (tables.length === 0) return new Map();
  const guards = (await findWriteGuards(db, schema, tables)).filter((g) => g.runId !== runId);
  return dropFoundGuards(db, schema, guards);
}
