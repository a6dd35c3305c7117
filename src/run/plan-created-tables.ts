import type { DataSource } from 'typeorm';
import { withPgClient } from '../dialect/postgres/connection.js';
import { UsageError } from '../core/errors.js';
import { reserveDefaultNames } from '../schema/ddl.js';
import { IdentifierAllocator } from '../vocabulary/identifiers.js';
import { targetColumnName, targetTableName, type NamingRules } from '../vocabulary/naming.js';
import { planKeyTypes } from '../schema/key-types.js';
import { findNulColumns, type NulPolicy } from '../schema/nul-columns.js';
import type { SourceCatalog } from '../dialect/mysql/catalog.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import type { TypeMapOptions } from '../schema/type-overrides.js';
import { findTargetColumn } from '../vocabulary/column-pairs.js';

/** What the created tables of a run need beyond their own MySQL definitions. */
export interface CreatedTablesPlan {
  /** Names given in the target schema, shared by every created table's DDL. */
  names: IdentifierAllocator;
  /** Target table name of every source table (created, existing or neither). */
  tableNames: Map<string, string>;
  /** A column's target name in another source table: as the copy pairs it for an existing table, else by the run's rules. */
  columnName: (sourceTable: string, column: string) => string;
  /** Per source table, the FK-group key types of its columns. */
  keyTypes: Map<string, Map<string, string>>;
  /** Per created source table, the text columns that become bytea under `--nul bytea`. */
  nulColumns: Map<string, string[]>;
  warnings: string[];
  /** Report lines: what became another PostgreSQL form. */
  translated: string[];
}

/**
 * Decides, before anything is created, what depends on more than one table or on the data:
 * target names (63 bytes, unique in the schema, clear of existing objects), one key type per
 * foreign-key group (reading MAX() where types alone cannot tell), the columns `--nul bytea`
 * makes bytea (one scan per created table), and checks the FULLTEXT configuration.
 */
export async function planCreatedTables(
  source: DataSource,
  target: DataSource,
  options: {
    schema: string;
    catalog: SourceCatalog;
    planned: readonly {
      table: string;
      targetTable: string;
      action: 'fill' | 'create';
      columns?: string[] | undefined;
    }[];
    existing: ReadonlyMap<string, TargetTable>;
    /** The existing target table of a source table, by the run's matching rule. */
    matchExisting: (sourceTable: string) => string | undefined;
    types: TypeMapOptions;
    nul: NulPolicy;
    fulltextConfig: string;
    /** Per created table, its text columns holding NUL, when a scan already counted them (`my2pg plan`). */
    nulColumns?: Map<string, string[]> | undefined;
    /** Renames and case of the run. */
    naming: NamingRules;
  },
): Promise<CreatedTablesPlan> {
  const { schema, catalog, planned } = options;
  const sourceTable = (name: string) => catalog.tables.find((t) => t.name === name)!;
  const created = planned.filter((p) => p.action === 'create');
  const { relations, types } = await withPgClient(target, async (client) => {
    if (created.some((p) => sourceTable(p.table).indexes.some((i) => i.kind === 'FULLTEXT'))) {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE oid::regconfig::text = $1 OR cfgname = $1) AS ok',
        [options.fulltextConfig],
      );
      if (!rows[0]?.ok) {
        throw new UsageError(
          `unknown text search configuration ${JSON.stringify(options.fulltextConfig)} for the FULLTEXT indexes (--fulltext-config / MY2PG_FULLTEXT_CONFIG); use one the target has, e.g. simple or english (\\dF in psql lists them)`,
        );
      }
    }
    // Names a generated index or type must not take. Enum types are left out: a rerun reuses
    // the enum type a dropped table left behind, as before.
    const rel = await client.query<{ name: string }>(
      'SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1',
      [schema],
    );
    const typ = await client.query<{ name: string }>(
      "SELECT t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typtype <> 'e'",
      [schema],
    );
    return { relations: rel.rows.map((r) => r.name), types: typ.rows.map((r) => r.name) };
  });
  const names = new IdentifierAllocator();
  for (const name of relations) names.reserve('relation', name);
  for (const name of types) names.reserve('type', name);
  for (const plan of created) reserveDefaultNames(names, plan.targetTable, sourceTable(plan.table), options.naming);
  const tableNames = new Map(
    catalog.tables.map((t) => [
      t.name,
      planned.find((p) => p.table === t.name)?.targetTable ??
        options.matchExisting(t.name) ??
        targetTableName(options.naming, t.name),
    ]),
  );

  // Existing target tables keep their types; their key columns decide for the created ones.
  const existingBySource = new Map<string, TargetTable>();
  for (const table of catalog.tables) {
    const plan = planned.find((p) => p.table === table.name);
    const match = plan ? (plan.action === 'fill' ? plan.targetTable : undefined) : options.matchExisting(table.name);
    const found = match === undefined ? undefined : options.existing.get(match);
    if (found) existingBySource.set(table.name, found);
  }
  const keyTypes = await planKeyTypes(source, catalog.tables, {
    created: new Set(created.map((p) => p.table)),
    existing: existingBySource,
    types: options.types,
    findColumn: (target, table, column) => findTargetColumn(target, table, column, options.naming),
  });
  const warnings = [...keyTypes.warnings];

  const nulColumns = options.nulColumns ?? new Map<string, string[]>();
  if (options.nul === 'bytea' && !options.nulColumns) {
    for (const plan of created)
      nulColumns.set(plan.table, await findNulColumns(source, sourceTable(plan.table), plan.columns));
  }
  for (const plan of planned.filter((p) => p.action === 'fill')) {
    const onUpdate = sourceTable(plan.table).columns.filter((c) => c.onUpdate);
    if (onUpdate.length > 0)
      warnings.push(
        `${plan.table}: ON UPDATE ${onUpdate.map((c) => `${c.onUpdate} of column ${c.name}`).join(', ')} is not migrated: the target table exists, so it keeps its own triggers`,
      );
  }
  // A foreign key to an existing table names its columns as they are there.
  const columnName = (table: string, column: string): string => {
    const existing = existingBySource.get(table);
    return (
      (existing && findTargetColumn(existing, table, column, options.naming)?.name) ??
      targetColumnName(options.naming, table, column)
    );
  };
  return {
    names,
    tableNames,
    columnName,
    keyTypes: keyTypes.types,
    nulColumns,
    warnings,
    translated: [...keyTypes.notes],
  };
}
