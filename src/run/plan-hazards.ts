import type { DataSource } from 'typeorm';
import { findZeroDateColumns, type SourceCatalog } from '../dialect/mysql/catalog.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import { mapWithConcurrency } from '../finalize/restore-indexes.js';
import { countProbes, probesOf, type Hazard, type HazardProbe } from '../schema/hazards.js';
import { structuralHazards } from '../schema/structural-hazards.js';
import type { NulPolicy } from '../schema/nul-columns.js';
import { mapColumnType } from '../schema/type-map.js';
import type { TypeMapOptions } from '../schema/type-overrides.js';
import { findTargetColumn } from '../vocabulary/column-pairs.js';
import type { NamingRules } from '../vocabulary/naming.js';
import type { ZeroDatePolicy } from '../vocabulary/type-families.js';
import type { PlannedTable, PlanReading } from './run-plan.js';

/** What the planner has decided when it looks at the data. */
interface HazardInput {
  planned: PlannedTable[];
  created: PlannedTable[];
  existing: Map<string, TargetTable>;
  catalog: SourceCatalog;
  typeOptions: TypeMapOptions;
  naming: NamingRules;
  where: Record<string, string>;
  nul: NulPolicy;
  zeroDate: ZeroDatePolicy;
  allowRejects: boolean;
  reading: PlanReading;
}

/**
 * What will not arrive as it is, per table: the structural hazards always, the counted ones
 * when `reading` is `count` (one read per table), and the columns the created tables' DDL
 * depends on (NOT NULL date columns holding zero dates, text columns holding NUL characters).
 */
export async function planHazards(
  source: DataSource,
  input: HazardInput,
): Promise<{
  hazards: Map<string, Hazard[]>;
  countedRows: Map<string, number>;
  zeroDateColumns: Map<string, string[]>;
  /** Under `--nul bytea`, per created table, its columns holding NUL characters; undefined: not counted yet. */
  nulColumns: Map<string, string[]> | undefined;
}> {
  const { planned, created, existing, catalog, typeOptions, naming, where, nul, zeroDate, reading } = input;
  const sourceTable = (name: string) => catalog.tables.find((t) => t.name === name)!;
  const hazards = new Map<string, Hazard[]>();
  const countedRows = new Map<string, number>();
  const zeroDateColumns = new Map<string, string[]>();
  let nulColumns: Map<string, string[]> | undefined;
  if (reading === 'count') {
    // One read of each table counts every hazard; the DDL's scans below take their answers from it.
    nulColumns = new Map();
    const policies = { nul, zeroDate, allowRejects: input.allowRejects };
    await mapWithConcurrency(planned, 3, async (plan) => {
      const table = sourceTable(plan.table);
      const targetTable = plan.action === 'fill' ? existing.get(plan.targetTable) : undefined;
      const columns = plan.columns ? table.columns.filter((c) => plan.columns!.includes(c.name)) : table.columns;
      const probes: HazardProbe[] = columns.flatMap((column) => {
        const found = targetTable ? findTargetColumn(targetTable, plan.table, column.name, naming) : undefined;
        if (targetTable && !found) return [];
        const pgType = found?.formattedType ?? mapColumnType(column, typeOptions, plan.table).sql;
        return probesOf(column, pgType, policies, found);
      });
      const { rows, counts } = await countProbes(source, plan.table, probes, where[plan.table]);
      countedRows.set(plan.table, rows);
      const counted: Hazard[] = probes.flatMap((p, i) =>
        counts[i]! > 0 ? [{ kind: p.kind, column: p.column, count: counts[i]!, blocking: p.blocking, fix: p.fix }] : [],
      );
      hazards.set(plan.table, [...structuralHazards(table, targetTable, plan.columns, naming), ...counted]);
      if (plan.action === 'create') {
        const withCount = (kind: string) => counted.filter((h) => h.kind === kind).map((h) => h.column!);
        if (zeroDate === 'null')
          zeroDateColumns.set(
            plan.table,
            withCount('zero-date').filter((name) => !table.columns.find((c) => c.name === name)!.nullable),
          );
        if (nul === 'bytea') nulColumns!.set(plan.table, withCount('nul-character'));
      }
    });
  } else {
    for (const plan of planned) {
      hazards.set(
        plan.table,
        structuralHazards(
          sourceTable(plan.table),
          plan.action === 'fill' ? existing.get(plan.targetTable) : undefined,
          plan.columns,
          naming,
        ),
      );
    }
    if (reading === 'quick') nulColumns = new Map();
    // Zero dates in NOT NULL columns land as NULL, so those columns are created nullable (one scan
    // per such table, before the load; a few tables at once, since each is a full scan). Under
    // --zero-date reject their rows are set aside instead, and the columns keep NOT NULL.
    await mapWithConcurrency(zeroDate === 'null' && reading === 'run' ? created : [], 3, async (plan) => {
      zeroDateColumns.set(plan.table, await findZeroDateColumns(source, sourceTable(plan.table), where[plan.table]));
    });
  }
  return { hazards, countedRows, zeroDateColumns, nulColumns };
}
