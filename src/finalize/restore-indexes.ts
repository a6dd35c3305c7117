import type { DataSource } from 'typeorm';
import { asServerWork } from '../core/watchdog.js';
import { describeError } from '../core/errors.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginStatement } from '../dialect/postgres/transaction.js';
import type { SavedConstraintRow } from '../state/entities.js';
import { listUnrestoredIndexes, markConstraintRestored, markConstraintsRestored } from '../state/saved-constraints.js';

/** What happened to one saved definition. */
export interface RestoredConstraint {
  kind: 'foreign_key' | 'index' | 'check' | 'trigger';
  table: string;
  name: string;
  status: 'restored' | 'already-present' | 'violated' | 'failed';
  error?: string;
  /** The saved definition's id (while restoring; not reported). */
  id?: number;
}

async function constraintExists(dataSource: DataSource, schema: string, table: string, name: string): Promise<boolean> {
  const rows: unknown[] = await dataSource.query(
    `SELECT 1 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND con.conname = $3`,
    [schema, table, name],
  );
  return rows.length > 0;
}

/** Runs `task` over `items` with at most `limit` running at once; results in input order. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await task(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** Options of the restore. */
export interface RestoreOptions {
  /** Index builds (and FK validations of different tables) run at once, each on its own connection. Default 4. */
  concurrency?: number;
  /** maintenance_work_mem for each index build; bigger sorts in memory. Default '256MB'. */
  maintenanceWorkMem?: string;
  /** After each index built and each foreign key validated (or failed): `done` of `total` of that kind. */
  onProgress?: (kind: 'index' | 'foreign_key', done: number, total: number) => void | Promise<void>;
  /** Filled with how long the index builds and the foreign keys took, ms. */
  timings?: { indexesMs: number; foreignKeysMs: number };
  /** Build a table's indexes in one transaction (a small table: one commit instead of one per index). */
  oneTransaction?: boolean;
  /** Indexes only; foreign keys and CHECKs stay saved (a --follow run builds its indexes while following). */
  indexesOnly?: boolean;
}

/** The key of a saved definition that recreates a UNIQUE/EXCLUDE constraint rather than a plain index. */
function isConstraintStatement(definition: string): boolean {
  return /^ALTER TABLE /i.test(definition);
}

export async function restoreIndex(
  target: DataSource,
  item: SavedConstraintRow,
  maintenanceWorkMem: string,
  mark = true,
): Promise<RestoredConstraint> {
  try {
    // A crash after the build but before the mark leaves the index in place: IF NOT EXISTS for
    // indexes, an existence check for constraints, so a retried finalize carries on.
    if (
      isConstraintStatement(item.definition) &&
      (await constraintExists(target, item.schemaName, item.tableName, item.name))
    ) {
      if (mark) await markConstraintRestored(target, item.id, null);
      return { kind: 'index', table: item.tableName, name: item.name, status: 'already-present', id: item.id };
    }
    if (!/^\d+\s*(kB|MB|GB)$/.test(maintenanceWorkMem))
      throw new Error(`maintenance_work_mem ${JSON.stringify(maintenanceWorkMem)} is not a size such as 256MB`);
    await withPgClient(target, async (client) => {
      try {
        // One round trip: the definition is PostgreSQL's own (pg_get_indexdef) or my2pg's DDL.
        await asServerWork(`building index ${item.name} of ${item.tableName} in PostgreSQL`, () =>
          client.query(
            `${beginStatement({ settings: { maintenance_work_mem: maintenanceWorkMem } })}; ${item.definition}; COMMIT`,
          ),
        );
      } catch (error) {
        // The statement's own error is the one to report; a failed ROLLBACK adds nothing (the client is released either way).
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    if (mark) await markConstraintRestored(target, item.id, null);
    return { kind: 'index', table: item.tableName, name: item.name, status: 'restored', id: item.id };
  } catch (error) {
    // Left unrestored: a retried finalize tries it again.
    return {
      kind: 'index',
      table: item.tableName,
      name: item.name,
      status: 'failed',
      error: describeError(error),
      id: item.id,
    };
  }
}

/**
 * Rebuilds the saved indexes of one table (its copy has committed), two at a time (a small
 * table's in one transaction): a table's indexes are built while other tables are still being
 * copied, instead of all at the end.
 * Foreign keys wait for finalize (they need both tables).
 */
export async function restoreTableIndexes(
  target: DataSource,
  runId: string,
  table: string,
  options: RestoreOptions = {},
): Promise<RestoredConstraint[]> {
  const saved = await listUnrestoredIndexes(target, runId, table);
  const maintenanceWorkMem = options.maintenanceWorkMem ?? '256MB';
  // A small table's indexes in one transaction: one commit (one WAL flush) instead of one per
  // index, which is most of their cost. When one fails, one by one.
  const plain = saved.filter((item) => !isConstraintStatement(item.definition));
  if (
    options.oneTransaction &&
    plain.length > 1 &&
    plain.length === saved.length &&
    /^\d+\s*(kB|MB|GB)$/.test(maintenanceWorkMem)
  ) {
    const built = await withPgClient(target, async (client) => {
      try {
        await asServerWork(`building the indexes of ${table} in PostgreSQL`, () =>
          client.query(
            `${beginStatement({ settings: { maintenance_work_mem: maintenanceWorkMem } })}; ${plain.map((item) => item.definition).join('; ')}; COMMIT`,
          ),
        );
        return true;
      } catch {
        // The batch failed: each index is tried on its own next, which names the failure; a failed ROLLBACK adds nothing.
        await client.query('ROLLBACK').catch(() => undefined);
        return false;
      }
    });
    if (built) {
      await markConstraintsRestored(
        target,
        plain.map((item) => item.id),
      );
      return plain.map((item) => ({ kind: 'index', table: item.tableName, name: item.name, status: 'restored' }));
    }
  }
  const results = await mapWithConcurrency(saved, Math.max(1, options.concurrency ?? 2), (item) =>
    restoreIndex(target, item, maintenanceWorkMem, false),
  );
  await markConstraintsRestored(
    target,
    results.filter((r) => r.status !== 'failed').map((r) => r.id!),
  );
  return results.map(({ id: _id, ...r }) => r);
}
