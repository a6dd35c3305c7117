import { quotePg } from '../../dialect/postgres/quote.js';
import { type AstNode, UntranslatableError } from './mysql-parse.js';
import { columnReferenceOf, type ColumnReference } from './ast-helpers.js';
import type { ColumnBinding } from './expression-types.js';
import type { SqlType } from './sql-types.js';
import type { StoredContext } from './stored-context.js';

/** A column a view can read: its source name, and its target name when the run renamed it. */
interface RelationColumn {
  name: string;
  /** The name in the target (absent: the same). */
  target?: string;
  type: SqlType;
}

/** A table or view a view can read, as it exists (or will exist) in the target. */
export interface Relation {
  /** The source name. */
  name: string;
  /** The name in the target schema. */
  targetName: string;
  /** By source name: what the view's SELECT names. */
  columns: RelationColumn[];
  /** The schema it lives in when not the target schema (`pg_temp` for stored code's temporary tables). */
  schema?: string;
}

/** An item of a SELECT's FROM clause, by the alias the SELECT names it with. */
export interface FromItem {
  alias: string;
  /** The source table name when the item is a table or view (unaliased references may name it with its database). */
  table: string | null;
  columns: RelationColumn[];
}

/** The FROM items in reach of a SELECT: its own, then its enclosing query's. */
export class Scope {
  readonly items: FromItem[] = [];
  constructor(readonly parent: Scope | null) {}
}

function fail(reason: string): never {
  throw new UntranslatableError(reason);
}

export function aliasOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  return String((value as AstNode).value ?? '');
}

/** Calls `visit` on every node of a parsed statement, depth first; a node whose visit returns false is not entered. */
function visitAst(node: unknown, visit: (node: AstNode) => boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) visitAst(item, visit);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  if (visit(node as AstNode)) for (const value of Object.values(node)) visitAst(value, visit);
}

/** The table and view names a view's SELECT reads (its FROM clauses and subqueries). */
export function relationsReadBy(ast: AstNode): string[] {
  const names = new Set<string>();
  visitAst(ast, (n) => {
    if (n.type === 'select' && Array.isArray(n.from)) {
      for (const item of n.from as AstNode[]) if (typeof item.table === 'string') names.add(item.table);
    }
    return true;
  });
  return [...names];
}

/**
 * The column a reference names: a stored-code variable first (as in MySQL), then the scope's
 * FROM items, then the enclosing query's.
 */
export function findColumn(scope: Scope, ref: ColumnReference, stored: StoredContext): ColumnBinding | null {
  const variable = stored.variable?.(ref);
  if (variable) return variable;
  const byName = (item: FromItem): ColumnBinding | null => {
    const column =
      item.columns.find((c) => c.name === ref.column) ??
      item.columns.find((c) => c.name.toLowerCase() === ref.column.toLowerCase());
    return column
      ? { sql: `${quotePg(item.alias)}.${quotePg(column.target ?? column.name)}`, type: column.type }
      : null;
  };
  if (ref.table !== null) {
    const item =
      scope.items.find((i) => i.alias === ref.table && (ref.db === null || i.table === ref.table)) ??
      scope.items.find((i) => i.alias.toLowerCase() === ref.table!.toLowerCase());
    if (item) return byName(item);
    return scope.parent ? findColumn(scope.parent, ref, stored) : null;
  }
  const found = scope.items.map(byName).filter((b): b is ColumnBinding => b !== null);
  if (found.length > 1) fail(`column ${ref.column} is ambiguous`);
  if (found.length === 1) return found[0]!;
  return scope.parent ? findColumn(scope.parent, ref, stored) : null;
}

/** Columns of this query's FROM used outside aggregates in the select list, HAVING and ORDER BY. */
export function ungroupedColumns(ast: AstNode, scope: Scope, stored: StoredContext): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void =>
    visitAst(node, (n) => {
      if (n.type === 'aggr_func' || n.ast) return false;
      if (n.type !== 'column_ref') return true;
      const ref = columnReferenceOf(n);
      if (ref.column === '*') return false;
      const local = new Scope(null);
      local.items.push(...scope.items);
      const found = findColumn(local, ref, stored);
      if (found && !out.includes(found.sql)) out.push(found.sql);
      return false;
    });
  walk((ast.columns as AstNode[]).map((c) => c.expr));
  if (ast.having) walk(ast.having);
  walk(((ast.orderby ?? []) as AstNode[]).map((o) => o.expr));
  return out;
}

/**
 * A USING column's target name. USING names one column of both sides, so it translates only
 * when the run gives it the same target name in the joined item and in the item before that
 * holds it; else the view is refused (never joined on the wrong column).
 */
export function usingColumn(name: string, items: readonly FromItem[]): string {
  const targetIn = (item: FromItem): string | undefined => {
    const column =
      item.columns.find((c) => c.name === name) ??
      item.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
    return column ? (column.target ?? column.name) : undefined;
  };
  const joined = targetIn(items[items.length - 1]!);
  const before = items
    .slice(0, -1)
    .map(targetIn)
    .filter((t): t is string => t !== undefined);
  if (joined === undefined || before.length === 0) fail(`USING (${name}) names a column one side lacks`);
  if (before.some((t) => t !== joined))
    fail(
      `USING (${name}) joins columns the run names differently in PostgreSQL (${[...new Set([...before, joined])].join(', ')})`,
    );
  return joined!;
}

/** The LIMIT clause in PostgreSQL's form (empty without one). */
export function limitClause(limit: AstNode | null): string {
  const values = ((limit?.value ?? []) as AstNode[]).map((v) => String(v.value));
  if (values.length === 0) return '';
  if (!values.every((v) => /^\d+$/.test(v))) fail('a LIMIT that is not a number');
  if (values.length === 1) return ` LIMIT ${values[0]}`;
  const separator = String(limit?.seperator ?? limit?.separator ?? '');
  // `LIMIT offset, count` or `LIMIT count OFFSET offset`.
  const [count, offset] = separator === ',' ? [values[1], values[0]] : [values[0], values[1]];
  return ` LIMIT ${count} OFFSET ${offset}`;
}

/** Orders views so that each comes after the views it reads; the rest keep their order. */
export function orderViews<T extends { name: string; reads: string[] }>(views: readonly T[]): T[] {
  const byName = new Map(views.map((v) => [v.name, v]));
  const done = new Set<string>();
  const out: T[] = [];
  const visit = (view: T, path: Set<string>): void => {
    if (done.has(view.name) || path.has(view.name)) return;
    path.add(view.name);
    for (const dependency of view.reads) {
      const other = byName.get(dependency);
      if (other) visit(other, path);
    }
    done.add(view.name);
    out.push(view);
  };
  for (const view of views) visit(view, new Set());
  return out;
}
