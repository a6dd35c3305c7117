import type { ViewOutcome } from '../finalize/migrate-views.js';
import type { NotMigratedObject, SchemaObjectsRecord } from '../schema/translate/schema-objects.js';
import type { RunRow } from '../state/entities.js';

/** Views, generated columns, CHECKs and objects not migrated, as the report and `status --json` show them. */
export interface SchemaObjectsView {
  views: ViewOutcome[] | null;
  generated: SchemaObjectsRecord['generated'];
  checks: SchemaObjectsRecord['checks'];
  notMigrated: NotMigratedObject[];
}

/** From finalize's summary when it ran, else from what prepare recorded. */
export function schemaObjectsOf(run: RunRow): SchemaObjectsView {
  const summary = run.summary;
  const recorded = summary?.schemaObjects ?? run.options.schemaObjects ?? null;
  return {
    views: summary?.views ?? null,
    generated: recorded?.generated ?? [],
    checks: recorded?.checks ?? [],
    notMigrated: summary?.notMigrated ?? recorded?.notMigrated ?? [],
  };
}

/** Report lines: what was translated and what was not, each object by name. */
export function describeSchemaObjects(run: RunRow): string[] {
  const o = schemaObjectsOf(run);
  const lines: string[] = [];
  const computed = o.generated.filter((g) => g.status === 'generated');
  if (computed.length > 0)
    lines.push(
      `generated columns computed by PostgreSQL: ${computed.map((g) => `${g.table}.${g.column}${g.kind === 'virtual' ? ' (VIRTUAL, now STORED)' : ''}`).join(', ')}`,
    );
  for (const g of o.generated.filter((x) => x.status === 'plain'))
    lines.push(
      `generated column ${g.table}.${g.column} AS (${g.expression}) is a plain column holding the copied values: ${g.reason ?? ''}`,
    );
  const checks = o.checks.filter((c) => c.status === 'translated');
  if (checks.length > 0) lines.push(`CHECK constraints: ${checks.map((c) => `${c.table}.${c.name}`).join(', ')}`);
  if (o.views) {
    const good = o.views.filter((v) => v.status === 'verified' || v.status === 'created');
    if (good.length > 0)
      lines.push(
        `views created${good.every((v) => v.status === 'verified') ? ' and verified' : ''}: ${good.map((v) => v.name).join(', ')}`,
      );
  }
  for (const kind of ['function', 'procedure', 'trigger'] as const) {
    const created = (run.summary?.storedCode ?? []).filter((s) => s.kind === kind && s.status === 'created');
    if (created.length > 0) lines.push(`${kind}s created: ${created.map((s) => s.name).join(', ')}`);
  }
  for (const item of o.notMigrated)
    lines.push(
      `not migrated: ${item.kind === 'check' ? 'CHECK' : item.kind} ${item.name}${item.reason ? ` (${item.reason})` : ''}`,
    );
  return lines;
}
