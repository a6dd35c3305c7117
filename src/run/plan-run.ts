import type { DataSource } from 'typeorm';
import { withPgClient } from '../dialect/postgres/connection.js';
import { UsageError } from '../core/errors.js';
import { matchTargetTable, selectTables, type TableSelection } from '../vocabulary/table-selection.js';
import type { QueueNames } from '../queue/target-scope.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import { DEFAULT_NAMING, namingProblems, targetTableName, type NamingRules } from '../vocabulary/naming.js';
import { copyJobId, newRunId } from '../state/job-ids.js';
import { DEFAULT_FULLTEXT_CONFIG } from '../schema/index-ddl.js';
import { DEFAULT_NUL_POLICY, type NulPolicy } from '../schema/nul-columns.js';
import { DEFAULT_ZERO_DATE_POLICY, type ZeroDatePolicy } from '../vocabulary/type-families.js';
import { planCreatedTables } from './plan-created-tables.js';
import { resolveExcludedViews } from '../schema/translate/schema-objects.js';
import { readSourceObjects } from '../schema/translate/source-objects.js';
import { entitySchemaFor, selectionOfEntitySchema } from '../schema/entity-schemas.js';
import { readSourceCatalog } from '../dialect/mysql/catalog.js';
import {
  resolveColumnOverrides,
  type ColumnTypeOverride,
  type EnumMode,
  type TypeMapOptions,
  type TypeOverride,
} from '../schema/type-overrides.js';
import { inspectTargetSchema, readTargetTables, type TargetTable } from '../dialect/postgres/catalog.js';
import { planTableRanges } from './plan-table-ranges.js';
import { planHazards } from './plan-hazards.js';
import { checkPgTypes, findPostgisSchema } from './plan-target-types.js';
import { checkWhereConditions } from './where-conditions.js';
import type { PartitionMode } from '../schema/partition-ddl.js';
import { dataTypesOf, decideDataTypes } from '../schema/data-decided-types.js';
import type { PlannedTable, PlanReading, RunPlan } from './run-plan.js';

/** Default `--range-rows`: a table with more (estimated) rows is split into key-range jobs. */
const DEFAULT_RANGE_ROWS = 500_000;

/** Options of `start`/`run` that shape a run. */
export interface RunOptions {
  /** Names or globs of the tables to copy; undefined = all. */
  tables?: string[] | undefined;
  /** Names or globs of tables not to copy. */
  exclude?: string[] | undefined;
  /** Where `tables`, `exclude` and `excludeViews` came from, for messages (`tables.include`); default the flags. */
  origins?:
    | { tables?: string | undefined; exclude?: string | undefined; excludeViews?: string | undefined }
    | undefined;
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
  /** `--partitions`: partitioned tables stay partitioned where PostgreSQL can express them (default), or become plain. */
  partitions?: PartitionMode | undefined;
  /** `--zero-date`: write zero dates as NULL (default, counted) or reject their rows. */
  zeroDate?: ZeroDatePolicy | undefined;
  /** `--fulltext-config`: text search configuration of the GIN indexes made from FULLTEXT ones. Default simple. */
  fulltextConfig?: string | undefined;
  /** `--exclude-view`: source views finalize neither creates nor verifies. */
  excludeViews?: string[] | undefined;
  /** Migration file `where`: source table → MySQL condition; only those rows are copied and verified. */
  where?: Record<string, string> | undefined;
  /** Migration file renames and identifier case of created objects. Default: names kept. */
  naming?: NamingRules | undefined;
  /** The target's queues the run's jobs go to, recorded so that every later command finds them. */
  queues: QueueNames;
  /** `--follow`: check the binary log's preconditions, record its position, and follow it after the copy. */
  follow?: boolean | undefined;
  /** `--fallback` (with --follow): the way back from PostgreSQL to MySQL is armed at cutover; its preconditions checked before anything is written. */
  fallback?: boolean | undefined;
  /** `--on-ddl`: what the follower does at a schema change of a followed table (default apply). */
  onDdl?: 'apply' | 'hold' | 'stop' | undefined;
}

/**
 * Plans a run from both catalogs: which tables, created or filled under which names, with
 * which types, in which key ranges, and what will not arrive as it is. The same plan drives
 * `run`/`start` (prepareRun, which then writes it) and `my2pg plan` (which only shows it).
 * Nothing is written anywhere; a usage problem (unknown table, view or type) is a UsageError.
 */
export async function planRun(
  source: DataSource,
  target: DataSource,
  options: Omit<RunOptions, 'queues'>,
  reading: PlanReading,
): Promise<RunPlan> {
  const schema = options.targetSchema;
  const schemaState = await withPgClient(target, (client) => inspectTargetSchema(client, schema));
  const catalog = await readSourceCatalog(source);
  const isMariaDb = catalog.serverVersion.startsWith('MariaDB');
  const described = options.entities ?? catalog.tables.map((t) => selectionOfEntitySchema(entitySchemaFor(t)));
  const { tables: selected, syncAlembic } = selectTables(
    catalog.tables.map((t) => t.name),
    {
      tables: options.tables,
      exclude: options.exclude,
      entities: options.entities ? described : undefined,
      origins: options.origins,
    },
  );
  const objects = await readSourceObjects(source);
  // Globs are resolved here, once: the run records the views they picked.
  const { views: excludeViews, unknown: unknownViews } = resolveExcludedViews(objects, options.excludeViews ?? []);
  if (unknownViews.length > 0) {
    throw new UsageError(
      `unknown view${unknownViews.length > 1 ? 's' : ''} in ${options.origins?.excludeViews ?? '--exclude-view'}: ${unknownViews.join(', ')} (the source has ${objects.views.length} views${objects.views.length > 0 ? `: ${objects.views.map((v) => v.name).join(', ')}` : ''})`,
    );
  }
  const warnings: string[] = [];
  // Renames of what the source lacks, and names that would meet in PostgreSQL (after renames,
  // the case rule, and the 63-byte cut of identifiers.ts), are refused before anything is written.
  const naming = options.naming ?? DEFAULT_NAMING;
  const problems = namingProblems(naming, catalog.tables, selected);
  if (problems.length > 0) throw new UsageError(`target names: ${problems.join('; ')}`);
  const where = options.where ?? {};
  const whereProblems = await checkWhereConditions(
    source,
    where,
    catalog.tables.map((t) => t.name),
    selected.map((t) => t.table),
  );
  if (whereProblems.length > 0) throw new UsageError(`migration file: ${whereProblems.join('; ')}`);

  const existing = schemaState.exists
    ? await withPgClient(target, (client) => readTargetTables(client, schema))
    : new Map<string, TargetTable>();
  const existingNames = [...existing.keys()];
  const runId = newRunId();
  /**
   * The existing target table of a source table: its name under the run's rules (case, 63
   * bytes), else the same name, else one same name ignoring case. A renamed table is only ever
   * the table its rename names, exactly: filling another one would ignore the rename.
   */
  const matchExisting = (name: string): string | undefined => {
    const mapped = targetTableName(naming, name);
    if (naming.tables[name] !== undefined) return existingNames.includes(mapped) ? mapped : undefined;
    return matchTargetTable(mapped, existingNames) ?? matchTargetTable(name, existingNames);
  };
  const planned: PlannedTable[] = selected.map((sel) => {
    const source = catalog.tables.find((t) => t.name === sel.table)!;
    const match = matchExisting(sel.table);
    return {
      table: sel.table,
      targetTable: match ?? targetTableName(naming, sel.table),
      action: match ? 'fill' : 'create',
      columns: options.entities ? sel.columns : undefined,
      jobId: copyJobId(runId, sel.table),
      estimatedRows: source.estimatedRows,
      estimatedBytes: source.dataBytes ?? 0,
    };
  });
  const knownTables = new Set([...existingNames, ...planned.map((p) => p.targetTable)]);
  const columnOverrides = resolveColumnOverrides(options.columnTypeOverrides ?? [], catalog.tables);
  const postgisSchema = await withPgClient(target, async (client) => {
    await checkPgTypes(client, [
      ...(options.typeOverrides ?? []).map((o) => o.pgType),
      ...(options.columnTypeOverrides ?? []).map((o) => o.pgType),
    ]);
    return findPostgisSchema(client);
  });
  const typeOptions: TypeMapOptions = {
    typeOverrides: options.typeOverrides ?? [],
    columnOverrides,
    enumMode: options.enumMode ?? 'type',
    postgisSchema,
  };
  const fulltextConfig = options.fulltextConfig ?? DEFAULT_FULLTEXT_CONFIG;
  const nul = options.nul ?? DEFAULT_NUL_POLICY;
  const zeroDate = options.zeroDate ?? DEFAULT_ZERO_DATE_POLICY;
  const created = planned.filter((p) => p.action === 'create');
  const sourceTable = (name: string) => catalog.tables.find((t) => t.name === name)!;
  // Before anything maps a type: every later step (key groups, hazards, DDL) sees the decision.
  const decidedTypes = await decideDataTypes(
    source,
    created.map((p) => ({ table: sourceTable(p.table), columns: p.columns, where: where[p.table] })),
    typeOptions,
    reading !== 'quick',
  );
  typeOptions.dataTypes = dataTypesOf(decidedTypes);

  const { hazards, countedRows, zeroDateColumns, nulColumns } = await planHazards(source, {
    planned,
    created,
    existing,
    catalog,
    typeOptions,
    naming,
    where,
    nul,
    zeroDate,
    allowRejects: Boolean(options.allowRejects),
    reading,
  });
  const createdPlan = await planCreatedTables(source, target, {
    schema,
    catalog,
    planned,
    existing,
    matchExisting,
    types: typeOptions,
    nul,
    fulltextConfig,
    nulColumns,
    naming,
  });
  warnings.push(...createdPlan.warnings);
  const translated = [
    ...decidedTypes
      .filter((d) => d.type !== 'boolean')
      .map((d) => `table ${d.table}: column ${d.column} ${d.mysqlType} → ${d.type} (${d.reason})`),
    ...createdPlan.translated,
  ];
  for (const [table] of columnOverrides) {
    if (!planned.some((p) => p.table === table && p.action === 'create'))
      warnings.push(`--column-type for table ${table} has no effect: the table is not created by this run`);
  }

  const rangeRows = options.rangeRows ?? DEFAULT_RANGE_ROWS;
  const rangeCounts = await planTableRanges(source, catalog, planned, rangeRows, where);
  return {
    runId,
    schema,
    schemaState,
    catalog,
    isMariaDb,
    objects,
    excludeViews,
    planned,
    syncAlembic,
    existing,
    matchExisting,
    knownTables,
    typeOptions,
    columnOverrides,
    fulltextConfig,
    nul,
    zeroDate,
    createdPlan,
    naming,
    zeroDateColumns,
    rangeRows,
    rangeCounts,
    countedRows,
    hazards,
    warnings,
    translated,
    decidedTypes,
    partitions: options.partitions ?? 'keep',
  };
}
