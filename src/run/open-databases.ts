import type { DataSource } from 'typeorm';
import { redactUrl } from '../config/config.js';
import { createSourceDataSource } from '../dialect/mysql/connection.js';
import { createTargetDataSource } from '../dialect/postgres/connection.js';
import { UsageError } from '../core/errors.js';
import { STATE_ENTITIES } from '../state/entities.js';

function reason(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] };
  const inner = e.errors
    ?.map((x) => x.message)
    .filter(Boolean)
    .join('; ');
  return (e.message || inner || e.code || String(error)).replace(/\s+/g, ' ').trim();
}

/** Opens the MySQL source; a UsageError with one clear line when it is unreachable or refuses. */
export async function openSource(url: string, poolSize = 4): Promise<DataSource> {
  const dataSource = createSourceDataSource(url, poolSize);
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new UsageError(`cannot connect to the MySQL source ${redactUrl(url)}: ${reason(error)}`);
  }
  return dataSource;
}

/** Opens the PostgreSQL target (with the state entities); a UsageError when it cannot. */
export async function openTarget(url: string, poolSize = 4): Promise<DataSource> {
  const dataSource = createTargetDataSource(url, poolSize, STATE_ENTITIES);
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new UsageError(`cannot connect to the PostgreSQL target ${redactUrl(url)}: ${reason(error)}`);
  }
  return dataSource;
}

/** Closes DataSources, ignoring those already closed. Safe to call twice. */
export async function closeAll(...dataSources: (DataSource | undefined)[]): Promise<void> {
  await Promise.all(
    dataSources.map(async (ds) => {
      // Closing is the last thing done with it: a connection that fails to close has nothing left to lose.
      if (ds?.isInitialized) await ds.destroy().catch(() => undefined);
    }),
  );
}
