import type { DataSource } from 'typeorm';
import type { RunRow } from '../state/entities.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { listRunTables } from '../state/run-tables.js';
import { targetColumnName } from '../vocabulary/naming.js';
import type { ReverseColumn } from '../copy/reverse-rules.js';
import type { BackTable } from './mysql-apply.js';
import type { PublishedTable } from './slot.js';

/** A run's tables as the way back writes them, by PostgreSQL table name (the run's names, renames included). */
export async function backTablesOf(
  target: DataSource,
  run: RunRow,
  catalog: RunCatalog,
): Promise<Map<string, BackTable>> {
  const source = (await catalog.sourceCatalog()).tables;
  const out = new Map<string, BackTable>();
  for (const t of await listRunTables(target, run.id)) {
    const table = source.find((s) => s.name === t.tableName);
    if (!table) continue;
    const copied = run.options.columns?.[t.tableName];
    const columns = new Map<string, ReverseColumn>();
    const generated = new Set<string>();
    for (const c of table.columns) {
      const pgName = targetColumnName(run.options.naming, t.tableName, c.name);
      if (c.generated) generated.add(pgName);
      else if (!copied || copied.includes(c.name))
        columns.set(pgName, { name: c.name, dataType: c.dataType, unsigned: c.unsigned });
    }
    out.set(t.targetTable, { table: t.tableName, key: table.primaryKey, columns, generated });
  }
  return out;
}

/** The tables a run's way back publishes: every table of the run, in its schema. */
export async function publishedTablesOf(target: DataSource, run: RunRow): Promise<PublishedTable[]> {
  return (await listRunTables(target, run.id)).map((t) => ({ schema: run.targetSchema, targetTable: t.targetTable }));
}
