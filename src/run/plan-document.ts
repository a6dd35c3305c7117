/**
 * The plan of a run as `my2pg plan` shows it (text, Markdown, `--json`) and as `run`/`start`
 * summarise it: per table the action, names, sizes, ranges, DDL, column mapping and hazards;
 * the other objects; the blockers. The JSON form is documented in docs/planning.md
 * ("plan --json") and stable: fields are added, never renamed or removed.
 */
import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import type { SourceColumn } from '../dialect/mysql/catalog.js';
import type { Hazard } from '../schema/hazards.js';
import { mapColumnType } from '../schema/type-map.js';
import { findTypeOverride } from '../schema/type-overrides.js';
import { findTargetColumn } from '../vocabulary/column-pairs.js';
import type { PlanTrial } from './plan-trial.js';
import { describePlanObjects, type PlanObject } from './plan-objects.js';
import type { PlannedTable, PlanReading, RunPlan } from './run-plan.js';
import { describePartitioning } from '../schema/partition-ddl.js';

interface PlanColumn {
  source: string;
  /** The target column; null when the existing target table lacks it. */
  target: string | null;
  mysqlType: string;
  pgType: string | null;
  /** `default`, `type override`, `column override`, `foreign key agreement`, `nul policy bytea`, `existing target`, with a note where one applies. */
  reason: string;
}

export interface PlanTableEntry {
  source: string;
  target: string;
  action: 'create' | 'fill';
  /** Exact when `rowsCounted`, else MySQL's estimate. */
  estimatedRows: number;
  rowsCounted: boolean;
  estimatedBytes: number;
  /** Key-range jobs, or 1. */
  jobs: number;
  /** Why a table big enough to split stays one job. */
  unsplit?: string;
  /** The migration file's condition, when only part of the table is copied. */
  where?: string;
  /** What a created table's DDL is (empty for a filled table). */
  ddl: string[];
  columns: PlanColumn[];
  hazards: Hazard[];
  /** A partitioned MySQL table that is created: partitioned the same way, or plain and why. */
  partitioning?: string;
}

export interface PlanDocument {
  source: string;
  /** The target database and schema, password hidden. */
  target: string;
  schema: string;
  /** `count` (every table read once) or `quick` (catalogs only). */
  reading: Exclude<PlanReading, 'run'>;
  tables: PlanTableEntry[];
  objects: PlanObject[];
  /** Hazards of the run as a whole (the target schema). */
  hazards: Hazard[];
  warnings: string[];
  totals: { tables: number; rows: number; bytes: number; hazards: number };
  blockers: number;
  /** A rough duration from a short read of the biggest table; null when nothing could be read. */
  estimate: { seconds: number; basis: string } | null;
}

/** Why a created column gets its type. */
function reasonOf(plan: RunPlan, table: PlannedTable, column: SourceColumn): string {
  if (plan.columnOverrides.get(table.table)?.get(column.name)) return 'column override';
  if (findTypeOverride(plan.typeOptions.typeOverrides, column)) return 'type override';
  if (plan.createdPlan.nulColumns.get(table.table)?.includes(column.name))
    return 'nul policy bytea (the column holds NUL characters)';
  if (plan.createdPlan.keyTypes.get(table.table)?.has(column.name)) return 'foreign key agreement';
  const decided = plan.decidedTypes.find((d) => d.table === table.table && d.column === column.name);
  if (decided) return decided.reason;
  if (plan.zeroDateColumns.get(table.table)?.includes(column.name))
    return 'default, created nullable (zero dates become NULL)';
  return 'default';
}

/**
 * Reads up to about 2 MB of the biggest table three times and keeps the fastest read (the
 * first pays for a cold cache): bytes per second, for the estimate.
 */
async function sampleRate(
  source: DataSource,
  plan: RunPlan,
): Promise<{ bytesPerSecond: number; basis: string } | null> {
  const biggest = [...plan.planned].sort((a, b) => (b.estimatedBytes ?? 0) - (a.estimatedBytes ?? 0))[0];
  if (!biggest?.estimatedBytes || biggest.estimatedRows <= 0) return null;
  const rowBytes = biggest.estimatedBytes / biggest.estimatedRows;
  const limit = Math.max(100, Math.min(20_000, Math.floor((2 * 1024 * 1024) / Math.max(rowBytes, 1))));
  let best: { rows: number; seconds: number } | null = null;
  await withMysqlConnection(source, async (connection) => {
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      const rows = await queryMysql<unknown[]>(connection, `SELECT * FROM ${quoteMysql(biggest.table)} LIMIT ${limit}`);
      const seconds = (performance.now() - started) / 1000;
      if (rows.length > 0 && seconds > 0 && (best === null || seconds < best.seconds))
        best = { rows: rows.length, seconds };
    }
  });
  const sample = best as { rows: number; seconds: number } | null;
  if (sample === null) return null;
  const bytesPerSecond = (sample.rows * rowBytes) / sample.seconds;
  return {
    bytesPerSecond,
    basis: `${sample.rows} rows of ${biggest.table} read at ${(bytesPerSecond / 1e6).toFixed(1)} MB/s`,
  };
}

/** Builds the document from the plan, the rolled-back trial (absent under a refused trial) and a short read of the source. */
export async function describePlan(
  source: DataSource,
  plan: RunPlan,
  trial: PlanTrial,
  context: {
    sourceLabel: string;
    targetLabel: string;
    reading: Exclude<PlanReading, 'run'>;
    where?: Record<string, string> | undefined;
    verify: string;
    concurrency: number;
    createsSchema?: boolean;
    /** `--follow`: the preconditions of following that the source does not meet (each a blocker). */
    followProblems?: readonly { message: string }[];
    /** The queue's Redis may evict BullMQ's keys: the line naming the setting and its fix (a blocker). */
    queueProblem?: string | undefined;
  },
): Promise<PlanDocument> {
  const runHazards: Hazard[] = (context.followProblems ?? []).map((p) => ({
    kind: 'follow-precondition',
    column: null,
    count: null,
    blocking: true,
    fix: p.message,
  }));
  if (context.queueProblem !== undefined)
    runHazards.push({
      kind: 'redis-eviction-policy',
      column: null,
      count: null,
      blocking: true,
      fix: context.queueProblem,
    });
  const objects: PlanObject[] = [];
  if (!plan.schemaState.exists && context.createsSchema) {
    objects.push({
      kind: 'schema',
      name: plan.schema,
      action: 'create',
      reason: "the migration file's databases name it, so run creates it",
      blocking: false,
    });
  } else if (!plan.schemaState.exists) {
    runHazards.push({
      kind: 'target-schema-missing',
      column: null,
      count: null,
      blocking: true,
      fix: `the target schema ${plan.schema} does not exist: create it (CREATE SCHEMA "${plan.schema}") or choose another with --schema`,
    });
  } else if (!plan.schemaState.canUse || !plan.schemaState.canCreate) {
    runHazards.push({
      kind: 'target-schema-missing',
      column: null,
      count: null,
      blocking: true,
      fix: `the PostgreSQL user cannot write to schema ${plan.schema} (needs USAGE and CREATE): grant them or choose another --schema`,
    });
  }
  const tables: PlanTableEntry[] = plan.planned.map((table) => {
    const source = plan.catalog.tables.find((t) => t.name === table.table)!;
    const targetTable = trial.targetTables.get(table.targetTable) ?? plan.existing.get(table.targetTable);
    const tableTrial = trial.tables.get(table.table);
    const included = table.columns ? source.columns.filter((c) => table.columns!.includes(c.name)) : source.columns;
    const columns = included.map((column) => {
      const found = targetTable ? findTargetColumn(targetTable, table.table, column.name, plan.naming) : undefined;
      return {
        source: column.name,
        target: found?.name ?? null,
        mysqlType: column.columnType,
        pgType:
          found?.formattedType ??
          (table.action === 'create' ? mapColumnType(column, plan.typeOptions, table.table).sql : null),
        reason: table.action === 'fill' ? 'existing target' : reasonOf(plan, table, column),
      };
    });
    const hazards = [...(plan.hazards.get(table.table) ?? [])];
    for (const refusal of tableTrial?.refused ?? []) {
      hazards.push({
        kind: 'ddl-refused',
        column: null,
        count: null,
        blocking: true,
        fix: `PostgreSQL refuses the DDL: ${refusal}; override the column's type (--column-type) or exclude the table`,
      });
    }
    const counted = plan.countedRows.get(table.table);
    const where = context.where?.[table.table];
    return {
      source: table.table,
      target: table.targetTable,
      action: table.action,
      estimatedRows: counted ?? table.estimatedRows,
      rowsCounted: counted !== undefined,
      estimatedBytes: table.estimatedBytes ?? 0,
      jobs: table.ranges?.length ?? 1,
      ...(table.unsplit ? { unsplit: table.unsplit } : {}),
      ...(where ? { where } : {}),
      ddl: tableTrial?.statements ?? [],
      columns,
      hazards,
      ...(table.action === 'create' && source.partitioning
        ? { partitioning: describePartitioning(source, plan.partitions) }
        : {}),
    };
  });
  objects.push(...(await describePlanObjects(source, plan, trial, context.where)));
  const warnings = [...plan.warnings, ...trial.warnings, ...[...trial.tables.values()].flatMap((t) => t.warnings)];
  const allHazards = [...runHazards, ...tables.flatMap((t) => t.hazards)];
  const blockers = allHazards.filter((h) => h.blocking).length + objects.filter((o) => o.blocking).length;
  const rows = tables.reduce((sum, t) => sum + t.estimatedRows, 0);
  const bytes = tables.reduce((sum, t) => sum + t.estimatedBytes, 0);
  const rate = await sampleRate(source, plan).catch(() => null);
  // Copy reads the source once and writes the target; checksum verification reads both sides
  // again; jobs run `concurrency` at a time; preparing and finalizing take a couple of seconds.
  // The factors are calibrated on the benchmark (`npm run bench -- --plan`): rough by design,
  // and the basis is printed with the figure.
  const passes = context.verify === 'checksum' ? 6 : 4;
  const jobs = tables.reduce((sum, t) => sum + t.jobs, 0);
  const estimate = rate
    ? {
        seconds: Math.round(
          2 + ((bytes / rate.bytesPerSecond) * passes) / Math.max(1, Math.min(context.concurrency, jobs)),
        ),
        basis: rate.basis,
      }
    : null;
  return {
    source: context.sourceLabel,
    target: context.targetLabel,
    schema: plan.schema,
    reading: context.reading,
    tables,
    objects,
    hazards: runHazards,
    warnings,
    totals: { tables: tables.length, rows, bytes, hazards: allHazards.length },
    blockers,
    estimate,
  };
}
