import type { StoredOutcome } from '../schema/stored/stored-code.js';
import type { NotMigratedObject, SchemaObjectsRecord } from '../schema/translate/schema-objects.js';
import type { ViewOutcome } from './migrate-views.js';

/** Everything listed as not migrated, by kind and name. */
export function listNotMigrated(
  schemaObjects: SchemaObjectsRecord | null,
  views: readonly ViewOutcome[],
  storedCode: readonly StoredOutcome[] = [],
): NotMigratedObject[] {
  const fromViews = views
    .filter((v) => v.status === 'excluded' || v.status === 'skipped')
    .map((v) => ({ kind: 'view' as const, name: v.name, ...(v.reason ? { reason: v.reason } : {}) }));
  const excludedOnly = (schemaObjects?.notMigrated ?? []).filter(
    (o) => o.kind === 'view' && !fromViews.some((v) => v.name === o.name),
  );
  const checks = (schemaObjects?.checks ?? [])
    .filter((c) => c.status === 'not_migrated')
    .map((c) => ({ kind: 'check' as const, name: `${c.table}.${c.name}`, ...(c.reason ? { reason: c.reason } : {}) }));
  // Stored code is decided here: what prepare listed of it (older runs) gives way.
  const stored = storedCode
    .filter((o) => o.status !== 'created')
    .map((o) => ({ kind: o.kind, name: o.name, ...(o.reason ? { reason: o.reason } : {}) }));
  const decided =
    storedCode.length > 0 ? new Set(['trigger', 'procedure', 'function', 'event', 'view']) : new Set(['view']);
  return [
    ...(schemaObjects?.notMigrated ?? []).filter((o) => !decided.has(o.kind)),
    ...stored,
    ...excludedOnly,
    ...fromViews,
    ...checks,
  ];
}
