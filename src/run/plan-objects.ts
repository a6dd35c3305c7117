import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { parseMysqlSelect } from '../schema/translate/mysql-parse.js';
import { relationsReadBy } from '../schema/translate/view-relations.js';
import { findTargetColumn } from '../vocabulary/column-pairs.js';
import { ALEMBIC_TABLE } from '../vocabulary/table-selection.js';
import type { PlanTrial } from './plan-trial.js';
import type { RunPlan } from './run-plan.js';

/** An object of the plan other than a table: a view, stored code, a sequence, alembic_version, the schema. */
export interface PlanObject {
  kind: 'view' | 'trigger' | 'procedure' | 'function' | 'event' | 'sequence' | 'alembic_version' | 'schema';
  name: string;
  /** `create`, `set`, `sync`, `skip` (not migrated), `fail` (would fail), `exclude`. */
  action: 'create' | 'set' | 'sync' | 'skip' | 'fail' | 'exclude';
  reason: string;
  blocking: boolean;
  /** The statement that creates it (views). */
  ddl?: string;
}

/** Per source view, the first table copied in part (a `where`) that it reads, directly or through other views. */
function filteredReads(plan: RunPlan, filteredTables: readonly string[]): Map<string, string> {
  const reads = new Map<string, string[]>();
  for (const view of plan.objects.views) {
    try {
      reads.set(view.name, relationsReadBy(parseMysqlSelect(view.definition)));
    } catch {
      reads.set(view.name, []);
    }
  }
  const out = new Map<string, string>();
  const find = (name: string, seen: Set<string>): string | undefined => {
    if (filteredTables.includes(name)) return name;
    if (seen.has(name)) return undefined;
    seen.add(name);
    for (const read of reads.get(name) ?? []) {
      const found = find(read, seen);
      if (found) return found;
    }
    return undefined;
  };
  for (const view of plan.objects.views) {
    const found = find(view.name, new Set());
    if (found) out.set(view.name, found);
  }
  return out;
}

/** The alembic versions the run would write, read from the source. */
async function alembicVersions(source: DataSource): Promise<string[]> {
  return withMysqlConnection(source, async (connection) => {
    const rows = await queryMysql<{ v: string }[]>(
      connection,
      `SELECT version_num AS v FROM ${quoteMysql(ALEMBIC_TABLE)} ORDER BY version_num`,
    );
    return rows.map((r) => String(r.v));
  });
}

/** The plan's views, stored code, sequences and alembic_version, as the trial found them. */
export async function describePlanObjects(
  source: DataSource,
  plan: RunPlan,
  trial: PlanTrial,
  where: Record<string, string> | undefined,
): Promise<PlanObject[]> {
  const objects: PlanObject[] = [];
  const filtered = filteredReads(plan, Object.keys(where ?? {}));
  for (const view of trial.views) {
    const action =
      view.status === 'created'
        ? 'create'
        : view.status === 'excluded'
          ? 'exclude'
          : view.status === 'skipped'
            ? 'skip'
            : 'fail';
    // Finalize compares a view's rows with MySQL's view, which reads every row of its tables.
    const partial = action === 'create' ? filtered.get(view.name) : undefined;
    objects.push({
      kind: 'view',
      name: view.name,
      action,
      reason: partial
        ? `it reads ${partial}, which the migration file's where copies only in part, so its rows will differ from MySQL's and the run would not be verified`
        : view.status === 'created'
          ? 'translated, and PostgreSQL accepts it; finalize creates it and compares its rows'
          : (view.reason ?? ''),
      blocking: action === 'fail' || partial !== undefined,
      ...(view.statement ? { ddl: view.statement } : {}),
    });
  }
  for (const item of trial.storedCode) {
    const created = item.status === 'created' || item.status === 'translated';
    objects.push({
      kind: item.kind,
      name: item.name,
      action: created ? 'create' : 'skip',
      reason: created
        ? `translated${item.notes ? ` (${item.notes.join(', ')})` : ''}, and PostgreSQL accepts it; finalize creates it${item.kind === 'trigger' ? ' after the data' : ''}${item.targetName ? ` as ${item.targetName}` : ''}`
        : (item.reason ?? 'not migrated'),
      blocking: false,
      ...(item.statements ? { ddl: item.statements.join(';\n') } : {}),
    });
  }
  for (const table of plan.planned) {
    const source = plan.catalog.tables.find((t) => t.name === table.table)!;
    const column = source.columns.find((c) => c.autoIncrement);
    if (!column) continue;
    const target = trial.targetTables.get(table.targetTable) ?? plan.existing.get(table.targetTable);
    const targetColumn = target ? findTargetColumn(target, table.table, column.name, plan.naming)?.name : undefined;
    objects.push({
      kind: 'sequence',
      name: `${table.targetTable}.${targetColumn ?? column.name}`,
      action: 'set',
      reason: `continues at ${source.autoIncrement ?? 'MAX + 1'} (MySQL's AUTO_INCREMENT${source.autoIncrement ? '' : ' is unknown'}), or past the copied rows' maximum`,
      blocking: false,
    });
  }
  if (plan.syncAlembic) {
    const versions = await alembicVersions(source);
    objects.push({
      kind: 'alembic_version',
      name: ALEMBIC_TABLE,
      action: 'sync',
      reason: `PostgreSQL's alembic_version is set to ${versions.join(', ') || '(empty)'}`,
      blocking: false,
    });
  }
  return objects;
}
