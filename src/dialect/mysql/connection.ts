import { DataSource } from 'typeorm';
import { currentWatchdog, waitingAt } from '../../core/watchdog.js';
import { mysqlTlsOptions } from './tls.js';
import type { Pool, PoolConnection as MysqlConnection, TypeCastField, TypeCastNext } from 'mysql2';

export type { MysqlConnection };

/** A value as read from MySQL: text stays text (exact), binary stays bytes. */
export type SourceValue = string | number | Buffer | null;

// Floats come back as text so that -0 and every digit MySQL printed survive; geometry as WKB.
function castSourceValue(field: TypeCastField, next: TypeCastNext): unknown {
  switch (field.type) {
    case 'FLOAT':
    case 'DOUBLE':
      return field.string('ascii');
    case 'GEOMETRY':
      return field.buffer();
    default:
      return next();
  }
}

/** Options every source connection uses, so that no value passes through a lossy JS type. */
const SOURCE_DRIVER_OPTIONS = {
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  typeCast: castSourceValue,
} as const;

/** A TypeORM DataSource on the MySQL/MariaDB source (not yet initialised). */
export function createSourceDataSource(url: string, poolSize = 4): DataSource {
  // TypeORM drops a MySQL URL's query string, so TLS parameters are read here.
  const ssl = mysqlTlsOptions(url);
  return new DataSource({
    ...(ssl ? { ssl } : {}),
    type: 'mysql',
    connectorPackage: 'mysql2',
    url,
    charset: 'utf8mb4',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    poolSize,
    connectTimeout: 10_000,
    logging: false,
    extra: { ...SOURCE_DRIVER_OPTIONS },
  });
}

/** The mysql2 pool behind an initialised DataSource. */
function mysqlPoolOf(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { pool?: Pool }).pool;
  if (!pool) throw new Error('the MySQL DataSource is not initialised');
  return pool;
}

/** How long a pool acquisition may wait before it fails (mysql2's pool has no bound of its own). */
const ACQUIRE_TIMEOUT_MS = 60_000;

/**
 * Runs `fn` on one raw mysql2 connection of the DataSource's pool. After an error the
 * connection is destroyed rather than returned: it may be mid-stream or killed. A connection
 * still paused or with a command unfinished is destroyed too: mysql2 would queue every later
 * command on it unsent, and the next borrower would wait forever.
 */
export async function withMysqlConnection<T>(
  dataSource: DataSource,
  fn: (connection: MysqlConnection) => Promise<T>,
): Promise<T> {
  waitingAt('waiting for a MySQL connection from the pool');
  const connection = await acquireMysqlConnection(mysqlPoolOf(dataSource));
  // A connection lost while borrowed (server restart, KILL) reports it here too; its command fails.
  const onError = (): void => undefined;
  connection.on('error', onError);
  // A stalled job's watchdog destroys it: whatever waits on it fails, and the job unwinds.
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    connection.destroy();
  };
  let unhold: () => void = () => undefined;
  try {
    unhold = currentWatchdog()?.hold(destroy) ?? unhold;
    waitingAt('waiting for MySQL to answer');
    const result = await fn(connection);
    connection.removeListener('error', onError);
    unhold();
    if (destroyed) throw new Error('the MySQL connection was closed while in use');
    if (isPaused(connection) || hasCommand(connection)) destroy();
    else connection.release();
    return result;
  } catch (error) {
    connection.removeListener('error', onError);
    unhold();
    destroy();
    throw error;
  }
}

/** A connection of the pool within ACQUIRE_TIMEOUT_MS; one that arrives later goes back. */
function acquireMysqlConnection(pool: Pool): Promise<MysqlConnection> {
  return new Promise<MysqlConnection>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(
        new Error(
          `no MySQL connection came free in ${ACQUIRE_TIMEOUT_MS / 1000} s (pool of ${poolLimitOf(pool)}): every connection is busy or the server does not answer`,
        ),
      );
    }, ACQUIRE_TIMEOUT_MS);
    pool.getConnection((error, conn) => {
      clearTimeout(timer);
      if (late) {
        if (!error) conn.release();
        return;
      }
      if (error) reject(error);
      else resolve(conn);
    });
  });
}

function poolLimitOf(pool: Pool): number | string {
  return (pool as unknown as { config?: { connectionLimit?: number } }).config?.connectionLimit ?? '?';
}

/** Whether mysql2 holds this connection's packets (a `pause()` not yet resumed). */
export function isPaused(connection: MysqlConnection): boolean {
  return (connection as unknown as { _paused?: boolean })._paused === true;
}

/** Whether a command is running or queued on this connection. */
function hasCommand(connection: MysqlConnection): boolean {
  const c = connection as unknown as { _command?: unknown; _commands?: { length: number } };
  return Boolean(c._command) || (c._commands?.length ?? 0) > 0;
}

/** A callback query as a promise, on a raw connection. */
export function queryMysql<T = Record<string, unknown>[]>(
  connection: MysqlConnection,
  sql: string,
  values: unknown[] = [],
): Promise<T> {
  return new Promise((resolve, reject) => {
    connection.query(sql, values, (error: Error | null, rows: unknown) => {
      if (error) reject(error);
      else resolve(rows as T);
    });
  });
}

const preparedSessions = new WeakSet<MysqlConnection>();
/** How long a source read waits for a metadata lock, seconds. */
const SOURCE_LOCK_WAIT_S = 300;

/**
 * The session settings every read of source rows needs, set once per pooled connection: UTC,
 * so TIMESTAMP values are read as stored; a long net_write_timeout, so a slow target does not
 * make the server drop a paused stream; a bounded lock_wait_timeout (the server's default is a
 * year), so a read that waits for a table another session locked ends with MySQL's own error.
 */
export async function prepareSourceSession(connection: MysqlConnection): Promise<void> {
  if (preparedSessions.has(connection)) return;
  await queryMysql(
    connection,
    "SET SESSION time_zone = '+00:00', net_write_timeout = 3600, lock_wait_timeout = " + String(SOURCE_LOCK_WAIT_S),
  );
  preparedSessions.add(connection);
}
