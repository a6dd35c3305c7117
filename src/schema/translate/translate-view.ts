import { qualifyPg, quotePg } from '../../dialect/postgres/quote.js';
import { parseMysqlSelect, UntranslatableError, type AstNode } from './mysql-parse.js';
import type { SourceView } from './source-objects.js';
import type { SqlType } from './sql-types.js';
import { expandStars, type StoredContext } from './stored-context.js';

export type { StoredContext };
import { targetColumnName, targetTableName, type NamingRules } from '../../vocabulary/naming.js';
import {
  columnReferenceOf,
  ExpressionTranslator,
  type ColumnBinding,
  type ColumnReference,
  type Translated,
  type TranslateScope,
} from './translate-expression.js';

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

/** A view translated to PostgreSQL. */
export interface TranslatedView {
  name: string;
  /** The view's name in the target (the run's case rule). */
  targetName: string;
  /** The view's column names in the target, in order. */
  targetColumns: string[];
  /** The SELECT, in PostgreSQL. */
  select: string;
  /** CREATE OR REPLACE VIEW, with the source's column names and check option. */
  statement: string;
  columns: { name: string; type: SqlType }[];
  /**
   * Columns that are a GROUP_CONCAT without ORDER BY, with its separator: MySQL leaves their
   * order to the query plan, so verification compares their items in any order.
   */
  unorderedLists: Record<string, string>;
}

interface FromItem {
  alias: string;
  /** The source table name when the item is a table or view (unaliased references may name it with its database). */
  table: string | null;
  columns: RelationColumn[];
}

/** A select-list item by its alias. */
type Alias = Translated & { name: string };

class Scope {
  readonly items: FromItem[] = [];
  constructor(readonly parent: Scope | null) {}
}

function fail(reason: string): never {
  throw new UntranslatableError(reason);
}

function aliasOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  return String((value as AstNode).value ?? '');
}

/** The table and view names a view's SELECT reads (its FROM clauses and subqueries). */
export function relationsReadBy(ast: AstNode): string[] {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const n = node as AstNode;
    if (n.type === 'select' && Array.isArray(n.from)) {
      for (const item of n.from as AstNode[]) if (typeof item.table === 'string') names.add(item.table);
    }
    for (const value of Object.values(n)) walk(value);
  };
  walk(ast);
  return [...names];
}

/**
 * Translates MySQL/MariaDB view definitions (the stored SELECT) into PostgreSQL: every name
 * resolved against the target's tables and already translated views and quoted for
 * PostgreSQL, database qualifiers dropped, expressions through the one expression translator,
 * GROUP BY completed with the columns MySQL takes as functionally dependent, HAVING's select
 * aliases replaced by their expressions.
 */
export class ViewTranslator {
  constructor(
    private readonly sourceDatabase: string,
    private readonly targetSchema: string,
    private readonly relations: ReadonlyMap<string, Relation>,
    /** The run's renames and case: the view's own name and column names. */
    private readonly naming?: NamingRules,
    /** Stored code: its variables (and NEW/OLD), which win over columns as in MySQL, and the translated functions. */
    private readonly stored: StoredContext = {},
  ) {}

  /** A SELECT of stored code, translated with its variables in reach. */
  translateSelect(ast: AstNode): { sql: string; columns: { name: string; type: SqlType }[] } {
    return this.select(ast, null, null);
  }

  translate(view: SourceView): TranslatedView {
    const ast = parseMysqlSelect(view.definition);
    const unordered: Record<number, string> = {};
    const result = this.select(ast, null, unordered);
    if (view.columns.length !== result.columns.length)
      fail(`it yields ${result.columns.length} columns where MySQL lists ${view.columns.length}`);
    const names = view.columns.map((c) => c.name);
    const targetName = targetTableName(this.naming, view.name);
    const targetColumns = names.map((name) => targetColumnName(this.naming, view.name, name));
    const check =
      view.checkOption === 'CASCADED'
        ? ' WITH CASCADED CHECK OPTION'
        : view.checkOption === 'LOCAL'
          ? ' WITH LOCAL CHECK OPTION'
          : '';
    const statement = `CREATE OR REPLACE VIEW ${qualifyPg(this.targetSchema, targetName)} (${targetColumns.map(quotePg).join(', ')}) AS\n${result.sql}${check}`;
    const unorderedLists: Record<string, string> = {};
    for (const [index, separator] of Object.entries(unordered)) unorderedLists[names[Number(index)]!] = separator;
    return {
      name: view.name,
      targetName,
      targetColumns,
      select: result.sql,
      statement,
      columns: names.map((name, i) => ({ name, type: result.columns[i]!.type })),
      unorderedLists,
    };
  }

  private relation(db: string | null, table: string): Relation {
    if (db !== null && db !== this.sourceDatabase) fail(`it reads ${db}.${table}, a table of another database`);
    const relation =
      this.relations.get(table) ??
      [...this.relations.values()].find((r) => r.name.toLowerCase() === table.toLowerCase());
    if (!relation)
      fail(`it reads ${table}, which is not in the target (not migrated by this run, or a view that was not created)`);
    return relation;
  }

  private findColumn(scope: Scope, ref: ColumnReference): ColumnBinding | null {
    const variable = this.stored.variable?.(ref);
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
      return scope.parent ? this.findColumn(scope.parent, ref) : null;
    }
    const found = scope.items.map(byName).filter((b): b is ColumnBinding => b !== null);
    if (found.length > 1) fail(`column ${ref.column} is ambiguous`);
    if (found.length === 1) return found[0]!;
    return scope.parent ? this.findColumn(scope.parent, ref) : null;
  }

  private select(
    ast: AstNode,
    parent: Scope | null,
    unordered: Record<number, string> | null,
  ): { sql: string; columns: { name: string; type: SqlType }[] } {
    if (ast.with) fail('WITH (common table expressions) is not translated');
    const scope = new Scope(parent);
    const translatorFor = (
      aggregates: boolean,
      aliases?: Map<string, Alias>,
      onUnorderedList?: (separator: string) => void,
    ): ExpressionTranslator => {
      const scopeApi: TranslateScope = {
        column: (ref) => {
          const found = this.findColumn(scope, ref);
          if (found) return found;
          const alias = ref.table === null ? aliases?.get(ref.column.toLowerCase()) : undefined;
          if (alias) return alias;
          return fail(`it names an unknown column ${ref.table ? `${ref.table}.` : ''}${ref.column}`);
        },
        subquery: (sub) => {
          const result = this.select(sub, scope, null);
          return { sql: `(${result.sql})`, type: result.columns[0]?.type ?? { kind: 'unknown' } };
        },
      };
      return new ExpressionTranslator(scopeApi, {
        immutable: false,
        aggregates,
        ...(this.stored.functions ? { functions: this.stored.functions } : {}),
        ...(onUnorderedList ? { onUnorderedList } : {}),
      });
    };

    // FROM, each item joined to the ones before it.
    const fromParts: string[] = [];
    for (const item of (ast.from ?? []) as AstNode[]) {
      if (item.type === 'dual') continue;
      let sql: string;
      if (item.expr?.ast) {
        const alias = aliasOf(item.as);
        if (!alias) fail('a derived table without an alias');
        const sub = this.select(item.expr.ast as AstNode, null, null);
        scope.items.push({ alias: alias!, table: null, columns: sub.columns });
        sql = `(${sub.sql}) AS ${quotePg(alias!)}`;
      } else if (typeof item.table === 'string') {
        const relation = this.relation(item.db ?? null, item.table);
        const alias = aliasOf(item.as) ?? item.table;
        scope.items.push({ alias, table: item.table, columns: relation.columns });
        sql = `${qualifyPg(relation.schema ?? this.targetSchema, relation.targetName)} AS ${quotePg(alias)}`;
      } else {
        return fail('a FROM item my2pg does not translate');
      }
      if (fromParts.length === 0) {
        fromParts.push(sql);
        continue;
      }
      const join = String(item.join ?? '')
        .toUpperCase()
        .replace(/\s+/g, ' ');
      if (!join) {
        fromParts.push(`, ${sql}`);
        continue;
      }
      if (
        !/^(INNER JOIN|JOIN|LEFT JOIN|LEFT OUTER JOIN|RIGHT JOIN|RIGHT OUTER JOIN|CROSS JOIN|STRAIGHT_JOIN)$/.test(join)
      )
        fail(`${join} is not translated`);
      const keyword = join === 'STRAIGHT_JOIN' ? 'JOIN' : join;
      if (item.using) {
        const columns = (item.using as unknown[]).map((u) => this.usingColumn(aliasOf(u) ?? '', scope.items));
        fromParts.push(`${keyword} ${sql} USING (${columns.map(quotePg).join(', ')})`);
      } else if (item.on) {
        fromParts.push(`${keyword} ${sql} ON ${translatorFor(false).cond(item.on as AstNode)}`);
      } else {
        fromParts.push(
          `${keyword === 'JOIN' || keyword === 'INNER JOIN' ? 'CROSS JOIN' : keyword} ${sql}${keyword.startsWith('LEFT') || keyword.startsWith('RIGHT') ? ' ON true' : ''}`,
        );
      }
    }

    // The select list (aggregates allowed). Aliases are kept so that ORDER BY may name them.
    const columns: { name: string; type: SqlType }[] = [];
    const items: string[] = [];
    const aliases = new Map<string, Alias>();
    (this.stored.variable ? expandStars(ast.columns as AstNode[], scope.items) : (ast.columns as AstNode[])).forEach(
      (column, index) => {
        const expr = column.expr as AstNode;
        if (expr.type === 'column_ref' && columnReferenceOf(expr).column === '*')
          fail('SELECT * (MySQL stores views with the columns listed; this one is not)');
        const translator = translatorFor(
          true,
          undefined,
          unordered && expr.type === 'aggr_func' ? (separator) => (unordered[index] = separator) : undefined,
        );
        const translated = translator.output(translator.value(expr));
        const name =
          aliasOf(column.as) ?? (expr.type === 'column_ref' ? columnReferenceOf(expr).column : `column${index + 1}`);
        columns.push({ name, type: translated.type });
        items.push(`${translated.sql} AS ${quotePg(name)}`);
        aliases.set(name.toLowerCase(), { ...translated, name });
      },
    );

    let sql = `SELECT ${ast.distinct ? 'DISTINCT ' : ''}${items.join(', ')}`;
    if (fromParts.length > 0) sql += ` FROM ${fromParts.join(' ')}`;
    if (ast.where) sql += ` WHERE ${translatorFor(false).cond(ast.where as AstNode)}`;

    const groupNodes = (Array.isArray(ast.groupby) ? ast.groupby : (ast.groupby?.columns ?? [])) as AstNode[];
    if (!Array.isArray(ast.groupby) && ((ast.groupby?.modifiers ?? []) as unknown[]).some(Boolean))
      fail('GROUP BY … WITH ROLLUP is not translated');
    if (groupNodes.length > 0) {
      const group = groupNodes.map((g) => this.orderKey(g, scope, aliases, translatorFor(false), 'group'));
      // MySQL accepts columns that depend on the grouped ones (and MariaDB any column);
      // PostgreSQL only on a grouped primary key. Grouping by them as well is the same
      // grouping where MySQL's rule holds; where it does not, verification shows it.
      for (const extra of this.ungroupedColumns(ast, scope)) if (!group.includes(extra)) group.push(extra);
      sql += ` GROUP BY ${group.join(', ')}`;
    }
    if (ast.having) sql += ` HAVING ${translatorFor(true, aliases).cond(ast.having as AstNode)}`;
    const orderBy = (ast.orderby ?? []) as AstNode[];
    if (orderBy.length > 0) {
      const keys = orderBy.map(
        (o) =>
          `${this.orderKey(o.expr as AstNode, scope, aliases, translatorFor(true), 'order')}${String(o.type ?? '').toUpperCase() === 'DESC' ? ' DESC' : ''}`,
      );
      sql += ` ORDER BY ${keys.join(', ')}`;
    }
    sql += this.limit(ast.limit as AstNode | null);
    if (ast._next) {
      const op = String(ast.set_op ?? 'union').toUpperCase();
      if (!/^UNION( ALL| DISTINCT)?$/.test(op)) fail(`${op} is not translated`);
      const next = this.select(ast._next as AstNode, parent, null);
      sql = `${sql} ${op} ${next.sql}`;
    }
    return { sql, columns };
  }

  /**
   * A USING column's target name. USING names one column of both sides, so it translates only
   * when the run gives it the same target name in the joined item and in the item before that
   * holds it; else the view is refused (never joined on the wrong column).
   */
  private usingColumn(name: string, items: readonly FromItem[]): string {
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

  /** A GROUP BY or ORDER BY key: a position, a select alias, or an expression. */
  private orderKey(
    node: AstNode,
    scope: Scope,
    aliases: Map<string, Alias>,
    translator: ExpressionTranslator,
    clause: 'group' | 'order',
  ): string {
    if (node.type === 'number' && /^\d+$/.test(String(node.value))) return String(node.value);
    if (node.type === 'column_ref') {
      const ref = columnReferenceOf(node);
      // ORDER BY prefers the select alias, GROUP BY the table column (MySQL's and PostgreSQL's rule alike).
      if (
        ref.table === null &&
        aliases.has(ref.column.toLowerCase()) &&
        (clause === 'order' || !this.findColumn(scope, ref))
      ) {
        const alias = aliases.get(ref.column.toLowerCase())!;
        return clause === 'order' ? quotePg(alias.name) : alias.sql;
      }
    }
    return translator.value(node).sql;
  }

  /** Columns of this query's FROM used outside aggregates in the select list, HAVING and ORDER BY. */
  private ungroupedColumns(ast: AstNode, scope: Scope): string[] {
    const out: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) walk(item);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const n = node as AstNode;
      if (n.type === 'aggr_func' || n.ast) return;
      if (n.type === 'column_ref') {
        const ref = columnReferenceOf(n);
        if (ref.column === '*') return;
        const local = new Scope(null);
        local.items.push(...scope.items);
        const found = this.findColumn(local, ref);
        if (found && !out.includes(found.sql)) out.push(found.sql);
        return;
      }
      for (const value of Object.values(n)) walk(value);
    };
    walk((ast.columns as AstNode[]).map((c) => c.expr));
    if (ast.having) walk(ast.having);
    walk(((ast.orderby ?? []) as AstNode[]).map((o) => o.expr));
    return out;
  }

  private limit(limit: AstNode | null): string {
    const values = ((limit?.value ?? []) as AstNode[]).map((v) => String(v.value));
    if (values.length === 0) return '';
    if (!values.every((v) => /^\d+$/.test(v))) fail('a LIMIT that is not a number');
    if (values.length === 1) return ` LIMIT ${values[0]}`;
    const separator = String(limit?.seperator ?? limit?.separator ?? '');
    // `LIMIT offset, count` or `LIMIT count OFFSET offset`.
    const [count, offset] = separator === ',' ? [values[1], values[0]] : [values[0], values[1]];
    return ` LIMIT ${count} OFFSET ${offset}`;
  }
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
