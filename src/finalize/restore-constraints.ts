import { asServerWork } from '../core/watchdog.js';
import type { DataSource } from 'typeorm';
import { withPgClient } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { describeError } from '../core/errors.js';
import type { SavedConstraintRow } from '../state/entities.js';
import { readPartitionedTables } from './partitioned-tables.js';
import {
  listUnrestoredConstraints,
  listUnrestoredIndexes,
  markConstraintRestored,
  markConstraintsRestored,
} from '../state/saved-constraints.js';

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

async function restoreIndex(
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
          client.query(`BEGIN; SET LOCAL maintenance_work_mem = '${maintenanceWorkMem}'; ${item.definition}; COMMIT`),
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
            `BEGIN; SET LOCAL maintenance_work_mem = '${maintenanceWorkMem}'; ${plain.map((item) => item.definition).join('; ')}; COMMIT`,
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

/**
 * Restores the definitions a run saved: indexes first, several at once on separate connections
 * (foreign keys want the unique ones), then foreign keys: each added NOT VALID one after the
 * other (that takes locks on both tables, so in parallel it could deadlock), then VALIDATEd in
 * parallel across tables, so a violation is reported with its detail while the constraint
 * already guards new rows.
 */
export async function restoreConstraints(
  target: DataSource,
  runId: string,
  options: RestoreOptions = {},
): Promise<RestoredConstraint[]> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const started = Date.now();
  const saved = await listUnrestoredConstraints(target, runId);
  const indexes = saved.filter((s) => s.kind === 'index');
  // CHECKs go the same way as foreign keys: NOT VALID (guards new rows at once), then VALIDATE.
  const foreignKeys = options.indexesOnly ? [] : saved.filter((s) => s.kind === 'foreign_key' || s.kind === 'check');
  // Biggest tables first, so the longest builds do not start last and leave lanes idle.
  const sizes = new Map<string, number>();
  for (const item of indexes) {
    const key = qualifyPg(item.schemaName, item.tableName);
    if (sizes.has(key)) continue;
    const rows: { bytes: string | null }[] = await target.query(
      'SELECT pg_relation_size(to_regclass($1))::text AS bytes',
      [key],
    );
    sizes.set(key, Number(rows[0]?.bytes ?? 0));
  }
  const bySize = [...indexes].sort(
    (a, b) =>
      (sizes.get(qualifyPg(b.schemaName, b.tableName)) ?? 0) - (sizes.get(qualifyPg(a.schemaName, a.tableName)) ?? 0) ||
      a.id - b.id,
  );
  let indexesBuilt = 0;
  if (indexes.length > 0) await options.onProgress?.('index', 0, indexes.length);
  const results: RestoredConstraint[] = await mapWithConcurrency(bySize, concurrency, async (item) => {
    const result = await restoreIndex(target, item, options.maintenanceWorkMem ?? '256MB');
    indexesBuilt += 1;
    await options.onProgress?.('index', indexesBuilt, indexes.length);
    return result;
  });
  let keysDone = 0;
  const keysSettled = async (count: number): Promise<void> => {
    keysDone += count;
    await options.onProgress?.('foreign_key', keysDone, foreignKeys.length);
  };
  if (foreignKeys.length > 0) await options.onProgress?.('foreign_key', 0, foreignKeys.length);
  const indexesDone = Date.now();

  // Which foreign keys already exist (a finalize retried after a crash), in one query.
  const present = new Map<string, boolean>();
  if (foreignKeys.length > 0) {
    const rows: { schema: string; table: string; name: string; ok: boolean }[] = await target.query(
      `SELECT n.nspname AS schema, c.relname AS table, con.conname AS name, con.convalidated AS ok
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE con.contype IN ('f', 'c') AND con.conname = ANY($1::text[])`,
      [[...new Set(foreignKeys.map((f) => f.name))]],
    );
    for (const r of rows) present.set(`${r.schema}\u0000${r.table}\u0000${r.name}`, r.ok);
  }
  const toValidate: SavedConstraintRow[] = [];
  const toAdd: SavedConstraintRow[] = [];
  const alreadyValid: number[] = [];
  for (const item of foreignKeys) {
    const ok = present.get(`${item.schemaName}\u0000${item.tableName}\u0000${item.name}`);
    if (ok === true) {
      alreadyValid.push(item.id);
      results.push({ kind: item.kind, table: item.tableName, name: item.name, status: 'already-present' });
    } else if (ok === false) {
      // Added NOT VALID before a crash: it still needs its VALIDATE.
      toValidate.push(item);
    } else {
      toAdd.push(item);
    }
  }
  await markConstraintsRestored(target, alreadyValid);
  if (alreadyValid.length > 0) await keysSettled(alreadyValid.length);
  const partitioned = await readPartitionedTables(target, toAdd);
  const addStatement = (item: SavedConstraintRow): string =>
    `ALTER TABLE ${qualifyPg(item.schemaName, item.tableName)} ADD CONSTRAINT ${quotePg(item.name)} ${item.definition}${item.kind === 'foreign_key' && partitioned.has(`${item.schemaName}\u0000${item.tableName}`) ? '' : ' NOT VALID'}`;
  // Definitions were printed with search_path = pg_catalog; they are read back the same way.
  const addAll = async (items: readonly SavedConstraintRow[]): Promise<void> => {
    await withPgClient(target, async (client) => {
      try {
        await client.query(`BEGIN; SET LOCAL search_path = pg_catalog; ${items.map(addStatement).join('; ')}; COMMIT`);
      } catch (error) {
        // The statement's own error is the one to report; a failed ROLLBACK adds nothing (the client is released either way).
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  };
  // All in one transaction (NOT VALID takes its locks briefly; nothing else runs meanwhile);
  // when that fails, one by one, so that each failure is reported on its own.
  const added = await addAll(toAdd).then(
    () => true,
    () => false,
  );
  if (added) {
    toValidate.push(...toAdd);
  } else {
    for (const item of toAdd) {
      try {
        await addAll([item]);
        toValidate.push(item);
      } catch (error) {
        results.push({
          kind: item.kind,
          table: item.tableName,
          name: item.name,
          status: 'failed',
          error: describeError(error),
        });
        await keysSettled(1);
      }
    }
  }

  // VALIDATE takes SHARE UPDATE EXCLUSIVE on its own table only: one lane per table cannot deadlock.
  const byTable = new Map<string, SavedConstraintRow[]>();
  for (const item of toValidate) {
    const key = `${item.schemaName}\u0000${item.tableName}`;
    byTable.set(key, [...(byTable.get(key) ?? []), item]);
  }
  const validateOne = async (item: SavedConstraintRow): Promise<RestoredConstraint> => {
    try {
      await asServerWork(`validating ${item.name} of ${item.tableName} in PostgreSQL`, () =>
        target.query(
          `ALTER TABLE ${qualifyPg(item.schemaName, item.tableName)} VALIDATE CONSTRAINT ${quotePg(item.name)}`,
        ),
      );
      return { kind: item.kind, table: item.tableName, name: item.name, status: 'restored', id: item.id };
    } catch (error) {
      const message = `VALIDATE failed: ${describeError(error)}`;
      // Not recording it leaves the definition unrestored, and the next run restores it again: the outcome is reported either way.
      await markConstraintRestored(target, item.id, message).catch(() => undefined);
      return { kind: item.kind, table: item.tableName, name: item.name, status: 'violated', error: message };
    }
  };
  const validated = await mapWithConcurrency([...byTable.values()], concurrency, async (items) => {
    // A table's foreign keys in one round trip; when one is violated, each on its own to say which.
    try {
      await asServerWork(`validating the constraints of ${items[0]!.tableName} in PostgreSQL`, () =>
        target.query(
          items
            .map(
              (item) =>
                `ALTER TABLE ${qualifyPg(item.schemaName, item.tableName)} VALIDATE CONSTRAINT ${quotePg(item.name)}`,
            )
            .join('; '),
        ),
      );
      await keysSettled(items.length);
      return items.map(
        (item): RestoredConstraint => ({
          kind: item.kind,
          table: item.tableName,
          name: item.name,
          status: 'restored',
          id: item.id,
        }),
      );
    } catch {
      // Which key is violated is learnt by validating each on its own, with its own error.
      const out: RestoredConstraint[] = [];
      for (const item of items) {
        out.push(await validateOne(item));
        await keysSettled(1);
      }
      return out;
    }
  });
  await markConstraintsRestored(
    target,
    validated
      .flat()
      .filter((r) => r.status === 'restored')
      .map((r) => r.id!),
  );
  results.push(...validated.flat());
  if (options.timings) {
    options.timings.indexesMs = indexesDone - started;
    options.timings.foreignKeysMs = Date.now() - indexesDone;
  }
  return results.map(({ id: _id, ...r }) => r);
}
