import type { DataSource } from 'typeorm';
import { prepareSourceSession, queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginTransaction } from '../dialect/postgres/transaction.js';
import type { ReadSnapshot } from './checksum-types.js';
import type { ReceiptPosition } from './receipt.js';

/** Snapshots of both sides, opened at one moment and held until released. */
export interface HeldSnapshots {
  snapshot: ReadSnapshot;
  /** MariaDB's binlog_snapshot_file/position of the MySQL snapshot (null where the server has none). */
  position: ReceiptPosition | null;
  /** Ends both transactions and gives their connections back; safe to call twice. */
  release(): Promise<void>;
}

interface Opened<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function opened<T>(): Opened<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Opens, on one connection each, a MySQL `START TRANSACTION WITH CONSISTENT SNAPSHOT` and a
 * PostgreSQL REPEATABLE READ transaction that exports its snapshot: two statements, no table
 * read. Opened while the source's writes are frozen and the follower has drained, both see the
 * state at the frozen position, however long the reads in them take afterwards (mysqldump's
 * --single-transaction --master-data does the same under its read lock).
 */
export async function openReadSnapshots(source: DataSource, target: DataSource): Promise<HeldSnapshots> {
  const done = opened<void>();
  const mysqlOpen = opened<{ connection: ReadSnapshot['mysql']; position: ReceiptPosition | null }>();
  const pgOpen = opened<string>();
  const mysqlHeld = withMysqlConnection(source, async (m) => {
    await prepareSourceSession(m);
    await queryMysql(m, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await queryMysql(m, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const status = await queryMysql<{ Variable_name: string; Value: string }[]>(
      m,
      "SHOW STATUS LIKE 'binlog_snapshot_%'",
    );
    const file = status.find((s) => s.Variable_name.toLowerCase() === 'binlog_snapshot_file')?.Value;
    const position = status.find((s) => s.Variable_name.toLowerCase() === 'binlog_snapshot_position')?.Value;
    mysqlOpen.resolve({
      connection: m,
      position: file ? { file, position: Number(position), gtid: null } : null,
    });
    await done.promise;
    await queryMysql(m, 'COMMIT');
  });
  const pgHeld = withPgClient(target, async (client) => {
    await beginTransaction(client, { repeatableRead: true, readOnly: true });
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    pgOpen.resolve(rows[0]!.id);
    // The exported snapshot can be imported only while this transaction is open.
    await done.promise;
    await client.query('COMMIT');
  });
  mysqlHeld.catch((error: unknown) => mysqlOpen.reject(error));
  pgHeld.catch((error: unknown) => pgOpen.reject(error));
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => {
    done.resolve();
    released ??= Promise.allSettled([mysqlHeld, pgHeld]).then(() => undefined);
    return released;
  };
  try {
    const [mysql, pg] = await Promise.all([mysqlOpen.promise, pgOpen.promise]);
    return { snapshot: { mysql: mysql.connection, pg }, position: mysql.position, release };
  } catch (error) {
    await release();
    throw error;
  }
}
