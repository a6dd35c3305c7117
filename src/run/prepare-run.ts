import type { DataSource } from 'typeorm';
import { withPgClient, type PoolClient } from '../db/postgres.js';
import { qualifyPg, quotePg } from '../db/quote.js';
import { UsageError } from '../errors.js';
import { matchTargetTable, selectTables, type TableSelection } from '../plan.js';
import { copyJobId, newRunId } from '../queue/contract.js';
import { buildCreateTable } from '../schema/ddl.js';
import { entitySchemaFor, selectionOfEntitySchema } from '../schema/entity-schemas.js';
import { readSourceCatalog } from '../schema/source-catalog.js';
import { inspectTargetSchema, readForeignKeys, readTargetTables } from '../schema/target-catalog.js';
import { adoptUnrestoredConstraints, ensureStateSchema, insertRun, saveConstraint } from '../state/store.js';

/** Options of `start`/`run` that shape a run. */
export interface RunOptions {
  tables?: string[] | undefined;
  exclude?: string[] | undefined;
  /** Tables and columns from `--entities`. */
  entities?: TableSelection[] | undefined;
  batchSize: number;
  /** Where the source lives, password redacted (recorded in the run). */
  sourceLabel: string;
  targetSchema: string;
}

/** One table of a prepared run. */
export interface PlannedTable {
  table: string;
  targetTable: string;
  action: 'fill' | 'create';
  columns?: string[] | undefined;
  jobId: string;
  estimatedRows: number;
}

/** A run saved in the target and ready to enqueue. */
export interface PreparedRun {
  runId: string;
  targetSchema: string;
  batchSize: number;
  tables: PlannedTable[];
  syncAlembic: boolean;
  warnings: string[];
  /** Source objects that are not migrated (views). */
  notMigrated: string[];
  /** Foreign keys dropped for the load. */
  droppedForeignKeys: number;
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
  const catalog = await readSourceCatalog(source);
  const isMariaDb = catalog.serverVersion.startsWith('MariaDB');
  const described = options.entities ?? catalog.tables.map((t) => selectionOfEntitySchema(entitySchemaFor(t)));
  const { tables: selected, syncAlembic } = selectTables(
    catalog.tables.map((t) => t.name),
    { tables: options.tables, exclude: options.exclude, entities: options.entities ? described : undefined },
  );
  const warnings: string[] = [];
  const tooLong = selected.filter((t) => Buffer.byteLength(t.table, 'utf8') > 63).map((t) => t.table);
  if (tooLong.length > 0) throw new UsageError(`table names longer than PostgreSQL's 63 bytes: ${tooLong.join(', ')}; exclude them with --exclude`);
  // Only now that the input is known good: a refused start must leave the target untouched.
  try {
    await ensureStateSchema(target);
  } catch (error) {
    throw new UsageError(`cannot create my2pg's state schema "my2pg" in the target: ${(error as Error).message}; grant CREATE on the database or create the schema for this user`);
  }

  const existing = await withPgClient(target, (client) => readTargetTables(client, schema));
  const existingNames = [...existing.keys()];
  const runId = newRunId();
  const planned: PlannedTable[] = selected.map((sel) => {
    const source = catalog.tables.find((t) => t.name === sel.table)!;
    const match = matchTargetTable(sel.table, existingNames);
    return {
      table: sel.table,
      targetTable: match ?? sel.table,
      action: match ? 'fill' : 'create',
      columns: options.entities ? sel.columns : undefined,
      jobId: copyJobId(runId, sel.table),
      estimatedRows: source.estimatedRows,
    };
  });
  const knownTables = new Set([...existingNames, ...planned.map((p) => p.targetTable)]);

  let droppedForeignKeys = 0;
  await target.transaction(async (manager) => {
    const runner = manager.queryRunner!;
    await insertRun(
      manager,
      {
        id: runId,
        finishedAt: null,
        status: 'running',
        targetSchema: schema,
        sourceDatabase: catalog.database,
        source: options.sourceLabel,
        options: { batchSize: options.batchSize, tables: options.tables ?? null, exclude: options.exclude ?? null, entities: Boolean(options.entities), syncAlembic },
        summary: null,
      },
      planned.map((p) => ({
        tableName: p.table,
        targetTable: p.targetTable,
        jobId: p.jobId,
        action: p.action,
        status: 'pending',
        rowsCopied: null,
        sourceRows: null,
        targetRows: null,
        attempts: 0,
        lastError: null,
        startedAt: null,
        finishedAt: null,
        verification: null,
        adjustments: null,
      })),
    );
    const touched = planned.map((p) => p.targetTable);
    await adoptUnrestoredConstraints(manager, runId, schema, touched);
    for (const plan of planned.filter((p) => p.action === 'create')) {
      const sourceTable = catalog.tables.find((t) => t.name === plan.table)!;
      const ddl = buildCreateTable(sourceTable, schema, { columns: plan.columns, isMariaDb, knownTables });
      warnings.push(...ddl.warnings);
      for (const statement of ddl.statements) await runner.query(statement);
      for (const item of ddl.deferred) {
        await saveConstraint(manager, { runId, kind: item.kind, schemaName: schema, tableName: plan.targetTable, name: item.name, definition: item.definition });
      }
    }
    const client = (await runner.connect()) as PoolClient;
    const foreignKeys = await readForeignKeys(client, schema, touched);
    for (const fk of foreignKeys) {
      await saveConstraint(manager, { runId, kind: 'foreign_key', schemaName: fk.schema, tableName: fk.table, name: fk.name, definition: fk.definition });
      await runner.query(`ALTER TABLE ${qualifyPg(fk.schema, fk.table)} DROP CONSTRAINT ${quotePg(fk.name)}`);
      droppedForeignKeys += 1;
    }
  });
  return {
    runId,
    targetSchema: schema,
    batchSize: options.batchSize,
    tables: planned,
    syncAlembic,
    warnings,
    notMigrated: catalog.views.map((v) => `view ${v}`),
    droppedForeignKeys,
  };
}
