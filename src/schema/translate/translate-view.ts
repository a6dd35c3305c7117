import { qualifyPg, quotePg } from '../../dialect/postgres/quote.js';
import { parseMysqlSelect, UntranslatableError, type AstNode } from './mysql-parse.js';
import type { SourceView } from './source-objects.js';
import type { SqlType } from './sql-types.js';
import { expandStars, type StoredContext } from './stored-context.js';
import {
  aliasOf,
  findColumn,
  limitClause,
  type Relation,
  Scope,
  ungroupedColumns,
  usingColumn,
} from './view-relations.js';

import { targetColumnName, targetTableName, type NamingRules } from '../../vocabulary/naming.js';
import {
  columnReferenceOf,
  ExpressionTranslator,
  type Translated,
  type TranslateScope,
} from './translate-expression.js';

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

/** A select-list item by its alias. */
type Alias = Translated & { name: string };

function fail(reason: string): never {
  throw new UntranslatableError(reason);
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
          const found = findColumn(scope, ref, this.stored);
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
        const columns = (item.using as unknown[]).map((u) => usingColumn(aliasOf(u) ?? '', scope.items));
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
      for (const extra of ungroupedColumns(ast, scope, this.stored)) if (!group.includes(extra)) group.push(extra);
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
    sql += limitClause(ast.limit as AstNode | null);
    if (ast._next) {
      const op = String(ast.set_op ?? 'union').toUpperCase();
      if (!/^UNION( ALL| DISTINCT)?$/.test(op)) fail(`${op} is not translated`);
      const next = this.select(ast._next as AstNode, parent, null);
      sql = `${sql} ${op} ${next.sql}`;
    }
    return { sql, columns };
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
        (clause === 'order' || !findColumn(scope, ref, this.stored))
      ) {
        const alias = aliases.get(ref.column.toLowerCase())!;
        return clause === 'order' ? quotePg(alias.name) : alias.sql;
      }
    }
    return translator.value(node).sql;
  }
}
