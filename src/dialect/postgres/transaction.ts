/**
 * The one place a PostgreSQL transaction's opening is written: its mode and the session settings
 * its statements run under (`SET LOCAL`, gone at COMMIT or ROLLBACK, so a pooled connection
 * never carries them to its next user).
 */

/** Settings under which values read from PostgreSQL have one text form, whatever the server's defaults. */
export const READING_SETTINGS: Readonly<Record<string, string>> = {
  timezone: 'UTC',
  datestyle: 'ISO, YMD',
  intervalstyle: 'postgres',
  extra_float_digits: '1',
  bytea_output: 'hex',
};

/**
 * Settings of a transaction that writes rows into migrated tables: values are written in UTC,
 * a lock held by someone else fails the attempt after 60 s instead of waiting for ever, and
 * `my2pg.writer` tells a --follow run's guard triggers who writes (see follow/write-guard.ts).
 * `replica` (session_replication_role) keeps foreign-key triggers from firing on the follower's
 * writes; only a superuser may set it.
 */
export function writerSettings(writer: 'copy' | 'follower', replica = false): Record<string, string> {
  return {
    timezone: 'UTC',
    lock_timeout: '60s',
    'my2pg.writer': writer,
    ...(replica ? { session_replication_role: 'replica' } : {}),
  };
}

export interface TransactionMode {
  /** REPEATABLE READ: every statement sees one snapshot. */
  repeatableRead?: boolean;
  readOnly?: boolean;
  /** An exported snapshot to import (implies REPEATABLE READ); it must come first in the transaction. */
  snapshot?: string;
  /**
   * `SET LOCAL name = 'value'` for each entry, in order. The value is a string literal: a
   * `search_path` given this way names one schema exactly as written, with no identifier quoting.
   */
  settings?: Readonly<Record<string, string>>;
}

const SETTING_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

/** `BEGIN …; SET TRANSACTION SNAPSHOT …; SET LOCAL …` as one statement list. */
export function beginStatement(mode: TransactionMode = {}): string {
  const characteristics: string[] = [];
  if (mode.repeatableRead || mode.snapshot !== undefined) characteristics.push('ISOLATION LEVEL REPEATABLE READ');
  if (mode.readOnly) characteristics.push('READ ONLY');
  const statements = [['BEGIN', ...characteristics].join(' ')];
  if (mode.snapshot !== undefined) {
    if (!/^[0-9A-Fa-f-]+$/.test(mode.snapshot)) throw new Error(`not a snapshot id: ${mode.snapshot}`);
    statements.push(`SET TRANSACTION SNAPSHOT '${mode.snapshot}'`);
  }
  for (const [name, value] of Object.entries(mode.settings ?? {})) {
    if (!SETTING_NAME.test(name)) throw new Error(`not a setting name: ${name}`);
    statements.push(`SET LOCAL ${name} = '${value.replaceAll("'", "''")}'`);
  }
  return statements.join('; ');
}

/** One client's query method: enough to open a transaction on it. */
export interface Queryable {
  query(sql: string): Promise<unknown>;
}

/** Opens a transaction on `client` with `mode`. */
export async function beginTransaction(client: Queryable, mode: TransactionMode = {}): Promise<void> {
  await client.query(beginStatement(mode));
}
