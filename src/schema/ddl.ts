import { literalPg, qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { IdentifierAllocator, pgObjectName } from '../vocabulary/identifiers.js';
import { applyIdentifierCase, targetColumnName, targetTableName, type NamingRules } from '../vocabulary/naming.js';
import { DEFAULT_FULLTEXT_CONFIG, translateIndexes } from './index-ddl.js';
import { isOnUpdateNow, ON_UPDATE_TRIGGER, onUpdatePrecision, onUpdateTriggerSql } from './on-update-trigger.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { mapColumnType } from './type-map.js';
import { DEFAULT_TYPE_MAP_OPTIONS, type TypeMapOptions } from './type-overrides.js';
import { planPartitions, type PartitionMode } from './partition-ddl.js';
import { translateDefault } from './default-ddl.js';

/** A definition my2pg applies after the load (indexes, foreign keys, CHECK constraints, triggers). */
interface DeferredDefinition {
  kind: 'index' | 'foreign_key' | 'check' | 'trigger';
  name: string;
  /** For an index the CREATE INDEX statement; for a foreign key or CHECK the constraint definition; for a trigger the CREATE TRIGGER statement. */
  definition: string;
}

/** Everything needed to create one missing target table. */
export interface CreateTablePlan {
  /** Run in order, in the prepare transaction. */
  statements: string[];
  /** Applied by finalize, after the data is in. */
  deferred: DeferredDefinition[];
  warnings: string[];
  /** What was translated into another PostgreSQL form (key types, prefix/FULLTEXT/SPATIAL indexes, ON UPDATE), for the report. */
  notes: string[];
}

const IDENTITY_TYPES = new Set(['smallint', 'integer', 'bigint']);

/**
 * Reserves the names PostgreSQL itself will give a created table's objects (its row type, its
 * primary key's index, its identity sequences), so that no generated index or type lands on one.
 */
export function reserveDefaultNames(
  names: IdentifierAllocator,
  targetTable: string,
  table: SourceTable,
  naming?: NamingRules,
): void {
  names.reserve('relation', targetTable);
  names.reserve('type', targetTable);
  if (table.primaryKey.length > 0) {
    names.reserve('relation', pgObjectName(targetTable, null, 'pkey'));
    names.reserve(`constraint:${targetTable}`, pgObjectName(targetTable, null, 'pkey'));
  }
  for (const column of table.columns) {
    if (column.autoIncrement)
      names.reserve('relation', pgObjectName(targetTable, targetColumnName(naming, table.name, column.name), 'seq'));
  }
}

const RULES = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION']);

/**
 * The DDL for a target table that does not exist yet, from the MySQL definition. Indexes,
 * foreign keys and ON UPDATE triggers are deferred so the load runs without them. Every name
 * it writes fits PostgreSQL's 63 bytes and is unique where PostgreSQL needs it (see
 * identifiers.ts); pass one `names` for all tables of a run.
 */
export function buildCreateTable(
  table: SourceTable,
  schema: string,
  options: {
    columns?: readonly string[] | undefined;
    isMariaDb: boolean;
    /** Target names of the tables that exist or are created (foreign keys to others are left out). */
    knownTables: ReadonlySet<string>;
    /** Overrides, enum mode, PostGIS. */
    types?: TypeMapOptions;
    /** NOT NULL columns that hold zero dates: created nullable, since those values land as NULL. */
    zeroDateColumns?: readonly string[];
    /** The target table's name; default: the run's name for it (naming.ts). */
    targetName?: string;
    /** Renames and case of the run: the target names of columns (and of tables not in `tableNames`). */
    naming?: NamingRules | undefined;
    /** Target names of other source tables (foreign keys reference them); default: the run's name for each. */
    tableNames?: ReadonlyMap<string, string>;
    /** Target name of a column of another source table (what its foreign keys reference); default: by `naming`. */
    columnNames?: (sourceTable: string, column: string) => string;
    /** Types decided per foreign-key group (key-types.ts), by source column. */
    keyTypes?: ReadonlyMap<string, string>;
    /** Text columns created as bytea because they hold NUL characters (`--nul bytea`). */
    byteaColumns?: readonly string[];
    /** Text search configuration of FULLTEXT indexes. Default `simple`. */
    fulltextConfig?: string;
    /** Names given so far in the target schema; shared by the tables of a run. */
    names?: IdentifierAllocator;
    /**
     * Generated columns to create as `GENERATED ALWAYS AS (sql) STORED`, by column (see
     * src/schema/translate). When given, the caller reports the generated columns left plain.
     */
    generated?: ReadonlyMap<string, string>;
    /** Partitioned MySQL tables: partitioned in PostgreSQL where it can express them (default), or plain. */
    partitions?: PartitionMode | undefined;
  },
): CreateTablePlan {
  const statements: string[] = [];
  const deferred: DeferredDefinition[] = [];
  const warnings: string[] = [];
  const notes: string[] = [];
  const names = options.names ?? new IdentifierAllocator();
  const naming = options.naming;
  const targetName = options.targetName ?? targetTableName(naming, table.name);
  reserveDefaultNames(names, targetName, table, naming);
  const targetOf = (sourceTable: string): string =>
    options.tableNames?.get(sourceTable) ?? targetTableName(naming, sourceTable);
  const targetColumn = (name: string): string => targetColumnName(naming, table.name, name);
  const referencedColumn = (sourceTable: string, column: string): string =>
    sourceTable === table.name
      ? targetColumn(column)
      : (options.columnNames?.(sourceTable, column) ?? targetColumnName(naming, sourceTable, column));
  const col = (name: string): string => quotePg(targetColumn(name));
  // Index and constraint names follow the case rule too (`idx_LastName` → `idx_last_name`).
  const objectName = (name: string): string => applyIdentifierCase(name, naming?.case ?? 'keep');
  const columns = options.columns ? table.columns.filter((c) => options.columns!.includes(c.name)) : table.columns;
  const included = new Set(columns.map((c) => c.name));
  const lines: string[] = [];
  const comments: string[] = [];
  const createdTypes = new Map<string, string>();
  const onUpdate: { name: string; precision: number }[] = [];
  const qualified = qualifyPg(schema, targetName);
  for (const column of columns) {
    const mapped = mapColumnType(column, options.types ?? DEFAULT_TYPE_MAP_OPTIONS, table.name);
    const keyType = options.keyTypes?.get(column.name);
    const asBytea = keyType === undefined && (options.byteaColumns?.includes(column.name) ?? false);
    if (mapped.warning && keyType === undefined && !asBytea) warnings.push(`${table.name}: ${mapped.warning}`);
    let type = keyType ?? (asBytea ? 'bytea' : mapped.sql);
    let check = '';
    if (asBytea)
      notes.push(
        `table ${table.name}: column ${column.name} holds NUL characters → bytea (--nul bytea; its text as UTF-8 bytes)`,
      );
    if (mapped.checkLabels && type === mapped.sql) {
      check = ` CHECK (${col(column.name)} IN (${mapped.checkLabels.map(literalPg).join(', ')}))`;
      names.reserve(`constraint:${targetName}`, pgObjectName(targetName, targetColumn(column.name), 'check'));
    }
    if (mapped.enumLabels && type === mapped.sql) {
      const typeName = names.allocate('type', `${targetName}_${targetColumn(column.name)}`);
      const labels = mapped.enumLabels.map(literalPg).join(', ');
      statements.push(
        `DO $my2pg$ BEGIN CREATE TYPE ${qualifyPg(schema, typeName)} AS ENUM (${labels}); EXCEPTION WHEN duplicate_object THEN NULL; END $my2pg$`,
      );
      type = qualifyPg(schema, typeName);
    }
    let line = `${col(column.name)} ${type}`;
    if (column.autoIncrement) {
      if (IDENTITY_TYPES.has(type)) {
        line += ' GENERATED BY DEFAULT AS IDENTITY';
      } else if (keyType !== undefined) {
        // The key type of its foreign-key group (see the report) cannot carry an identity.
        warnings.push(
          `${table.name}: auto-increment column ${column.name} becomes ${type}, its foreign-key group's type, which cannot be an identity: no default, so new rows need explicit ids (PostgreSQL sequences stop at 9223372036854775807)`,
        );
      } else {
        warnings.push(
          `${table.name}: auto-increment column ${column.name} (${column.columnType}) becomes a bigint identity`,
        );
        line = `${col(column.name)} bigint GENERATED BY DEFAULT AS IDENTITY`;
      }
    } else if (column.generated && options.generated?.has(column.name)) {
      line += ` GENERATED ALWAYS AS (${options.generated.get(column.name)}) STORED`;
    } else {
      const def = translateDefault(column, type, options.isMariaDb);
      if (def.warning) warnings.push(`${table.name}: ${def.warning}`);
      if (def.sql) line += ` DEFAULT ${def.sql}`;
    }
    createdTypes.set(
      column.name,
      /GENERATED BY DEFAULT AS IDENTITY/.test(line) && !IDENTITY_TYPES.has(type) ? 'bigint' : type,
    );
    if (column.generated && !options.generated)
      warnings.push(`${table.name}: generated column ${column.name} becomes a plain column holding the copied values`);
    if (column.onUpdate) {
      if (isOnUpdateNow(column) && /^timestamp/i.test(type)) {
        onUpdate.push({ name: targetColumn(column.name), precision: onUpdatePrecision(column) });
      } else {
        warnings.push(
          `${table.name}: ON UPDATE ${column.onUpdate} of column ${column.name} is not migrated (column type ${type})`,
        );
      }
    }
    if (!column.nullable && options.zeroDateColumns?.includes(column.name)) {
      warnings.push(
        `${table.name}: column ${column.name} is NOT NULL in MySQL but holds zero dates, which land as NULL; created without NOT NULL`,
      );
    } else if (!column.nullable) line += ' NOT NULL';
    line += check;
    lines.push(line);
    if (column.comment)
      comments.push(`COMMENT ON COLUMN ${qualified}.${col(column.name)} IS ${literalPg(column.comment)}`);
  }
  const pk = table.primaryKey.filter((c) => included.has(c));
  if (pk.length > 0 && pk.length === table.primaryKey.length) lines.push(`PRIMARY KEY (${pk.map(col).join(', ')})`);
  const partitions = planPartitions(table, {
    mode: options.partitions ?? 'keep',
    schema,
    targetName,
    targetColumn,
    names,
    caseOf: objectName,
  });
  if (partitions.fallback) warnings.push(`${table.name}: ${partitions.fallback}`);
  if (partitions.fallback || partitions.note)
    notes.push(partitions.note ?? `table ${table.name}: ${partitions.fallback}`);
  statements.push(
    `CREATE TABLE ${qualified} (\n  ${lines.join(',\n  ')}\n)${partitions.clause}`,
    ...partitions.statements,
  );
  if (table.comment) statements.push(`COMMENT ON TABLE ${qualified} IS ${literalPg(table.comment)}`);
  statements.push(...comments);

  const indexes = translateIndexes(table.indexes, {
    table: table.name,
    qualifiedTable: qualified,
    targetTable: targetName,
    column: (name) => table.columns.find((c) => c.name === name),
    targetColumn,
    objectName,
    targetType: (name) => createdTypes.get(name),
    included,
    fulltextConfig: options.fulltextConfig ?? DEFAULT_FULLTEXT_CONFIG,
    names,
  });
  warnings.push(...indexes.warnings);
  notes.push(...indexes.notes);
  for (const index of indexes.indexes) deferred.push({ kind: 'index', name: index.name, definition: index.definition });

  for (const fk of table.foreignKeys) {
    if (!fk.columns.every((c) => included.has(c))) continue;
    const referenced = targetOf(fk.referencedTable);
    if (!options.knownTables.has(referenced)) {
      warnings.push(
        `${table.name}: foreign key ${fk.name} references ${fk.referencedTable}, which is not in the target; not created`,
      );
      continue;
    }
    const onDelete = RULES.has(fk.onDelete) ? ` ON DELETE ${fk.onDelete}` : '';
    const onUpdateRule = RULES.has(fk.onUpdate) ? ` ON UPDATE ${fk.onUpdate}` : '';
    deferred.push({
      kind: 'foreign_key',
      name: names.allocate(`constraint:${targetName}`, objectName(fk.name)),
      definition: `FOREIGN KEY (${fk.columns.map(col).join(', ')}) REFERENCES ${qualifyPg(schema, referenced)} (${fk.referencedColumns.map((c) => quotePg(referencedColumn(fk.referencedTable, c))).join(', ')})${onDelete}${onUpdateRule}`,
    });
  }
  if (onUpdate.length > 0) {
    // After the load, like the indexes: no row of the copy is an UPDATE, but nothing the load
    // does should ever move these columns.
    deferred.push({
      kind: 'trigger',
      name: ON_UPDATE_TRIGGER,
      definition: onUpdateTriggerSql(schema, targetName, onUpdate),
    });
    notes.push(
      `table ${table.name}: ON UPDATE CURRENT_TIMESTAMP of ${onUpdate.map((c) => `${c.name} (${c.precision} digits)`).join(', ')} → BEFORE UPDATE trigger ${ON_UPDATE_TRIGGER}`,
    );
  }
  return { statements, deferred, warnings, notes };
}
