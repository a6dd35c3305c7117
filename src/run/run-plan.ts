import type { SourceCatalog, SourceTable } from '../dialect/mysql/catalog.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import type { DecidedType } from '../schema/data-decided-types.js';
import type { Hazard } from '../schema/hazards.js';
import type { NulPolicy } from '../schema/nul-columns.js';
import type { PartitionMode } from '../schema/partition-ddl.js';
import type { createTranslatedTable } from '../schema/translate/create-translated-table.js';
import type { SourceObjects } from '../schema/translate/source-objects.js';
import type { TypeMapOptions } from '../schema/type-overrides.js';
import type { RangeCounts } from '../state/job-ids.js';
import type { KeyRange } from '../vocabulary/key-range.js';
import type { NamingRules } from '../vocabulary/naming.js';
import type { ZeroDatePolicy } from '../vocabulary/type-families.js';
import type { CreatedTablesPlan } from './plan-created-tables.js';

/** One table of a planned run. */
export interface PlannedTable {
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
  /** Why a table big enough to split stays one job (its key), for `plan` to say. */
  unsplit?: string | undefined;
}

/**
 * How much of the data the planner reads: `run` scans what the created tables' DDL depends on
 * (zero dates in NOT NULL columns, NUL characters under `--nul bytea`); `count` reads each
 * table once to count every hazard exactly (`my2pg plan`); `quick` reads no rows at all.
 */
export type PlanReading = 'run' | 'count' | 'quick';

/** Everything a run is decided from, read from both catalogs (and, as `reading` says, the data); nothing is written. */
export interface RunPlan {
  runId: string;
  schema: string;
  /** The target schema as it is: missing, or not writable by this user. */
  schemaState: { exists: boolean; canUse: boolean; canCreate: boolean };
  catalog: SourceCatalog;
  isMariaDb: boolean;
  objects: SourceObjects;
  /** The source views neither created nor verified (`excludeViews`' names and globs, resolved). */
  excludeViews: string[];
  planned: PlannedTable[];
  syncAlembic: boolean;
  existing: Map<string, TargetTable>;
  matchExisting: (sourceTable: string) => string | undefined;
  knownTables: Set<string>;
  typeOptions: TypeMapOptions;
  /** Source table → column → PostgreSQL type from `--column-type`. */
  columnOverrides: ReadonlyMap<string, ReadonlyMap<string, string>>;
  fulltextConfig: string;
  nul: NulPolicy;
  zeroDate: ZeroDatePolicy;
  createdPlan: CreatedTablesPlan;
  /** The run's renames and identifier case (defaults filled in). */
  naming: NamingRules;
  /** Per created table, the NOT NULL date columns holding zero dates (created nullable under --zero-date null). */
  zeroDateColumns: Map<string, string[]>;
  rangeRows: number;
  rangeCounts: RangeCounts;
  /** Per source table, its exact number of rows (the rows `where` keeps), when `reading` is `count`. */
  countedRows: Map<string, number>;
  /** Per source table, what will not arrive as it is (counted unless `reading` is `quick`). */
  hazards: Map<string, Hazard[]>;
  warnings: string[];
  translated: string[];
  partitions: PartitionMode;
  /** The tinyint(1)/bit(1) columns of created tables, boolean or smallint as their data decides. */
  decidedTypes: DecidedType[];
}

/** The source table of a planned table. */
export function sourceTableOf(plan: RunPlan, table: PlannedTable): SourceTable {
  return plan.catalog.tables.find((t) => t.name === table.table)!;
}

/** How a created table is built (the same for the run and for `my2pg plan`'s trial). */
export function createOptionsOf(plan: RunPlan, table: PlannedTable): Parameters<typeof createTranslatedTable>[3] {
  return {
    columns: table.columns,
    isMariaDb: plan.isMariaDb,
    knownTables: plan.knownTables,
    types: plan.typeOptions,
    zeroDateColumns: plan.zeroDateColumns.get(table.table) ?? [],
    targetName: table.targetTable,
    tableNames: plan.createdPlan.tableNames,
    keyTypes: plan.createdPlan.keyTypes.get(table.table),
    byteaColumns: plan.createdPlan.nulColumns.get(table.table),
    fulltextConfig: plan.fulltextConfig,
    names: plan.createdPlan.names,
    columnNames: plan.createdPlan.columnName,
    naming: plan.naming,
    partitions: plan.partitions,
  };
}
