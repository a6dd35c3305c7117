import type { DataSource } from 'typeorm';
import { PermanentError, ValueRefused } from '../core/errors.js';
import { queryMysql, withMysqlConnection, type MysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { reverseValue, type MysqlValue, type PgType, type ReverseColumn } from '../copy/reverse-rules.js';
import { lsnValue, type SlotChange, type SlotTransaction, type SlotTuple } from './slot-reader.js';

/** Where the way back keeps, in the source database, the end of the last PostgreSQL transaction MySQL committed. */
const POSITION_TABLE = 'my2pg_fallback';

/** A migrated table as the way back writes it: its MySQL name and key, and each PostgreSQL column's MySQL column. */
export interface BackTable {
  table: string;
  key: readonly string[];
  /** PostgreSQL column name → the MySQL column (generated columns left out: MySQL computes them). */
  columns: ReadonlyMap<string, ReverseColumn>;
  /** PostgreSQL columns MySQL computes (generated there): not written. */
  generated?: ReadonlySet<string>;
}

/** MySQL errors a retry does not fix: the row or a value is refused (dup key, range, length, value, CHECK). */
const REFUSALS = new Set([1062, 1048, 1264, 1265, 1292, 1366, 1406, 1452, 3819, 4025]);

/** Creates the position table (before the first batch; DDL commits on its own in MySQL). */
export async function ensurePositionTable(source: DataSource): Promise<void> {
  await source.query(
    `CREATE TABLE IF NOT EXISTS ${quoteMysql(POSITION_TABLE)} (run_id VARCHAR(200) NOT NULL PRIMARY KEY, lsn VARCHAR(40) NOT NULL, events_applied BIGINT NOT NULL DEFAULT 0, applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB`,
  );
}

/** The end of the last transaction MySQL committed for the run ('0/0' before the first). */
export async function appliedLsnOf(source: DataSource, runId: string): Promise<string> {
  const rows: { lsn: string }[] = await source.query(`SELECT lsn FROM ${quoteMysql(POSITION_TABLE)} WHERE run_id = ?`, [
    runId,
  ]);
  return rows[0]?.lsn ?? '0/0';
}

/**
 * Applies PostgreSQL's transactions to MySQL in ONE MySQL transaction that also records the end
 * of the last: a transaction that ends at or before the recorded position was applied already
 * and is skipped, so a batch read again after a crash (MySQL committed, the slot not yet told)
 * is applied once. Rows go by key: delete, then insert the whole row (an update whose TOASTed
 * value was not sent updates the columns it has). Foreign key checks are off in the session,
 * as PostgreSQL's apply workers run as replica: PostgreSQL checked them, in its order.
 */
export async function applyToMysql(
  source: DataSource,
  runId: string,
  tables: ReadonlyMap<string, BackTable>,
  transactions: readonly SlotTransaction[],
): Promise<{ lsn: string | null; events: number; skipped: number }> {
  if (transactions.length === 0) return { lsn: null, events: 0, skipped: 0 };
  return withMysqlConnection(source, async (c) => {
    await queryMysql(c, 'SET @my2pg_mode = @@SESSION.sql_mode, @my2pg_tz = @@SESSION.time_zone');
    await queryMysql(
      c,
      "SET SESSION time_zone = '+00:00', foreign_key_checks = 0, sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
    );
    await queryMysql(c, 'START TRANSACTION');
    try {
      const rows = await queryMysql<{ lsn: string }[]>(
        c,
        `SELECT lsn FROM ${quoteMysql(POSITION_TABLE)} WHERE run_id = ? FOR UPDATE`,
        [runId],
      );
      const applied = lsnValue(rows[0]?.lsn ?? '0/0');
      let events = 0;
      let skipped = 0;
      let last: string | null = null;
      for (const tx of transactions) {
        if (lsnValue(tx.endLsn) <= applied) {
          skipped += 1;
          continue;
        }
        await applyChanges(c, tables, tx);
        events += tx.changes.length;
        last = tx.endLsn;
      }
      if (last !== null)
        await queryMysql(
          c,
          `INSERT INTO ${quoteMysql(POSITION_TABLE)} (run_id, lsn, events_applied, applied_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6))
           ON DUPLICATE KEY UPDATE lsn = VALUES(lsn), events_applied = events_applied + VALUES(events_applied), applied_at = VALUES(applied_at)`,
          [runId, last, events],
        );
      await queryMysql(c, 'COMMIT');
      await queryMysql(c, 'SET SESSION foreign_key_checks = 1, sql_mode = @my2pg_mode, time_zone = @my2pg_tz');
      return { lsn: last, events, skipped };
    } catch (error) {
      await queryMysql(c, 'ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** Rows of one multi-row INSERT (and one DELETE of their keys before it). */
const INSERT_GROUP = 500;

/** A transaction's changes in order; runs of inserts into one table go as one DELETE and one INSERT. */
async function applyChanges(
  c: MysqlConnection,
  tables: ReadonlyMap<string, BackTable>,
  tx: SlotTransaction,
): Promise<void> {
  const { changes } = tx;
  for (let i = 0; i < changes.length; ) {
    const first = changes[i]!;
    let end = i + 1;
    if (first.kind === 'insert')
      while (
        end < changes.length &&
        end - i < INSERT_GROUP &&
        changes[end]!.kind === 'insert' &&
        changes[end]!.table === first.table
      )
        end += 1;
    const group = changes.slice(i, end);
    if (group.length === 1 || !(await applyInserts(c, tables, tx, group))) {
      for (const change of group) await applyChange(c, tables, tx, change);
    }
    i = end;
  }
}

/** Inserts of one table at once; false when MySQL refused one of them (the caller then goes row by row, naming it). */
async function applyInserts(
  c: MysqlConnection,
  tables: ReadonlyMap<string, BackTable>,
  tx: SlotTransaction,
  group: readonly SlotChange[],
): Promise<boolean> {
  const first = group[0]!;
  const t = tables.get(first.table);
  if (!t) return false;
  const types = tx.types.get(first.table) ?? new Map<string, PgType>();
  const rows = group.map((change) => (change.kind === 'insert' ? rowOf(t, change.row, types) : []));
  const columns = rows[0]!.map(([col]) => col);
  if (rows.some((r) => r.length !== columns.length || r.some(([col, v], i) => col !== columns[i] || v === undefined)))
    return false;
  const keys = group.map((change) => (change.kind === 'insert' ? keyOf(t, change.row, types) : []));
  const keyList = `(${t.key.map(quoteMysql).join(', ')})`;
  const tuple = (n: number): string => `(${Array.from({ length: n }, () => '?').join(', ')})`;
  try {
    await queryMysql(
      c,
      `DELETE FROM ${quoteMysql(t.table)} WHERE ${keyList} IN (${keys.map(() => tuple(t.key.length)).join(', ')})`,
      keys.flat(),
    );
    await queryMysql(
      c,
      `INSERT INTO ${quoteMysql(t.table)} (${columns.map(quoteMysql).join(', ')}) VALUES ${rows.map(() => tuple(columns.length)).join(', ')}`,
      rows.flatMap((r) => r.map(([, v]) => v as MysqlValue)),
    );
    return true;
  } catch (error) {
    const errno = (error as { errno?: number }).errno;
    if (errno !== undefined && REFUSALS.has(errno)) return false;
    throw error;
  }
}

async function applyChange(
  c: MysqlConnection,
  tables: ReadonlyMap<string, BackTable>,
  tx: SlotTransaction,
  change: SlotChange,
): Promise<void> {
  const t = tables.get(change.table);
  if (!t)
    throw new PermanentError(
      `PostgreSQL table ${change.table} changed, and it is not one the way back knows (made or renamed in PostgreSQL after cutover): give it its MySQL twin by hand, then retry the way back`,
      { table: change.table },
    );
  const types = tx.types.get(change.table) ?? new Map<string, PgType>();
  const name = quoteMysql(t.table);
  if (change.kind === 'truncate') {
    await queryMysql(c, `DELETE FROM ${name}`);
    return;
  }
  const keyTuple =
    change.kind === 'delete' ? change.oldKey : change.kind === 'update' ? (change.oldKey ?? change.row) : change.row;
  const where = keyOf(t, keyTuple, types);
  const run = async (sql: string, values: MysqlValue[]): Promise<void> => {
    try {
      await queryMysql(c, sql, values);
    } catch (error) {
      const e = error as { errno?: number; message?: string };
      if (e.errno !== undefined && REFUSALS.has(e.errno))
        throw new PermanentError(
          `MySQL refused a row PostgreSQL has, table ${t.table}, key ${describeKey(t, keyTuple)}: ${e.message ?? String(error)}; change the MySQL column or index that refuses it so that it takes the row (the change stays in PostgreSQL's stream: editing the row in PostgreSQL does not pass it), then retry the way back (npx my2pg retry)`,
          { table: t.table, cause: error },
        );
      throw error;
    }
  };
  const whereSql = t.key.map((k) => `${quoteMysql(k)} = ?`).join(' AND ');
  if (change.kind === 'delete') {
    await run(`DELETE FROM ${name} WHERE ${whereSql}`, where);
    return;
  }
  const values = rowOf(t, change.row, types);
  if (change.kind === 'update' && values.some(([, v]) => v === undefined)) {
    // An unchanged TOASTed value is not sent: the row exists in MySQL, and only the columns sent change.
    const sent = values.filter((entry): entry is [string, MysqlValue] => entry[1] !== undefined);
    await run(`UPDATE ${name} SET ${sent.map(([col]) => `${quoteMysql(col)} = ?`).join(', ')} WHERE ${whereSql}`, [
      ...sent.map(([, v]) => v),
      ...where,
    ]);
    return;
  }
  await run(`DELETE FROM ${name} WHERE ${whereSql}`, where);
  if (change.kind === 'update' && change.oldKey !== null) {
    await run(`DELETE FROM ${name} WHERE ${whereSql}`, keyOf(t, change.row, types));
  }
  await run(
    `INSERT INTO ${name} (${values.map(([col]) => quoteMysql(col)).join(', ')}) VALUES (${values.map(() => '?').join(', ')})`,
    values.map(([, v]) => v as MysqlValue),
  );
}

/** The row's MySQL columns and values (undefined: a TOASTed value not sent). */
function rowOf(t: BackTable, row: SlotTuple, types: ReadonlyMap<string, PgType>): [string, MysqlValue | undefined][] {
  const out: [string, MysqlValue | undefined][] = [];
  for (const [pgColumn, text] of Object.entries(row)) {
    const column = t.columns.get(pgColumn);
    if (!column) {
      if (t.columns.size > 0 && !t.generated?.has(pgColumn))
        throw new PermanentError(
          `PostgreSQL table of ${t.table} has a column ${pgColumn} MySQL's ${t.table} does not (added in PostgreSQL after cutover): add it to MySQL's table, then retry the way back`,
          { table: t.table },
        );
      continue;
    }
    out.push([column.name, text === undefined ? undefined : convert(t, column, text, types.get(pgColumn), row)]);
  }
  return out;
}

function keyOf(t: BackTable, tuple: SlotTuple, types: ReadonlyMap<string, PgType>): MysqlValue[] {
  return t.key.map((k) => {
    const [pgColumn, column] = [...t.columns].find(([, c]) => c.name === k) ?? [k, undefined];
    if (!column) throw new PermanentError(`table ${t.table}: key column ${k} is not known`, { table: t.table });
    return convert(t, column, tuple[pgColumn] ?? null, types.get(pgColumn), tuple);
  });
}

function convert(
  t: BackTable,
  column: ReverseColumn,
  text: string | null,
  type: PgType | undefined,
  tuple: SlotTuple,
): MysqlValue {
  try {
    return reverseValue(text, column, type ?? { name: 'unknown', category: 'X' });
  } catch (error) {
    if (!(error instanceof ValueRefused)) throw error;
    throw new PermanentError(
      `a value cannot go back to MySQL, table ${t.table}, key ${describeKey(t, tuple)}: ${error.message}; widen the MySQL column so that it takes the value (the change stays in PostgreSQL's stream: editing the row in PostgreSQL does not pass it), then retry the way back (npx my2pg retry)`,
      { table: t.table, cause: error },
    );
  }
}

/** `{"id":"7"}`: the key as PostgreSQL sent it. */
function describeKey(t: BackTable, tuple: SlotTuple): string {
  const names = new Map([...t.columns].map(([pg, c]) => [c.name, pg]));
  return JSON.stringify(Object.fromEntries(t.key.map((k) => [k, tuple[names.get(k) ?? k] ?? null])));
}
