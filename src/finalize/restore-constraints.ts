import { asServerWork } from '../core/watchdog.js';
import type { DataSource } from 'typeorm';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginStatement } from '../dialect/postgres/transaction.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { describeError } from '../core/errors.js';
import type { SavedConstraintRow } from '../state/entities.js';
import { mapWithConcurrency, restoreIndex, type RestoreOptions, type RestoredConstraint } from './restore-indexes.js';

import { readPartitionedTables } from './partitioned-tables.js';
import {
  listUnrestoredConstraints,
  markConstraintRestored,
  markConstraintsRestored,
} from '../state/saved-constraints.js';

export type { RestoredConstraint } from './restore-indexes.js';

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
        await client.query(
          `${beginStatement({ settings: { search_path: 'pg_catalog' } })}; ${items.map(addStatement).join('; ')}; COMMIT`,
        );
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
