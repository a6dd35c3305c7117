import { matchNames } from '../../vocabulary/table-selection.js';
import type { SourceObjects } from './source-objects.js';
import type { CheckOutcome, GeneratedColumnOutcome } from './translate-table.js';

/** A source object my2pg does not migrate, as listed in the report, `status --json` and finalize's result. */
export interface NotMigratedObject {
  kind: 'trigger' | 'procedure' | 'function' | 'event' | 'view' | 'check';
  name: string;
  reason?: string;
}

/** What prepare decided about the objects besides tables (kept in `my2pg.runs.options.schemaObjects`). */
export interface SchemaObjectsRecord {
  generated: GeneratedColumnOutcome[];
  checks: CheckOutcome[];
  notMigrated: NotMigratedObject[];
}

/**
 * The source views that `--exclude-view` names or globs (`v_*`) pick, in the source's order,
 * and the exact names that are no view of the source. A glob that matches no view is fine.
 */
export function resolveExcludedViews(
  objects: SourceObjects,
  excluded: readonly string[],
): { views: string[]; unknown: string[] } {
  const names = objects.views.map((v) => v.name);
  const { matched, unknown } = matchNames(excluded, names, true);
  return { views: names.filter((name) => matched.has(name)), unknown };
}

/**
 * The views the operator excluded. Stored functions, procedures, triggers and events are
 * decided by finalize (translated and created, or listed with the reason), not here.
 */
export function notMigratedObjects(_objects: SourceObjects, excludedViews: readonly string[]): NotMigratedObject[] {
  return [...excludedViews.map((name) => ({ kind: 'view' as const, name, reason: 'excluded by --exclude-view' }))];
}
