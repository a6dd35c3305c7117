import type { DataSource } from 'typeorm';
import { restoreConstraints } from '../finalize/restore-constraints.js';
import type { RunRow } from '../state/entities.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { INTEGER_TYPES } from '../vocabulary/type-families.js';
import { targetColumnName } from '../vocabulary/naming.js';
import { LiveVerification, type LiveTable } from '../verify/live-verification.js';
import { installWriteGuards, type GuardedTable } from './write-guard.js';
import { EarlyForeignKeys } from './early-foreign-keys.js';
import { EarlyObjects } from './early-objects.js';
import type { FollowedTableRef } from './followed-table.js';
import { listRunTables } from '../state/run-tables.js';

/** Character types whose values verification prints as they are (a difference's key names its row). */
const PLAIN_STRING_TYPES = new Set(['char', 'varchar']);

/**
 * What a --follow run does before its follower starts, every attempt alike (each step finds
 * what an earlier attempt did): the secondary indexes the copy dropped are built (the follower's
 * DELETEs then use them too, and the freeze has none left to build); every followed table gets
 * its write guard (see write-guard.ts); and verification while following is set up, with the
 * foreign keys it adds and validates while following (see early-foreign-keys.ts), and the CHECKs
 * and views it creates (see early-objects.ts).
 */
export async function prepareForCutover(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  catalog: RunCatalog,
  tables: readonly FollowedTableRef[],
  log: (line: string) => void | Promise<void>,
): Promise<LiveVerification> {
  const restored = await restoreConstraints(target, run.id, { indexesOnly: true });
  if (restored.length > 0)
    await log(
      `indexes: ${restored.filter((r) => r.status !== 'failed').length}/${restored.length} built before the freeze`,
    );
  await installWriteGuards(target, run.id, guardsOf(run, tables));
  const foreignKeys = new EarlyForeignKeys(target, run, tables, log);
  const objects = new EarlyObjects(source, target, run, catalog, tables, log);
  return new LiveVerification(source, target, run, catalog, await liveTablesOf(catalog, tables), log, {
    pass: async () => {
      await foreignKeys.pass();
      await objects.pass();
    },
  });
}

/** The followed tables as verification while following sees them (whether a difference's printed key names its row). */
export async function liveTablesOf(catalog: RunCatalog, tables: readonly FollowedTableRef[]): Promise<LiveTable[]> {
  const sourceTables = (await catalog.sourceCatalog()).tables;
  return tables.map((t) => {
    const columns = sourceTables.find((s) => s.name === t.table)?.columns ?? [];
    const plainKey = t.key.every((k) => {
      const type = columns.find((c) => c.name === k)?.dataType.toLowerCase() ?? '';
      return INTEGER_TYPES.has(type) || PLAIN_STRING_TYPES.has(type);
    });
    return { ...t, plainKey, estimatedRows: sourceTables.find((s) => s.name === t.table)?.estimatedRows ?? 0 };
  });
}

/** The write guards of the followed tables (see write-guard.ts). */
export function guardsOf(run: RunRow, tables: readonly FollowedTableRef[]): GuardedTable[] {
  return tables.map((t) => ({
    schema: run.targetSchema,
    targetTable: t.targetTable,
    table: t.table,
    keyColumns: t.key.map((c) => targetColumnName(run.options.naming, t.table, c)),
  }));
}

/** A --follow run's followed tables, from its recorded tables and keys. */
export async function followedTablesOf(target: DataSource, run: RunRow): Promise<FollowedTableRef[]> {
  const keys = (run.options.follow?.keys ?? {}) as Record<string, string[]>;
  return (await listRunTables(target, run.id)).map((t) => ({
    table: t.tableName,
    targetTable: t.targetTable,
    key: keys[t.tableName] ?? [],
  }));
}
