import { qualifyPg, quotePg } from '../../dialect/postgres/quote.js';
import type { NamingRules } from '../../vocabulary/naming.js';
import {
  parseMysqlExpression,
  parseMysqlStatement,
  UntranslatableError,
  type AstNode,
} from '../translate/mysql-parse.js';
import {
  ExpressionTranslator,
  type ColumnBinding,
  type ColumnReference,
  type StoredFunctionSignature,
  type Translated,
} from '../translate/translate-expression.js';
import { ViewTranslator } from '../translate/translate-view.js';
import type { Relation } from '../translate/view-relations.js';
import type { StoredText } from './stored-ast.js';
import { StoredCodeError } from './stored-tokens.js';

/** What a body did, for its volatility and the routines it depends on. */
export interface StoredEffects {
  reads: boolean;
  writes: boolean;
  /** Lower-case names of the stored functions it calls. */
  calls: Set<string>;
}

/** A procedure as a CALL in a body sees it. */
export interface StoredProcedureSignature {
  sql: string;
  params: { mode: 'IN' | 'OUT' | 'INOUT'; type: Translated['type']; pg: string }[];
}

/** The names an expression or statement of stored code can reach. */
export interface StoredNames {
  database: string;
  schema: string;
  relations: ReadonlyMap<string, Relation>;
  functions: ReadonlyMap<string, StoredFunctionSignature>;
  /** The source's procedures, by lower-case name: what a CALL in a body needs. */
  procedures: ReadonlyMap<string, StoredProcedureSignature>;
  naming?: NamingRules | undefined;
  /** A variable, parameter, NEW.col or OLD.col; null when the reference is none of them. */
  variable(ref: ColumnReference): ColumnBinding | null;
}

/** `<=>` comes from the tokenizer spelled RLIKE (which stored code may not use otherwise). */
function restoreNullSafeEquals(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) restoreNullSafeEquals(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const n = node as AstNode;
  if (n.type === 'binary_expr' && String(n.operator).toUpperCase() === 'RLIKE') n.operator = '<=>';
  for (const value of Object.values(n)) restoreNullSafeEquals(value);
}

/** Translates the expressions and SQL statements of one routine or trigger body. */
export class StoredSqlTranslator {
  readonly effects: StoredEffects = { reads: false, writes: false, calls: new Set() };
  private readonly functions: ReadonlyMap<string, StoredFunctionSignature>;

  constructor(private readonly names: StoredNames) {
    const calls = this.effects.calls;
    const known = names.functions;
    this.functions = new (class extends Map<string, StoredFunctionSignature> {
      override get(name: string): StoredFunctionSignature | undefined {
        calls.add(name);
        return known.get(name);
      }
    })();
  }

  private views(): ViewTranslator {
    return new ViewTranslator(this.names.database, this.names.schema, this.names.relations, this.names.naming, {
      variable: (ref) => this.names.variable(ref),
      functions: this.functions,
    });
  }

  /** An expression translator whose names are the variables, then (for UPDATE/DELETE) one table's columns. */
  private translator(table?: { alias: string; relation: Relation }): ExpressionTranslator {
    return new ExpressionTranslator(
      {
        column: (ref) => {
          const variable = this.names.variable(ref);
          if (variable) return variable;
          if (table && (ref.table === null || ref.table.toLowerCase() === table.alias.toLowerCase())) {
            const column = table.relation.columns.find((c) => c.name.toLowerCase() === ref.column.toLowerCase());
            if (column)
              return { sql: `${quotePg(table.alias)}.${quotePg(column.target ?? column.name)}`, type: column.type };
          }
          throw new UntranslatableError(
            `it names ${ref.table ? `${ref.table}.` : ''}${ref.column}, which is no variable or column in reach`,
          );
        },
        subquery: (ast) => {
          this.effects.reads = true;
          const result = this.views().translateSelect(ast);
          return { sql: `(${result.sql})`, type: result.columns[0]?.type ?? { kind: 'unknown' } };
        },
      },
      { immutable: false, functions: this.functions },
    );
  }

  private at<T>(text: StoredText, work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof StoredCodeError) throw error;
      if (error instanceof UntranslatableError)
        throw new StoredCodeError(text.line, `${error.message} in: ${text.text.slice(0, 80)}`);
      throw error;
    }
  }

  private parse(text: StoredText, statement: boolean): AstNode {
    return this.at(text, () => {
      const ast = statement ? parseMysqlStatement(text.text) : parseMysqlExpression(text.text);
      restoreNullSafeEquals(ast);
      return ast;
    });
  }

  /** An expression as a value. */
  value(text: StoredText): Translated {
    const ast = this.parse(text, false);
    return this.at(text, () => this.translator().value(ast));
  }

  /** A value brought to a variable's or column's type, as MySQL converts on assignment. */
  convert(value: Translated, target: Translated['type'], text: StoredText): Translated {
    return this.at(text, () => this.translator().toType(value, target));
  }

  /** An expression as a PostgreSQL condition, with MySQL's truth rules. */
  condition(text: StoredText): string {
    const ast = this.parse(text, false);
    return this.at(text, () => this.translator().cond(ast));
  }

  /** A SELECT: its PostgreSQL text and column count. */
  select(text: StoredText): { sql: string; columns: number; hasFrom: boolean } {
    const ast = this.parse(text, true);
    if (ast.type !== 'select')
      throw new StoredCodeError(text.line, `a ${String(ast.type).toUpperCase()} where a SELECT belongs`);
    const result = this.at(text, () => this.views().translateSelect(ast));
    const hasFrom = Array.isArray(ast.from) && ast.from.length > 0;
    if (hasFrom) this.effects.reads = true;
    return { sql: result.sql, columns: result.columns.length, hasFrom };
  }

  /** INSERT, UPDATE or DELETE of one table. */
  write(text: StoredText): string {
    const ast = this.parse(text, true);
    this.effects.writes = true;
    return this.at(text, () => {
      switch (ast.type) {
        case 'insert':
          return this.insert(ast);
        case 'update':
          return this.update(ast);
        case 'delete':
          return this.delete(ast);
        default:
          throw new UntranslatableError(`${String(ast.type).toUpperCase()} is not translated`);
      }
    });
  }

  private relation(item: AstNode | undefined): { alias: string; relation: Relation; sql: string } {
    if (!item || typeof item.table !== 'string')
      throw new UntranslatableError('a statement on more than one table, or on no table');
    if (item.db && item.db !== this.names.database)
      throw new UntranslatableError(`it writes ${item.db}.${item.table}, a table of another database`);
    const relation =
      this.names.relations.get(item.table) ??
      [...this.names.relations.values()].find((r) => r.name.toLowerCase() === String(item.table).toLowerCase());
    if (!relation) throw new UntranslatableError(`it writes ${item.table}, which is not in the target`);
    const alias = typeof item.as === 'string' && item.as ? item.as : item.table;
    return {
      alias,
      relation,
      sql: `${qualifyPg(relation.schema ?? this.names.schema, relation.targetName)} AS ${quotePg(alias)}`,
    };
  }

  private column(relation: Relation, name: string): Relation['columns'][number] {
    const column = relation.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!column) throw new UntranslatableError(`${relation.name} has no column ${name} in the target`);
    return column;
  }

  private insert(ast: AstNode): string {
    if (ast.on_duplicate_update) throw new UntranslatableError('INSERT … ON DUPLICATE KEY UPDATE is not translated');
    const target = this.relation((ast.table as AstNode[])[0]);
    const names = ((ast.columns as unknown[] | null) ?? target.relation.columns.map((c) => c.name)).map((c) =>
      typeof c === 'string' ? c : String((c as AstNode).value ?? (c as AstNode).column ?? ''),
    );
    const columns = names.map((n) => this.column(target.relation, n));
    let source: string;
    const values = ast.values as AstNode;
    if (values?.type === 'values') {
      const rows = (values.values as AstNode[]).map((row) => {
        const items = row.value as AstNode[];
        if (items.length !== columns.length)
          throw new UntranslatableError('an INSERT row with the wrong number of values');
        return `(${items.map((v, i) => this.translator().toType(this.translator().value(v), columns[i]!.type).sql).join(', ')})`;
      });
      source = `VALUES ${rows.join(', ')}`;
    } else if (values?.type === 'select') {
      this.effects.reads = true;
      source = this.views().translateSelect(values).sql;
    } else throw new UntranslatableError('an INSERT without VALUES or SELECT');
    const ignore = /ignore/i.test(String(ast.prefix ?? ''));
    return `INSERT INTO ${target.sql} (${columns.map((c) => quotePg(c.target ?? c.name)).join(', ')}) ${source}${ignore ? ' ON CONFLICT DO NOTHING' : ''}`;
  }

  private update(ast: AstNode): string {
    const tables = ast.table as AstNode[];
    if (tables.length !== 1 || ast.from) throw new UntranslatableError('an UPDATE of several tables is not translated');
    if (ast.orderby || ast.limit) throw new UntranslatableError('UPDATE … ORDER BY/LIMIT is not translated');
    const target = this.relation(tables[0]);
    const t = this.translator(target);
    const sets = (ast.set as AstNode[]).map((s) => {
      const column = this.column(target.relation, String(s.column));
      return `${quotePg(column.target ?? column.name)} = ${t.toType(t.value(s.value as AstNode), column.type).sql}`;
    });
    this.effects.reads = true;
    return `UPDATE ${target.sql} SET ${sets.join(', ')}${ast.where ? ` WHERE ${t.cond(ast.where as AstNode)}` : ''}`;
  }

  private delete(ast: AstNode): string {
    const from = ast.from as AstNode[];
    if (from.length !== 1 || (ast.table as AstNode[] | null)?.some((t) => t.table !== from[0]?.table))
      throw new UntranslatableError('a DELETE from several tables is not translated');
    if (ast.orderby || ast.limit) throw new UntranslatableError('DELETE … ORDER BY/LIMIT is not translated');
    const target = this.relation(from[0]);
    this.effects.reads = true;
    return `DELETE FROM ${target.sql}${ast.where ? ` WHERE ${this.translator(target).cond(ast.where as AstNode)}` : ''}`;
  }
}
