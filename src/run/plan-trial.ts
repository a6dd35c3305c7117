/**
 * `my2pg plan` runs the DDL a run would run, in one PostgreSQL transaction it always rolls
 * back: what PostgreSQL refuses shows before anything is written, and the column types shown
 * are the ones PostgreSQL itself reports for the created tables. Nothing outlives the
 * transaction (no table, type, view or schema).
 */
import type { DataSource } from 'typeorm';
import { describeError } from '../core/errors.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { beginTransaction } from '../dialect/postgres/transaction.js';
import { readTargetTables, type TargetTable } from '../dialect/postgres/catalog.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { createSourceViews, type ViewOutcome } from '../finalize/migrate-views.js';
import { relationsOf, viewRelationOf } from '../finalize/target-relations.js';
import { createTranslatedTable } from '../schema/translate/create-translated-table.js';
import { onUpdateFunctionSql } from '../schema/on-update-trigger.js';
import { createOptionsOf, sourceTableOf, type RunPlan } from './run-plan.js';
import {
  createRoutines,
  createTriggers,
  translateStoredCode,
  type StoredOutcome,
} from '../schema/stored/stored-code.js';

/** What the trial did for one created table. */
interface TableTrial {
  /** Every statement, in order: CREATE TYPE/TABLE, then what finalize adds (indexes, foreign keys, CHECKs, triggers). */
  statements: string[];
  /** PostgreSQL's refusals, each with its statement's start. */
  refused: string[];
  warnings: string[];
  /** What became another PostgreSQL form (report notes). */
  notes: string[];
}

export interface PlanTrial {
  /** Per created source table. */
  tables: Map<string, TableTrial>;
  /** Every planned table as PostgreSQL has it inside the trial (created ones included), by target name. */
  targetTables: Map<string, TargetTable>;
  views: ViewOutcome[];
  /** Stored functions, procedures and triggers as created in the trial (or why not), events listed. */
  storedCode: StoredOutcome[];
  /** What could not be tried, for the plan's warnings. */
  warnings: string[];
}

/** The statement that applies a deferred definition, as finalize applies it. */
function deferredStatement(
  schema: string,
  table: string,
  item: { kind: string; name: string; definition: string },
): string {
  if (item.kind === 'index') return item.definition;
  // Finalize creates the schema's shared trigger function with each trigger.
  if (item.kind === 'trigger') return `${onUpdateFunctionSql(schema)};\n${item.definition}`;
  return `ALTER TABLE ${qualifyPg(schema, table)} ADD CONSTRAINT ${quotePg(item.name)} ${item.definition}`;
}

const RUN_ORDER: Record<string, number> = { index: 0, foreign_key: 1, check: 1, trigger: 2 };

/** Deferred definitions in the order a run applies them (stable within a kind). */
function sortedAsRun<T extends { kind: string }>(items: readonly T[]): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => (RUN_ORDER[a.item.kind] ?? 3) - (RUN_ORDER[b.item.kind] ?? 3) || a.i - b.i)
    .map(({ item }) => item);
}

/** Runs `sql` under a savepoint: null when PostgreSQL accepts it, else why not (and the savepoint is rolled back). */
async function attempt(client: PoolClient, sql: string): Promise<string | null> {
  await client.query('SAVEPOINT my2pg_plan');
  try {
    await client.query(sql);
    await client.query('RELEASE SAVEPOINT my2pg_plan');
    return null;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT my2pg_plan');
    return describeError(error);
  }
}

/** Creates the plan's tables, their deferred definitions and the views in a transaction, then rolls it all back. */
export async function tryPlan(target: DataSource, plan: RunPlan): Promise<PlanTrial> {
  const { schema } = plan;
  if (plan.schemaState.exists && !(plan.schemaState.canUse && plan.schemaState.canCreate)) {
    // Nothing can be tried where nothing may be created; the plan names the missing grant.
    return { tables: new Map(), targetTables: plan.existing, views: [], storedCode: [], warnings: [] };
  }
  return withPgClient(target, async (client) => {
    const tables = new Map<string, TableTrial>();
    await beginTransaction(client);
    try {
      // Read-write work inside a transaction that never commits; a missing schema is made inside it
      // too. Where even that is refused, nothing can be tried (the plan names the missing schema).
      if (!plan.schemaState.exists && (await attempt(client, `CREATE SCHEMA ${quotePg(schema)}`)) !== null) {
        return { tables, targetTables: plan.existing, views: [], storedCode: [], warnings: [] };
      }
      const deferred: { table: string; kind: string; sql: string }[] = [];
      for (const table of plan.planned.filter((p) => p.action === 'create')) {
        const trial: TableTrial = { statements: [], refused: [], warnings: [], notes: [] };
        tables.set(table.table, trial);
        await client.query('SAVEPOINT my2pg_table');
        try {
          const { ddl, executed } = await createTranslatedTable(
            (sql) => client.query(sql),
            sourceTableOf(plan, table),
            schema,
            createOptionsOf(plan, table),
            plan.objects,
          );
          trial.statements.push(...ddl.statements);
          trial.warnings.push(...ddl.warnings);
          trial.notes.push(...ddl.notes);
          if (!executed) for (const statement of ddl.statements) await client.query(statement);
          await client.query('RELEASE SAVEPOINT my2pg_table');
          for (const item of ddl.deferred)
            deferred.push({
              table: table.table,
              kind: item.kind,
              sql: deferredStatement(schema, table.targetTable, item),
            });
        } catch (error) {
          await client.query('ROLLBACK TO SAVEPOINT my2pg_table');
          trial.refused.push(describeError(error));
        }
      }
      // In the run's order: every table's indexes (UNIQUE ones included) as its copy ends, then
      // foreign keys and CHECKs in finalize, then triggers. A foreign key tried before the
      // UNIQUE index it references (a table sorting after its referrer) would be refused here
      // while the run creates it.
      for (const item of sortedAsRun(deferred)) {
        const trial = tables.get(item.table)!;
        trial.statements.push(item.sql);
        const refusal = await attempt(client, item.sql);
        if (refusal !== null) trial.refused.push(`${item.sql.slice(0, 120)}: ${refusal}`);
      }
      const targetTables = await readTargetTables(
        client,
        schema,
        plan.planned.map((p) => p.targetTable),
      );
      const relations = await relationsOf(
        client,
        schema,
        plan.planned.map((p) => ({ tableName: p.table, targetTable: p.targetTable })),
        plan.catalog.tables,
        plan.naming,
      );
      const warnings: string[] = [];
      let views: ViewOutcome[] = [];
      // Functions and procedures before the views, triggers after, each under its own savepoint.
      const tried = async (sql: string): Promise<void> => {
        const refusal = await attempt(client, sql);
        if (refusal !== null) throw new Error(refusal);
      };
      const stored = translateStoredCode(plan.objects.storedCode, {
        database: plan.objects.database,
        schema,
        relations,
        naming: plan.naming,
      });
      const routines = await createRoutines(stored, tried);
      try {
        views = await createSourceViews(
          plan.objects,
          schema,
          relations,
          new Set(plan.excludeViews),
          plan.naming,
          stored.signatures,
          {
            // Each view under its own savepoint, so that one refusal does not abort the others.
            query: async (sql) => {
              const refusal = await attempt(client, sql);
              if (refusal !== null) throw new Error(refusal);
            },
            relationOf: (view, targetName, targetColumns) =>
              viewRelationOf(client, schema, view, targetName, targetColumns),
          },
        );
      } catch (error) {
        warnings.push(
          `the views could not be tried: ${describeError(error)}; finalize creates them after the copy and reports each one`,
        );
      }
      const storedCode = [...routines, ...(await createTriggers(stored, tried, null)), ...stored.events];
      return { tables, targetTables, views, storedCode, warnings };
    } finally {
      await client.query('ROLLBACK');
    }
  });
}
