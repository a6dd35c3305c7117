import type { SourceForeignKey, SourceTable } from '../dialect/mysql/catalog.js';
import { buildCreateTable } from '../schema/ddl.js';
import type { NamingRules } from '../vocabulary/naming.js';

/**
 * Foreign keys added or dropped by a schema change met while following (docs/schema-changes.md).
 * An added key is not created at once: it is saved for the run like the keys the run dropped
 * for the load, so that cutover's finalize adds and validates it once the follower has drained
 * (a key between two followed tables is not a consistent state between two batches). A dropped
 * key is dropped from the target, or from what finalize waits to add. Pure.
 */

/** What the diff needs to name a key as a run names it. */
export interface KeyContext {
  schema: string;
  targetTable: string;
  isMariaDb: boolean;
  naming?: NamingRules | undefined;
  columns?: readonly string[] | undefined;
  /** Source table → target table of the run's tables: a key to any other table is not created, as in a run. */
  tableNames: ReadonlyMap<string, string>;
}

export interface KeyChanges {
  added: { name: string; definition: string }[];
  dropped: string[];
  changes: string[];
}

/** Rules with which MySQL changes referencing rows itself, without logging them: the follower learns those keys when it starts. */
const CHANGES_ROWS = /^(CASCADE|SET NULL|SET DEFAULT)$/i;

/** The key as a run would save it (target name, definition), or null when a run would not create it. */
function planned(
  table: SourceTable,
  fk: SourceForeignKey,
  ctx: KeyContext,
): { name: string; definition: string } | null {
  const plan = buildCreateTable({ ...table, foreignKeys: [fk], indexes: [] }, ctx.schema, {
    isMariaDb: ctx.isMariaDb,
    knownTables: new Set(ctx.tableNames.values()),
    tableNames: ctx.tableNames,
    targetName: ctx.targetTable,
    naming: ctx.naming,
    columns: ctx.columns,
  });
  const deferred = plan.deferred.find((d) => d.kind === 'foreign_key');
  return deferred ? { name: deferred.name, definition: deferred.definition } : null;
}

const shape = (fk: SourceForeignKey): string => JSON.stringify({ ...fk, name: fk.name.toLowerCase() });

/** The keys added and dropped between the two definitions, or why the change cannot be applied exactly. */
export function foreignKeyChanges(
  before: SourceTable,
  after: SourceTable,
  ctx: KeyContext,
): KeyChanges | { hold: string } {
  const result: KeyChanges = { added: [], dropped: [], changes: [] };
  const was = new Map(before.foreignKeys.map((fk) => [fk.name.toLowerCase(), fk]));
  const now = new Map(after.foreignKeys.map((fk) => [fk.name.toLowerCase(), fk]));
  const kept = (name: string): boolean =>
    was.has(name) && now.has(name) && shape(was.get(name)!) === shape(now.get(name)!);
  for (const [name, fk] of [...was, ...now])
    if (!kept(name) && (CHANGES_ROWS.test(fk.onDelete) || CHANGES_ROWS.test(fk.onUpdate)))
      return {
        hold: `foreign key ${fk.name} (ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}) changes referencing rows in MySQL without logging them, and the follower learns such keys only when it starts: add or drop it in the target by hand and resume`,
      };
  for (const [name, fk] of was) {
    if (kept(name)) continue;
    const key = planned(before, fk, ctx);
    if (!key) continue;
    result.dropped.push(key.name);
    result.changes.push(`foreign key ${key.name} dropped`);
  }
  for (const [name, fk] of now) {
    if (kept(name)) continue;
    const key = planned(after, fk, ctx);
    if (!key) {
      result.changes.push(
        `foreign key ${fk.name} not created, as in a run: ${fk.referencedTable} or its columns are not migrated`,
      );
      continue;
    }
    result.added.push(key);
    result.changes.push(`foreign key ${key.name} added (validated by finalize at cutover)`);
  }
  return result;
}
