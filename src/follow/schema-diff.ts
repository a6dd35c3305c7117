import type { SourceColumn, SourceTable } from '../dialect/mysql/catalog.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { buildCreateTable } from '../schema/ddl.js';
import { translateDefault } from '../schema/default-ddl.js';
import { mapColumnType } from '../schema/type-map.js';
import { targetColumnName, type NamingRules } from '../vocabulary/naming.js';
import { addRefusal, formattedTypeOf, widens } from './column-widening.js';
import { addedLabels } from './enum-labels.js';
import { foreignKeyChanges } from './foreign-key-diff.js';

/**
 * The PostgreSQL statements that take a followed table from its recorded MySQL definition to
 * the one MySQL's catalog holds now, translated by the code a run creates tables with
 * (buildCreateTable); or why the change cannot be applied exactly (the follower then holds).
 * Pure: no socket.
 */

/** What the diff needs besides the two definitions. */
export interface DiffContext {
  schema: string;
  targetTable: string;
  isMariaDb: boolean;
  naming?: NamingRules | undefined;
  /** The run's column list of the table; undefined: every column is copied. */
  columns?: readonly string[] | undefined;
  /** The key the follower matches rows by (source names). */
  key: readonly string[];
  /** The target's columns now: name → format_type(). */
  targetTypes: ReadonlyMap<string, string>;
  /** Source table → target table of the run's tables (the tables a foreign key may reference). */
  tableNames?: ReadonlyMap<string, string> | undefined;
  /** The target's enum columns now: name → the labels of their type. */
  targetEnumLabels?: ReadonlyMap<string, readonly string[]> | undefined;
  /** The DDL statement met in the binary log (renames are told apart from a drop and an add by it). */
  statement: string;
  /** The statements on the table logged after it, up to when the catalog was read (it may hold their changes too). */
  later: readonly string[];
}

/** The statements to run in the schema change's transaction, and what they change, or why not. */
export interface SchemaDiff {
  /** Run and committed before the transaction: labels added to enum types (PostgreSQL takes no row with a label added in the same transaction; more labels harm no row). */
  early: string[];
  statements: string[];
  /** Index definitions (CREATE INDEX …) to add and names to drop: restored by finalize or run now (see schema-change.ts). */
  indexesAdded: { name: string; definition: string }[];
  indexesDropped: string[];
  /** Foreign keys (name, definition) saved for finalize to add and validate, and names dropped (foreign-key-diff.ts). */
  foreignKeysAdded: { name: string; definition: string }[];
  foreignKeysDropped: string[];
  /** One line per change, for the job's log. */
  changes: string[];
  /** Set when the change cannot be applied exactly: why. */
  hold: string | null;
}

const IDENT = '(`(?:[^`]|``)+`|[A-Za-z0-9_$]+)';
const RENAMES = [
  new RegExp(`RENAME\\s+COLUMN\\s+${IDENT}\\s+TO\\s+${IDENT}`, 'gi'),
  new RegExp(`CHANGE\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${IDENT}\\s+${IDENT}`, 'gi'),
];
const DROP = new RegExp(`DROP\\s+(?:COLUMN\\s+)?(?:IF\\s+EXISTS\\s+)?${IDENT}`, 'gi');
const NOT_COLUMNS = /^(INDEX|KEY|PRIMARY|FOREIGN|CONSTRAINT|CHECK|UNIQUE|PARTITION|FULLTEXT|SPATIAL|SYSTEM)$/i;

function unquote(name: string): string {
  return name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name;
}

/** The column renames a statement spells (RENAME COLUMN a TO b, CHANGE a b), in order; `from` lower-cased. */
export function renamesIn(statement: string): [from: string, to: string][] {
  const renames: { at: number; from: string; to: string }[] = [];
  for (const pattern of RENAMES)
    for (const m of statement.matchAll(pattern)) {
      const from = unquote(m[1]!);
      const to = unquote(m[2]!);
      if (from.toLowerCase() !== to.toLowerCase()) renames.push({ at: m.index, from: from.toLowerCase(), to });
    }
  return renames.sort((a, b) => a.at - b.at).map((r) => [r.from, r.to]);
}

/**
 * The name a column of the recorded definition has in MySQL's catalog after the renames of these
 * statements (in order), or null when none of them renamed it to a name the catalog has: the
 * catalog may have been read between two of them.
 */
export function renamedTo(
  column: string,
  renames: readonly [string, string][],
  has: (name: string) => boolean,
): string | null {
  let name = column.toLowerCase();
  let found: string | null = null;
  for (const [from, to] of renames)
    if (from === name) {
      name = to.toLowerCase();
      if (has(name)) found = to;
    }
  return found;
}

/** The columns a statement drops (DROP [COLUMN] c), lower-cased. */
export function droppedIn(statement: string): Set<string> {
  const dropped = new Set<string>();
  for (const m of statement.matchAll(DROP)) if (!NOT_COLUMNS.test(m[1]!)) dropped.add(unquote(m[1]!).toLowerCase());
  return dropped;
}

/** A column's line as buildCreateTable writes it for a table of that one column, with the statements around it. */
function columnDdl(
  table: SourceTable,
  column: SourceColumn,
  ctx: DiffContext,
): { line: string; before: string[]; after: string[] } {
  const one: SourceTable = { ...table, columns: [column], primaryKey: [], indexes: [], foreignKeys: [], comment: '' };
  delete one.partitioning;
  const plan = buildCreateTable(one, ctx.schema, {
    isMariaDb: ctx.isMariaDb,
    knownTables: new Set(),
    targetName: ctx.targetTable,
    naming: ctx.naming,
  });
  const at = plan.statements.findIndex((s) => s.startsWith('CREATE TABLE'));
  const create = plan.statements[at]!;
  return {
    line: create.slice(create.indexOf('(\n  ') + 4, create.lastIndexOf('\n)')),
    before: plan.statements.slice(0, at),
    after: plan.statements.slice(at + 1),
  };
}

/** Index definitions a run would give the table (name → CREATE INDEX …), its columns as the run copies them. */
function indexesOf(table: SourceTable, ctx: DiffContext): Map<string, string> {
  const plan = buildCreateTable(table, ctx.schema, {
    isMariaDb: ctx.isMariaDb,
    knownTables: new Set(),
    targetName: ctx.targetTable,
    naming: ctx.naming,
    columns: ctx.columns,
  });
  return new Map(plan.deferred.filter((d) => d.kind === 'index').map((d) => [d.definition, d.name]));
}

/** Column fields that say nothing about the values or the target's DDL. */
function shapeOf(column: SourceColumn, name = column.name): string {
  return JSON.stringify({ ...column, name, comment: '', charset: null });
}

export function diffTables(before: SourceTable, after: SourceTable, ctx: DiffContext): SchemaDiff {
  const diff: SchemaDiff = {
    early: [],
    statements: [],
    indexesAdded: [],
    indexesDropped: [],
    foreignKeysAdded: [],
    foreignKeysDropped: [],
    changes: [],
    hold: null,
  };
  const hold = (why: string): SchemaDiff => ({ ...diff, hold: why });
  const table = qualifyPg(ctx.schema, ctx.targetTable);
  const copied = (name: string): boolean =>
    ctx.columns === undefined || ctx.columns.some((c) => c.toLowerCase() === name.toLowerCase());
  const col = (name: string): string => quotePg(targetColumnName(ctx.naming, before.name, name));
  const lower = (cols: readonly SourceColumn[]) => new Map(cols.map((c) => [c.name.toLowerCase(), c]));
  const old = lower(before.columns);
  const now = lower(after.columns);
  if (before.primaryKey.join('\u0000').toLowerCase() !== after.primaryKey.join('\u0000').toLowerCase())
    return hold(`its primary key changed (${before.primaryKey.join(', ')} → ${after.primaryKey.join(', ') || 'none'})`);
  if (JSON.stringify(before.partitioning ?? null) !== JSON.stringify(after.partitioning ?? null))
    return hold('its partitioning changed');
  // MySQL's catalog is read after the statement: when it still has a column the statement drops
  // or renames away, the table changed again since, and what the column holds now cannot be told.
  for (const name of [...droppedIn(ctx.statement), ...renamesIn(ctx.statement).map(([from]) => from)])
    if (now.has(name) && old.has(name))
      return hold(
        `the statement drops or renames column ${name}, which MySQL's catalog still has: the table changed again since; compare it by hand`,
      );
  // Renames of this statement and of the later ones the catalog may already show.
  const renames = [ctx.statement, ...ctx.later].flatMap(renamesIn);
  const paired = new Map<string, SourceColumn>();
  for (const [from, was] of [...old]) {
    if (now.has(from)) continue;
    const to = renamedTo(from, renames, (name) => now.has(name) && !old.has(name) && !paired.has(name));
    const is = to === null ? undefined : now.get(to.toLowerCase());
    if (!is || !copied(was.name)) continue;
    if (ctx.key.some((k) => k.toLowerCase() === from)) return hold(`it renames key column ${was.name}`);
    diff.statements.push(
      `ALTER TABLE ${table} RENAME COLUMN ${col(was.name)} TO ${quotePg(targetColumnName(ctx.naming, after.name, is.name))}`,
    );
    diff.changes.push(`column ${was.name} renamed to ${is.name}`);
    paired.set(is.name.toLowerCase(), { ...was, name: is.name });
    old.delete(from);
  }
  for (const [name, column] of old) {
    if (now.has(name) || !copied(column.name)) continue;
    if (ctx.key.some((k) => k.toLowerCase() === name)) return hold(`it drops key column ${column.name}`);
    diff.statements.push(`ALTER TABLE ${table} DROP COLUMN ${col(column.name)}`);
    diff.changes.push(`column ${column.name} dropped`);
  }
  for (const [name, column] of now) {
    const was = paired.get(name) ?? old.get(name);
    if (!was) {
      if (ctx.columns !== undefined) continue; // not in the run's column list: not copied
      const why = addRefusal(column, ctx.isMariaDb);
      if (why) return hold(`column ${column.name} ${why}`);
      const ddl = columnDdl(after, column, ctx);
      diff.statements.push(...ddl.before, `ALTER TABLE ${table} ADD COLUMN ${ddl.line}`, ...ddl.after);
      diff.changes.push(`column ${column.name} added (${column.columnType})`);
      continue;
    }
    if (!copied(was.name)) continue;
    const why = modify(was, column, ctx, table, targetColumnName(ctx.naming, after.name, column.name), diff);
    if (why) return hold(`column ${column.name}: ${why}`);
  }
  const oldIndexes = indexesOf(before, ctx);
  const newIndexes = indexesOf(after, ctx);
  for (const [definition, name] of oldIndexes)
    if (!newIndexes.has(definition)) {
      diff.indexesDropped.push(name);
      diff.changes.push(`index ${name} dropped`);
    }
  for (const [definition, name] of newIndexes)
    if (!oldIndexes.has(definition)) {
      diff.indexesAdded.push({ name, definition });
      diff.changes.push(`index ${name} added`);
    }
  const keys = foreignKeyChanges(before, after, { ...ctx, tableNames: ctx.tableNames ?? new Map() });
  if ('hold' in keys) return hold(keys.hold);
  diff.foreignKeysAdded.push(...keys.added);
  diff.foreignKeysDropped.push(...keys.dropped);
  diff.changes.push(...keys.changes);
  return diff;
}

/** Adds the statements of a changed column to `diff`; returns why it cannot be applied, or null. */
function modify(
  was: SourceColumn,
  is: SourceColumn,
  ctx: DiffContext,
  table: string,
  targetName: string,
  diff: SchemaDiff,
): string | null {
  const col = quotePg(targetName);
  if (shapeOf(was, is.name) === shapeOf(is) && was.comment === is.comment) return null;
  if (
    was.autoIncrement !== is.autoIncrement ||
    was.generated !== is.generated ||
    (was.onUpdate ?? null) !== (is.onUpdate ?? null)
  )
    return 'its AUTO_INCREMENT, generated expression or ON UPDATE changed';
  const before = mapColumnType(was);
  const after = mapColumnType(is);
  if (was.dataType === 'set' || is.dataType === 'set')
    return `${was.columnType} → ${is.columnType}: SET changes are not applied while following yet`;
  if (JSON.stringify(before.enumLabels ?? null) !== JSON.stringify(after.enumLabels ?? null)) {
    if (!before.enumLabels || !after.enumLabels) return `${was.columnType} → ${is.columnType} changes the type`;
    const type = ctx.targetTypes.get(targetName) ?? col;
    const labels = addedLabels(
      type,
      before.enumLabels,
      after.enumLabels,
      ctx.targetEnumLabels?.get(targetName) ?? null,
    );
    if ('hold' in labels) return `${was.columnType} → ${is.columnType}: ${labels.hold}`;
    diff.early.push(...labels.statements);
    diff.changes.push(`column ${is.name}: ENUM label ${labels.added.join(', ')} added`);
  }
  const alter = `ALTER TABLE ${table} ALTER COLUMN ${col}`;
  if (before.sql !== after.sql) {
    if (!widens(was, is)) return `${was.columnType} → ${is.columnType} does not hold every value it held`;
    const actual = ctx.targetTypes.get(targetName);
    if (actual !== formattedTypeOf(before.sql))
      return `the run gave it ${actual ?? 'no'} type, not ${before.sql} (an override or a type decided by the data): change it by hand`;
    diff.statements.push(`${alter} TYPE ${after.sql} USING ${col}::${after.sql}`);
    diff.changes.push(`column ${is.name}: ${was.columnType} → ${is.columnType}`);
  }
  if (was.nullable !== is.nullable) {
    diff.statements.push(`${alter} ${is.nullable ? 'DROP' : 'SET'} NOT NULL`);
    diff.changes.push(`column ${is.name}: ${is.nullable ? 'NULL allowed' : 'NOT NULL'}`);
  }
  if (was.defaultValue !== is.defaultValue) {
    const def = translateDefault(is, after.sql, ctx.isMariaDb);
    diff.statements.push(def.sql === null ? `${alter} DROP DEFAULT` : `${alter} SET DEFAULT ${def.sql}`);
    diff.changes.push(`column ${is.name}: default ${is.defaultValue ?? 'none'}`);
  }
  return null;
}
