import type { DataSource, QueryRunner } from 'typeorm';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { UsageError } from '../core/errors.js';
import { matchTargetTable, selectTables, type TableSelection } from '../vocabulary/table-selection.js';
import { copyJobId, newRunId } from '../state/job-ids.js';
import type { QueueNames } from '../queue/target-scope.js';
import { findFittedCollisions, targetIdentifier } from '../vocabulary/identifiers.js';
import { DEFAULT_FULLTEXT_CONFIG } from '../schema/index-ddl.js';
import { DEFAULT_NUL_POLICY, type NulPolicy } from '../schema/nul-columns.js';
import { DEFAULT_ZERO_DATE_POLICY, type ZeroDatePolicy } from '../vocabulary/type-families.js';
import { planCreatedTables } from './plan-created-tables.js';
import { createTranslatedTable } from '../schema/translate/create-translated-table.js';
import { notMigratedObjects, resolveExcludedViews, type SchemaObjectsRecord } from '../schema/translate/schema-objects.js';
import { readSourceObjects, type SourceObjects } from '../schema/translate/source-objects.js';
import { entitySchemaFor, selectionOfEntitySchema } from '../schema/entity-schemas.js';
import { findZeroDateColumns, readSourceCatalog, type SourceCatalog } from '../dialect/mysql/catalog.js';
import { resolveColumnOverrides, type ColumnTypeOverride, type EnumMode, type TypeMapOptions, type TypeOverride } from '../schema/type-overrides.js';
import { inspectTargetSchema, readForeignKeys, readTargetTables } from '../dialect/postgres/catalog.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import { ensureStateSchema } from '../state/schema.js';
import { insertRun, mergeRunOptions } from '../state/runs.js';
import { adoptUnrestoredConstraints, saveConstraints } from '../state/saved-constraints.js';
import type { SavedConstraintRow } from '../state/entities.js';
import type { KeyRange } from '../vocabulary/key-range.js';
import type { NamingRules } from '../vocabulary/naming.js';
import { planTableRanges } from './plan-table-ranges.js';
import { readSecondaryIndexes } from './secondary-indexes.js';
import { mapWithConcurrency } from '../finalize/restore-constraints.js';

/** Default `--range-rows`: a table with more (estimated) rows is split into key-range jobs. */
const DEFAULT_RANGE_ROWS = 500_000;

/** Options of `start`/`run` that shape a run. */
export interface RunOptions {
  /** Names or globs of the tables to copy; undefined = all. */
  tables?: string[] | undefined;
  /** Names or globs of tables not to copy. */
  exclude?: string[] | undefined;
  /** Where `tables`, `exclude` and `excludeViews` came from, for messages (`tables.include`); default the flags. */
  origins?: { tables?: string | undefined; exclude?: string | undefined; excludeViews?: string | undefined } | undefined;
  /** Tables and columns from `--entities`. */
  entities?: TableSelection[] | undefined;
  batchSize: number;
  /**
   * Estimated rows per key-range job: a table with an integer primary key and more rows than
   * this is split into ranges that workers copy at once. 0 = never split. Default 500000.
   */
  rangeRows?: number | undefined;
  /** Where the source lives, password redacted (recorded in the run). */
  sourceLabel: string;
  targetSchema: string;
  /** How finalize verifies the copy. Default checksum. */
  verify?: VerifyMethod | undefined;
  /** Count the run as verified even when rows were rejected. */
  allowRejects?: boolean | undefined;
  /** `--type` / MY2PG_TYPES: per MySQL type, for tables my2pg creates. */
  typeOverrides?: TypeOverride[] | undefined;
  /** `--column-type` / MY2PG_COLUMN_TYPES: per column, for tables my2pg creates. */
  columnTypeOverrides?: ColumnTypeOverride[] | undefined;
  /** `--enum`: PostgreSQL enum types (default) or text with a CHECK constraint. */
  enumMode?: EnumMode | undefined;
  /** `--nul`: reject rows whose text holds NUL (default), strip the NULs, or create such columns as bytea. */
  nul?: NulPolicy | undefined;
  /** `--zero-date`: write zero dates as NULL (default, counted) or reject their rows. */
  zeroDate?: ZeroDatePolicy | undefined;
  /** `--fulltext-config`: text search configuration of the GIN indexes made from FULLTEXT ones. Default simple. */
  fulltextConfig?: string | undefined;
  /** `--exclude-view`: names or globs of source views finalize neither creates nor verifies. */
  excludeViews?: string[] | undefined;
  /** Migration file `where`: source table → MySQL condition; only those rows are copied and verified. */
  where?: Record<string, string> | undefined;
  /** Migration file renames and identifier case of created objects. Default: names kept. */
  naming?: NamingRules | undefined;
  /** The target's queues the run's jobs go to, recorded so that every later command finds them. */
  queues: QueueNames;
}

/** Checks each override's PostgreSQL type against the target, listing every unknown one at once. */
async function checkPgTypes(client: PoolClient, types: readonly string[]): Promise<void> {
  const unknown: string[] = [];
  for (const type of new Set(types)) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT to_regtype($1) IS NOT NULL AS ok', [type]);
    if (!rows[0]?.ok) unknown.push(type);
  }
  if (unknown.length > 0) {
    throw new UsageError(`unknown PostgreSQL type${unknown.length > 1 ? 's' : ''} in --type/--column-type: ${unknown.join(', ')}; use a type the target database has (e.g. smallint, text, numeric(20,0))`);
  }
}

/** One table of a prepared run. */
interface PlannedTable {
  table: string;
  targetTable: string;
  action: 'fill' | 'create';
  columns?: string[] | undefined;
  jobId: string;
  estimatedRows: number;
  /** Estimated bytes (DATA_LENGTH). */
  estimatedBytes?: number;
  /** Key-range jobs of a split table (source key column and bounds); absent = one job. */
  ranges?: (KeyRange & { jobId: string; column: string })[] | undefined;
}

/** A run saved in the target and ready to enqueue. */
export interface PreparedRun {
  runId: string;
  targetSchema: string;
  batchSize: number;
  tables: PlannedTable[];
  syncAlembic: boolean;
  warnings: string[];
  /** Source objects that are not migrated (triggers, procedures, functions, events, excluded views). */
  notMigrated: string[];
  /** What the created tables got in another PostgreSQL form (key types, indexes, ON UPDATE triggers, bytea for NUL), also kept in `my2pg.runs.options.translated`. */
  translated: string[];
  /** Foreign keys dropped for the load. */
  droppedForeignKeys: number;
  /** Secondary indexes of existing tables dropped for the load (rebuilt by finalize). */
  droppedIndexes: number;
}

/** Runs DDL statements (no bound values) a few hundred at a time, in the runner's transaction. */
async function runStatements(runner: QueryRunner, statements: readonly string[]): Promise<void> {
  for (let i = 0; i < statements.length; i += 200) await runner.query(statements.slice(i, i + 200).join(';\n'));
}

/** A planned table's estimated size, for ordering its jobs. */
function sizeOf(plan: PlannedTable): number {
  return Math.max(plan.estimatedBytes ?? 0, plan.estimatedRows);
}

/** What {@link checkRunInput} found: the source's tables and objects, and the run's selection of them. */
interface CheckedInput {
  catalog: SourceCatalog;
  selected: TableSelection[];
  syncAlembic: boolean;
  objects: SourceObjects;
  /** The views excluded, globs resolved. */
  excludeViews: string[];
  columnOverrides: Map<string, Map<string, string>>;
}

/**
 * Checks a run's input against the source and the target without writing anything: the
 * tables and views it names (names or globs), names that would meet once cut to 63 bytes,
 * the column overrides and the PostgreSQL types of all overrides. A problem is a UsageError.
 * `start` with several databases checks them all this way before it changes anything.
 */
export async function checkRunInput(source: DataSource, target: DataSource, options: Omit<RunOptions, 'queues'>): Promise<CheckedInput> {
  const catalog = await readSourceCatalog(source);
  const described = options.entities ?? catalog.tables.map((t) => selectionOfEntitySchema(entitySchemaFor(t)));
  const { tables: selected, syncAlembic } = selectTables(
    catalog.tables.map((t) => t.name),
    { tables: options.tables, exclude: options.exclude, entities: options.entities ? described : undefined, origins: options.origins },
  );
  const objects = await readSourceObjects(source);
  // Globs are resolved here, once: the run records the views they picked.
  const { views: excludeViews, unknown: unknownViews } = resolveExcludedViews(objects, options.excludeViews ?? []);
  if (unknownViews.length > 0) {
    throw new UsageError(`unknown view${unknownViews.length > 1 ? 's' : ''} in ${options.origins?.excludeViews ?? '--exclude-view'}: ${unknownViews.join(', ')} (the source has ${objects.views.length} views${objects.views.length > 0 ? `: ${objects.views.map((v) => v.name).join(', ')}` : ''})`);
  }
  // Names longer than PostgreSQL's 63 bytes are cut with a hash (identifiers.ts); two that
  // would still meet are refused before anything is written.
  const clashes = [
    ...findFittedCollisions(selected.map((t) => t.table)).map((g) => `tables ${g.join(', ')}`),
    ...catalog.tables
      .filter((t) => selected.some((sel) => sel.table === t.name))
      .flatMap((t) => findFittedCollisions(t.columns.map((c) => c.name)).map((g) => `columns ${g.join(', ')} of table ${t.name}`)),
  ];
  if (clashes.length > 0) throw new UsageError(`names that PostgreSQL cannot tell apart once cut to 63 bytes: ${clashes.join('; ')}; exclude or rename them`);
  const columnOverrides = resolveColumnOverrides(options.columnTypeOverrides ?? [], catalog.tables);
  await withPgClient(target, (client) => checkPgTypes(client, [...(options.typeOverrides ?? []).map((o) => o.pgType), ...(options.columnTypeOverrides ?? []).map((o) => o.pgType)]));
  return { catalog, selected, syncAlembic, objects, excludeViews, columnOverrides };
}

/**
 * Plans a run and prepares the target: checks the schema, creates missing tables, saves and
 * drops the foreign keys that touch the run's tables (in one transaction, so a crash cannot
 * lose a definition), and records the run in the `my2pg` schema.
 */
export async function prepareRun(source: DataSource, target: DataSource, options: RunOptions): Promise<PreparedRun> {
  const schema = options.targetSchema;
  const schemaState = await withPgClient(target, (client) => inspectTargetSchema(client, schema));
  if (!schemaState.exists) throw new UsageError(`the target schema ${JSON.stringify(schema)} does not exist in PostgreSQL; create it (CREATE SCHEMA ${quotePg(schema)}) or pass --schema`);
  if (!schemaState.canUse || !schemaState.canCreate) {
    throw new UsageError(`the PostgreSQL user cannot write to schema ${JSON.stringify(schema)} (needs USAGE and CREATE); grant them or use another --schema`);
  }
  const { catalog, selected, syncAlembic, objects, excludeViews, columnOverrides } = await checkRunInput(source, target, options);
  const isMariaDb = catalog.serverVersion.startsWith('MariaDB');
  const warnings: string[] = [];
  // Only now that the input is known good: a refused start must leave the target untouched.
  try {
    await ensureStateSchema(target);
  } catch (error) {
    throw new UsageError(`cannot create my2pg's state schema "my2pg" in the target: ${(error as Error).message}; grant CREATE on the database or create the schema for this user`);
  }

  const existing = await withPgClient(target, (client) => readTargetTables(client, schema));
  const existingNames = [...existing.keys()];
  const runId = newRunId();
  /** The existing target table of a source table: same name (or its 63-byte form), else one same name ignoring case. */
  const matchExisting = (name: string): string | undefined =>
    matchTargetTable(name, existingNames) ?? (targetIdentifier(name) !== name ? matchTargetTable(targetIdentifier(name), existingNames) : undefined);
  const planned: PlannedTable[] = selected.map((sel) => {
    const source = catalog.tables.find((t) => t.name === sel.table)!;
    const match = matchExisting(sel.table);
    return {
      table: sel.table,
      targetTable: match ?? targetIdentifier(sel.table),
      action: match ? 'fill' : 'create',
      columns: options.entities ? sel.columns : undefined,
      jobId: copyJobId(runId, sel.table),
      estimatedRows: source.estimatedRows,
      estimatedBytes: source.dataBytes ?? 0,
    };
  });
  const knownTables = new Set([...existingNames, ...planned.map((p) => p.targetTable)]);
  const postgisSchema = await withPgClient(target, async (client) => {
    const { rows } = await client.query<{ schema: string }>("SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis'");
    return rows[0]?.schema ?? null;
  });
  const typeOptions: TypeMapOptions = { typeOverrides: options.typeOverrides ?? [], columnOverrides, enumMode: options.enumMode ?? 'type', postgisSchema };
  const fulltextConfig = options.fulltextConfig ?? DEFAULT_FULLTEXT_CONFIG;
  const nul = options.nul ?? DEFAULT_NUL_POLICY;
  const created = planned.filter((p) => p.action === 'create');
  const createdPlan = await planCreatedTables(source, target, { schema, catalog, planned, existing, matchExisting, types: typeOptions, nul, fulltextConfig });
  warnings.push(...createdPlan.warnings);
  const translated = [...createdPlan.translated];
  for (const [table] of columnOverrides) {
    if (!planned.some((p) => p.table === table && p.action === 'create')) warnings.push(`--column-type for table ${table} has no effect: the table is not created by this run`);
  }
  // Zero dates in NOT NULL columns land as NULL, so those columns are created nullable (one scan
  // per such table, before the load; a few tables at once, since each is a full scan). Under
  // --zero-date reject their rows are set aside instead, and the columns keep NOT NULL.
  const zeroDate = options.zeroDate ?? DEFAULT_ZERO_DATE_POLICY;
  const zeroDateColumns = new Map<string, string[]>();
  await mapWithConcurrency(zeroDate === 'null' ? created : [], 3, async (plan) => {
    zeroDateColumns.set(plan.table, await findZeroDateColumns(source, catalog.tables.find((t) => t.name === plan.table)!));
  });

  const rangeRows = options.rangeRows ?? DEFAULT_RANGE_ROWS;
  const rangeCounts = await planTableRanges(source, catalog, planned, rangeRows);

  let droppedForeignKeys = 0;
  let droppedIndexes = 0;
  await target.transaction(async (manager) => {
    const runner = manager.queryRunner!;
    await insertRun(
      manager,
      {
        id: runId,
        targetSchema: schema,
        sourceDatabase: catalog.database,
        source: options.sourceLabel,
        options: {
          batchSize: options.batchSize,
          rangeRows,
          ranges: rangeCounts,
          tables: options.tables ?? null,
          exclude: options.exclude ?? null,
          entities: Boolean(options.entities),
          // The columns each table copies, so that verification compares the same ones.
          columns: Object.fromEntries(planned.flatMap((p) => (p.columns ? [[p.table, p.columns] as const] : []))),
          syncAlembic,
          verify: options.verify ?? 'checksum',
          allowRejects: Boolean(options.allowRejects),
          nul,
          zeroDate,
          fulltextConfig,
          excludeViews,
          queues: options.queues,
        },
      },
      planned.map((p) => ({ tableName: p.table, targetTable: p.targetTable, jobId: p.jobId, action: p.action })),
    );
    const touched = planned.map((p) => p.targetTable);
    await adoptUnrestoredConstraints(manager, runId, schema, touched);
    const schemaObjects: SchemaObjectsRecord = { generated: [], checks: [], notMigrated: notMigratedObjects(objects, excludeViews) };
    // Statements and saved definitions go in a few round trips (a schema may have hundreds of tables).
    const statements: string[] = [];
    const saved: Omit<SavedConstraintRow, 'id' | 'savedAt' | 'restoredAt' | 'error'>[] = [];
    for (const plan of created) {
      const sourceTable = catalog.tables.find((t) => t.name === plan.table)!;
      const { ddl, generated, checks, executed } = await createTranslatedTable((sql) => runner.query(sql), sourceTable, schema, {
        columns: plan.columns,
        isMariaDb,
        knownTables,
        types: typeOptions,
        zeroDateColumns: zeroDateColumns.get(plan.table) ?? [],
        targetName: plan.targetTable,
        tableNames: createdPlan.tableNames,
        keyTypes: createdPlan.keyTypes.get(plan.table),
        byteaColumns: createdPlan.nulColumns.get(plan.table),
        fulltextConfig,
        names: createdPlan.names,
      }, objects);
      schemaObjects.generated.push(...generated);
      schemaObjects.checks.push(...checks);
      warnings.push(...ddl.warnings);
      translated.push(...ddl.notes);
      if (!executed) statements.push(...ddl.statements);
      for (const item of ddl.deferred) saved.push({ runId, kind: item.kind, schemaName: schema, tableName: plan.targetTable, name: item.name, definition: item.definition });
    }
    await runStatements(runner, statements);
    // What became of generated columns, CHECKs and the objects not migrated: finalize and status report it.
    // translated: what the created tables got in another form (report and my2pg.runs.options).
    await mergeRunOptions(manager, runId, { schemaObjects, translated });
    const client = (await runner.connect()) as PoolClient;
    const foreignKeys = await readForeignKeys(client, schema, touched);
    for (const fk of foreignKeys) saved.push({ runId, kind: 'foreign_key', schemaName: fk.schema, tableName: fk.table, name: fk.name, definition: fk.definition });
    // Saved before they are dropped, in the same transaction: a crash cannot lose a definition.
    await saveConstraints(manager, saved.splice(0));
    await runStatements(runner, foreignKeys.map((fk) => `ALTER TABLE ${qualifyPg(fk.schema, fk.table)} DROP CONSTRAINT ${quotePg(fk.name)}`));
    droppedForeignKeys = foreignKeys.length;
    // Secondary indexes slow COPY down several times; they are saved, dropped, and rebuilt in
    // parallel by finalize. The foreign keys that could depend on a unique one are gone by now.
    const filled = planned.filter((p) => p.action === 'fill').map((p) => p.targetTable);
    const indexes = await readSecondaryIndexes(client, schema, filled);
    await saveConstraints(
      manager,
      indexes.map((index) => ({ runId, kind: 'index' as const, schemaName: index.schema, tableName: index.table, name: index.name, definition: index.restore })),
    );
    await runStatements(runner, indexes.map((index) => index.drop));
    droppedIndexes = indexes.length;
    // A split table is emptied once here; each range job then deletes only its own range
    // (cheap on an empty table) before its COPY, so every range stays idempotent on its own.
    for (const plan of planned.filter((p) => p.ranges && p.action === 'fill')) {
      await runner.query(`TRUNCATE TABLE ONLY ${qualifyPg(schema, plan.targetTable)}`);
    }
  });
  return {
    runId,
    targetSchema: schema,
    batchSize: options.batchSize,
    // Biggest first: workers take jobs in this order, so the long copies start at once and
    // small tables fill the gaps at the end instead of a big one finishing last.
    tables: [...planned].sort((a, b) => sizeOf(b) - sizeOf(a)),
    syncAlembic,
    warnings,
    notMigrated: notMigratedObjects(objects, excludeViews).map((o) => `${o.kind} ${o.name}${o.reason ? ` (${o.reason})` : ''}`),
    droppedForeignKeys,
    droppedIndexes,
    translated,
  };
}
