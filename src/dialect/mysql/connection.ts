import { DataSource } from 'typeorm';
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

/**
 * Runs `fn` on one raw mysql2 connection of the DataSource's pool. After an error the
 * connection is destroyed rather than returned: it may be mid-stream or killed.
 */
export async function withMysqlConnection<T>(
  dataSource: DataSource,
  fn: (connection: MysqlConnection) => Promise<T>,
): Promise<T> {
  const connection = await new Promise<MysqlConnection>((resolve, reject) => {
    mysqlPoolOf(dataSource).getConnection((error, conn) => (error ? reject(error) : resolve(conn)));
  });
  try {
    const result = await fn(connection);
    connection.release();
    return result;
  } catch (error) {
    connection.destroy();
    throw error;
  }
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

/**
 * The session settings every read of source rows needs, set once per pooled connection: UTC,
 * so TIMESTAMP values are read as stored; a long net_write_timeout, so a slow target does not
 * make the server drop a paused stream.
 */
export async function prepareSourceSession(connection: MysqlConnection): Promise<void> {
  if (preparedSessions.has(connection)) return;
  await queryMysql(connection, "SET SESSION time_zone = '+00:00', net_write_timeout = 3600");
  preparedSessions.add(connection);
}
