import type { ColumnReference } from './ast-helpers.js';
import type { AstNode } from './mysql-parse.js';
import type { SqlType } from './sql-types.js';

/** A translated expression: PostgreSQL SQL and the type it has. */
export interface Translated {
  sql: string;
  type: SqlType;
}

/** What a column reference stands for in PostgreSQL. */
export interface ColumnBinding {
  sql: string;
  type: SqlType;
}

/** Where names come from: the table of a generated column or CHECK, or a view's FROM clause. */
export interface TranslateScope {
  /** Resolves a column reference; throws UntranslatableError when it is unknown. */
  column(ref: ColumnReference): ColumnBinding;
  /** A subquery inside an expression (views only). */
  subquery?(ast: AstNode): Translated;
}

/** The rules of one place an expression stands in. */
export interface TranslateOptions {
  /**
   * Generated columns and CHECK constraints: PostgreSQL accepts only IMMUTABLE functions
   * there, and no subqueries or aggregates.
   */
  immutable: boolean;
  /** Aggregate functions are allowed (a view's select list, HAVING, ORDER BY). */
  aggregates?: boolean;
  /** Notes the translator leaves for verification, e.g. GROUP_CONCAT without an order. */
  onUnorderedList?(separator: string): void;
  /** The source's stored functions that have a translation, by lower-case name: calls to them are kept. */
  functions?: ReadonlyMap<string, StoredFunctionSignature>;
}

/** A translated stored function as its callers see it. */
export interface StoredFunctionSignature {
  /** The function, qualified and quoted for PostgreSQL. */
  sql: string;
  /** Each parameter's type and PostgreSQL type (arguments are converted to it, as MySQL converts them). */
  params: { type: SqlType; pg: string }[];
  returns: SqlType;
}

/** What the function and aggregate tables need of the expression translator (ExpressionTranslator implements it). */
export interface Translator {
  readonly options: TranslateOptions;
  value(node: AstNode): Translated;
  text(node: AstNode): Translated;
  num(node: AstNode): Translated;
  cond(node: AstNode): string;
  asText(value: Translated): Translated;
  comparable(left: Translated, right: Translated): [Translated, Translated];
  concatenate(parts: Translated[]): Translated;
  subquery(ast: AstNode): Translated;
  jsonExtract(document: AstNode, path: AstNode, unquote: boolean): Translated;
  modulo(l: Translated, r: Translated): Translated;
  asNumber(v: Translated): Translated;
  toType(v: Translated, target: SqlType): Translated;
}
