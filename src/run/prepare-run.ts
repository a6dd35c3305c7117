import type { DataSource, QueryRunner } from 'typeorm';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { UsageError } from '../core/errors.js';
import { createTranslatedTable } from '../schema/translate/create-translated-table.js';
import { notMigratedObjects, type SchemaObjectsRecord } from '../schema/translate/schema-objects.js';
import { dropTriggerStatements } from '../schema/stored/translate-stored.js';
import { readForeignKeys } from '../dialect/postgres/catalog.js';
import { ensureStateSchema } from '../state/schema.js';
import { insertRun, mergeRunOptions } from '../state/runs.js';
import { adoptUnrestoredConstraints, saveConstraints } from '../state/saved-constraints.js';
import type { SavedConstraintRow } from '../state/entities.js';
import { readSecondaryIndexes } from './secondary-indexes.js';
import type { Hazard } from '../schema/hazards.js';
import { planRun, type RunOptions } from './plan-run.js';
import { createOptionsOf, sourceTableOf, type PlannedTable, type RunPlan } from './run-plan.js';
import { followProblemsOf, type FollowStart } from '../follow/follow-start.js';
import { followKeyOf } from '../follow/preconditions.js';
import { fallbackProblemsOf } from '../fallback/preconditions.js';
import { readBinlogPosition } from '../dialect/mysql/binlog.js';
import { recordFollowDefinitions } from '../state/follow-definitions.js';
import { createFollowRow } from '../state/follow-state.js';
import { dropOtherRunsWriteGuards } from '../follow/write-guard.js';

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
  /** `--follow`: where the follower starts and each table's key; null without. */
  follow: FollowStart | null;
  /** Write guards other runs left on the tables (see write-guard.ts), dropped: per run, its tables. */
  droppedGuards: Map<string, string[]>;
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
  const {
    schema,
    schemaState,
    objects,
    planned,
    syncAlembic,
    fulltextConfig,
    nul,
    zeroDate,
    rangeRows,
    rangeCounts,
    runId,
  } = plan;
  if (!schemaState.exists)
    throw new UsageError(
      `the target schema ${JSON.stringify(schema)} does not exist in PostgreSQL; create it (CREATE SCHEMA ${quotePg(schema)}) or pass --schema`,
    );
  if (!schemaState.canUse || !schemaState.canCreate) {
    throw new UsageError(
      `the PostgreSQL user cannot write to schema ${JSON.stringify(schema)} (needs USAGE and CREATE); grant them or use another --schema`,
    );
  }
  // Before anything is written, and before any table is read: the follower starts here.
  const follow = options.follow ? await startFollowing(source, target, plan, options) : undefined;
  const warnings = [...plan.warnings];
  const translated = [...plan.translated];
  const created = planned.filter((p) => p.action === 'create');
  // Only now that the input is known good: a refused start must leave the target untouched.
  try {
    await ensureStateSchema(target);
  } catch (error) {
    throw new UsageError(
      `cannot create my2pg's state schema "my2pg" in the target: ${(error as Error).message}; grant CREATE on the database or create the schema for this user`,
    );
  }

  let droppedForeignKeys = 0;
  let droppedIndexes = 0;
  let droppedGuards = new Map<string, string[]>();
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
          ...(follow ? { onDdl: options.onDdl ?? 'apply' } : {}),
          ...(follow && options.fallback ? { fallback: true } : {}),
          allowRejects: Boolean(options.allowRejects),
          nul,
          zeroDate,
          fulltextConfig,
          excludeViews: plan.excludeViews,
          naming: plan.naming,
          // Every job of the run, on any worker, copies and verifies only these rows.
          where: options.where ?? {},
          queues: options.queues,
          decidedTypes: plan.decidedTypes,
          ...(follow ? { follow } : {}),
        },
      },
      planned.map((p) => ({ tableName: p.table, targetTable: p.targetTable, jobId: p.jobId, action: p.action })),
    );
    // In the same transaction as the run: a run that follows always has its follower's row.
    if (follow) await createFollowRow(manager, runId, follow);
    if (follow)
      await recordFollowDefinitions(
        manager,
        runId,
        planned.map((p) => sourceTableOf(plan, p)),
      );
    const touched = planned.map((p) => p.targetTable);
    await adoptUnrestoredConstraints(manager, runId, schema, touched);
    const schemaObjects: SchemaObjectsRecord = {
      generated: [],
      checks: [],
      notMigrated: notMigratedObjects(objects, plan.excludeViews),
    };
    // Statements and saved definitions go in a few round trips (a schema may have hundreds of tables).
    const statements: string[] = [];
    const saved: Omit<SavedConstraintRow, 'id' | 'savedAt' | 'restoredAt' | 'error'>[] = [];
    for (const table of created) {
      const { ddl, generated, checks, executed } = await createTranslatedTable(
        (sql) => runner.query(sql),
        sourceTableOf(plan, table),
        schema,
        createOptionsOf(plan, table),
        objects,
      );
      schemaObjects.generated.push(...generated);
      schemaObjects.checks.push(...checks);
      warnings.push(...ddl.warnings);
      translated.push(...ddl.notes);
      if (!executed) statements.push(...ddl.statements);
      for (const item of ddl.deferred)
        saved.push({
          runId,
          kind: item.kind,
          schemaName: schema,
          tableName: table.targetTable,
          name: item.name,
          definition: item.definition,
        });
    }
    await runStatements(runner, statements);
    // What became of generated columns, CHECKs and the objects not migrated: finalize and status report it.
    // translated: what the created tables got in another form (report and my2pg.runs.options).
    await mergeRunOptions(manager, runId, { schemaObjects, translated });
    const client = (await runner.connect()) as PoolClient;
    const foreignKeys = await readForeignKeys(client, schema, touched);
    for (const fk of foreignKeys)
      saved.push({
        runId,
        kind: 'foreign_key',
        schemaName: fk.schema,
        tableName: fk.table,
        name: fk.name,
        definition: fk.definition,
      });
    // Saved before they are dropped, in the same transaction: a crash cannot lose a definition.
    await saveConstraints(manager, saved.splice(0));
    await runStatements(
      runner,
      foreignKeys.map((fk) => `ALTER TABLE ${qualifyPg(fk.schema, fk.table)} DROP CONSTRAINT ${quotePg(fk.name)}`),
    );
    droppedForeignKeys = foreignKeys.length;
    // Secondary indexes slow COPY down several times; they are saved, dropped, and rebuilt in
    // parallel by finalize. The foreign keys that could depend on a unique one are gone by now.
    const filled = planned.filter((p) => p.action === 'fill').map((p) => p.targetTable);
    const indexes = await readSecondaryIndexes(client, schema, filled);
    await saveConstraints(
      manager,
      indexes.map((index) => ({
        runId,
        kind: 'index' as const,
        schemaName: index.schema,
        tableName: index.table,
        name: index.name,
        definition: index.restore,
      })),
    );
    await runStatements(
      runner,
      indexes.map((index) => index.drop),
    );
    droppedIndexes = indexes.length;
    // The source's triggers, as an earlier run created them: not fired by the load, created again by finalize.
    const fills = planned
      .filter((p) => p.action === 'fill')
      .map((p) => ({ table: p.table, targetTable: p.targetTable }));
    await runStatements(runner, dropTriggerStatements(objects.storedCode.triggers, schema, fills));
    // Guards of a --follow run that was neither cut over nor cancelled: they would log this run's writes.
    droppedGuards = await dropOtherRunsWriteGuards(
      manager,
      schema,
      fills.map((f) => f.targetTable),
      runId,
    );
    // A split table is emptied once here; each range job then deletes only its own range
    // (cheap on an empty table) before its COPY, so every range stays idempotent on its own.
    for (const table of planned.filter((p) => p.ranges && p.action === 'fill')) {
      const only = plan.existing.get(table.targetTable)?.partitioned ? '' : 'ONLY ';
      await runner.query(`TRUNCATE TABLE ${only}${qualifyPg(schema, table.targetTable)}`);
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
    notMigrated: notMigratedObjects(objects, plan.excludeViews).map(
      (o) => `${o.kind} ${o.name}${o.reason ? ` (${o.reason})` : ''}`,
    ),
    droppedForeignKeys,
    droppedIndexes,
    translated,
    hazards: plan.hazards,
    follow: follow ?? null,
    droppedGuards,
  };
}

/**
 * `--follow`: every precondition of following the binary log checked (each one missing is a
 * line of the refusal, exit 2, nothing written), then the position the follower will start at,
 * read before any copy job can read a row.
 */
async function startFollowing(
  source: DataSource,
  target: DataSource,
  plan: RunPlan,
  options: Pick<RunOptions, 'verify' | 'fallback'>,
): Promise<FollowStart> {
  if (options.verify === 'none')
    throw new UsageError(
      '--follow switches only after cutover has verified every table, so it cannot go with --verify none; use checksum (the default) or count',
    );
  const tables = plan.planned.map((p) => sourceTableOf(plan, p));
  const problems = [
    ...(await followProblemsOf(source, tables)),
    ...(options.fallback ? await fallbackProblemsOf(source, target, plan.catalog.database, tables) : []),
  ];
  if (problems.length > 0)
    throw new UsageError(
      `cannot follow the binary log${options.fallback ? ' with a way back' : ''}; nothing was started:\n${problems.map((p) => `  ${p.message}`).join('\n')}`,
    );
  const position = await readBinlogPosition(source);
  return {
    file: position.file,
    position: position.position,
    gtid: position.gtid,
    keys: Object.fromEntries(tables.map((t) => [t.name, followKeyOf(t)!])),
  };
}
