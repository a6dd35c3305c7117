import type { DataSource, QueryRunner } from 'typeorm';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { UsageError } from '../core/errors.js';
import type { TableSelection } from '../vocabulary/table-selection.js';
import type { QueueNames } from '../queue/target-scope.js';
import type { NulPolicy } from '../schema/nul-columns.js';
import type { ZeroDatePolicy } from '../vocabulary/type-families.js';
import { createTranslatedTable } from '../schema/translate/create-translated-table.js';
import { notMigratedObjects, type SchemaObjectsRecord } from '../schema/translate/schema-objects.js';
import type { ColumnTypeOverride, EnumMode, TypeOverride } from '../schema/type-overrides.js';
import { readForeignKeys } from '../dialect/postgres/catalog.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import { ensureStateSchema } from '../state/schema.js';
import { insertRun, mergeRunOptions } from '../state/runs.js';
import { adoptUnrestoredConstraints, saveConstraints } from '../state/saved-constraints.js';
import type { SavedConstraintRow } from '../state/entities.js';
import type { NamingRules } from '../vocabulary/naming.js';
import { readSecondaryIndexes } from './secondary-indexes.js';
import type { Hazard } from '../schema/hazards.js';
import { createOptionsOf, planRun, sourceTableOf, type PlannedTable } from './plan-run.js';

/** Options of `start`/`run` that shape a run. */
export interface RunOptions {
  tables?: string[] | undefined;
  exclude?: string[] | undefined;
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
  /** `--exclude-view`: source views finalize neither creates nor verifies. */
  excludeViews?: string[] | undefined;
  /** Migration file `where`: source table → MySQL condition; only those rows are copied and verified. */
  where?: Record<string, string> | undefined;
  /** Migration file renames and identifier case of created objects. Default: names kept. */
  naming?: NamingRules | undefined;
  /** The target's queues the run's jobs go to, recorded so that every later command finds them. */
  queues: QueueNames;
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
  /** Per source table, what the planner found in the catalogs (`my2pg plan` also counts the values). */
  hazards: Map<string, Hazard[]>;
}

/** Runs DDL statements (no bound values) a few hundred at a time, in the runner's transaction. */
async function runStatements(runner: QueryRunner, statements: readonly string[]): Promise<void> {
  for (let i = 0; i < statements.length; i += 200) await runner.query(statements.slice(i, i + 200).join(';\n'));
}

/** A planned table's estimated size, for ordering its jobs. */
function sizeOf(plan: PlannedTable): number {
  return Math.max(plan.estimatedBytes ?? 0, plan.estimatedRows);
}

/**
 * Plans a run and prepares the target: checks the schema, creates missing tables, saves and
 * drops the foreign keys that touch the run's tables (in one transaction, so a crash cannot
 * lose a definition), and records the run in the `my2pg` schema.
 */
export async function prepareRun(source: DataSource, target: DataSource, options: RunOptions): Promise<PreparedRun> {
  const plan = await planRun(source, target, options, 'run');
  const { schema, schemaState, objects, planned, syncAlembic, fulltextConfig, nul, zeroDate, rangeRows, rangeCounts, runId } = plan;
  if (!schemaState.exists) throw new UsageError(`the target schema ${JSON.stringify(schema)} does not exist in PostgreSQL; create it (CREATE SCHEMA ${quotePg(schema)}) or pass --schema`);
  if (!schemaState.canUse || !schemaState.canCreate) {
    throw new UsageError(`the PostgreSQL user cannot write to schema ${JSON.stringify(schema)} (needs USAGE and CREATE); grant them or use another --schema`);
  }
  const warnings = [...plan.warnings];
  const translated = [...plan.translated];
  const created = planned.filter((p) => p.action === 'create');
  // Only now that the input is known good: a refused start must leave the target untouched.
  try {
    await ensureStateSchema(target);
  } catch (error) {
    throw new UsageError(`cannot create my2pg's state schema "my2pg" in the target: ${(error as Error).message}; grant CREATE on the database or create the schema for this user`);
  }

  let droppedForeignKeys = 0;
  let droppedIndexes = 0;
  await target.transaction(async (manager) => {
    const runner = manager.queryRunner!;
    await insertRun(
      manager,
      {
        id: runId,
        targetSchema: schema,
        sourceDatabase: plan.catalog.database,
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
          excludeViews: options.excludeViews ?? [],
          queues: options.queues,
        },
      },
      planned.map((p) => ({ tableName: p.table, targetTable: p.targetTable, jobId: p.jobId, action: p.action })),
    );
    const touched = planned.map((p) => p.targetTable);
    await adoptUnrestoredConstraints(manager, runId, schema, touched);
    const schemaObjects: SchemaObjectsRecord = { generated: [], checks: [], notMigrated: notMigratedObjects(objects, options.excludeViews ?? []) };
    // Statements and saved definitions go in a few round trips (a schema may have hundreds of tables).
    const statements: string[] = [];
    const saved: Omit<SavedConstraintRow, 'id' | 'savedAt' | 'restoredAt' | 'error'>[] = [];
    for (const table of created) {
      const { ddl, generated, checks, executed } = await createTranslatedTable((sql) => runner.query(sql), sourceTableOf(plan, table), schema, createOptionsOf(plan, table), objects);
      schemaObjects.generated.push(...generated);
      schemaObjects.checks.push(...checks);
      warnings.push(...ddl.warnings);
      translated.push(...ddl.notes);
      if (!executed) statements.push(...ddl.statements);
      for (const item of ddl.deferred) saved.push({ runId, kind: item.kind, schemaName: schema, tableName: table.targetTable, name: item.name, definition: item.definition });
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
    notMigrated: notMigratedObjects(objects, options.excludeViews ?? []).map((o) => `${o.kind} ${o.name}${o.reason ? ` (${o.reason})` : ''}`),
    droppedForeignKeys,
    droppedIndexes,
    translated,
    hazards: plan.hazards,
  };
}
