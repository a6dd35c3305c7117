import { DataSource } from 'typeorm';
import type { Pool, PoolClient } from 'pg';
import { currentWatchdog, waitingAt } from '../../core/watchdog.js';
import { beginTransaction } from './transaction.js';

export type { PoolClient };

/** A TypeORM DataSource on the PostgreSQL target (not yet initialised). */
export function createTargetDataSource(
  url: string,
  poolSize = 4,
  entities: DataSource['options']['entities'] = [],
): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    poolSize,
    applicationName: 'my2pg',
    connectTimeoutMS: 10_000,
    logging: false,
    entities,
    synchronize: false,
  });
}

/** The pg Pool behind an initialised DataSource. */
export function pgPoolOf(dataSource: DataSource): Pool {
  const pool = (dataSource.driver as unknown as { master?: Pool }).master;
  if (!pool) throw new Error('the PostgreSQL DataSource is not initialised');
  return pool;
}

/**
 * Runs `fn` on one pg client of the DataSource's pool. After an error the client is
 * destroyed rather than returned, since it may be mid-COPY or its backend gone.
 */
export async function withPgClient<T>(dataSource: DataSource, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  waitingAt('waiting for a PostgreSQL connection from the pool');
  const client = await pgPoolOf(dataSource).connect();
  // A backend that dies mid-COPY (pg_terminate_backend, restart) makes the socket emit an
  // 'error' on the client; unheard, it would crash the worker. The running query fails too,
  // and that failure is what the caller sees.
  const onError = (): void => undefined;
  client.on('error', onError);
  // A stalled job's watchdog closes its socket: the running query fails and the job unwinds.
  let unhold: () => void = () => undefined;
  try {
    unhold = currentWatchdog()?.hold(() => socketOf(client)?.destroy()) ?? unhold;
    waitingAt('waiting for PostgreSQL to answer');
    const result = await fn(client);
    client.removeListener('error', onError);
    unhold();
    client.release();
    return result;
  } catch (error) {
    client.removeListener('error', onError);
    unhold();
    client.release(true);
    throw error;
  }
}

function socketOf(client: PoolClient): { destroy(): void } | undefined {
  return (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
}

/** Runs `fn` inside BEGIN/COMMIT on one client; rolls back on any error. */
export async function inPgTransaction<T>(dataSource: DataSource, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  return withPgClient(dataSource, async (client) => {
    await beginTransaction(client);
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // The error that ended the transaction is the one to report; a failed ROLLBACK means the
      // connection broke, and PostgreSQL rolls back with it.
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}
