import { literalPg } from '../../dialect/postgres/quote.js';
import { translateDateFormat } from './date-format.js';
import { columnReferenceOf, fail, literalString, translateJsonPath } from './ast-helpers.js';
import type { TranslateOptions, TranslateScope, Translated, Translator } from './expression-types.js';
import { translateAggregate } from './translate-aggregates.js';
import { translateFunction } from './translate-functions.js';
import { translateBinary } from './translate-operators.js';
import { translateCast, unifyValues } from './translate-conversions.js';
import { extractField } from './translate-temporal.js';
import type { AstNode } from './mysql-parse.js';
import { BOOL, INT, isNumeric, NULL_TYPE, TEXT, type SqlType } from './sql-types.js';

export type {
  ColumnBinding,
  StoredFunctionSignature,
  TranslateOptions,
  TranslateScope,
  Translated,
} from './expression-types.js';
export type { ColumnReference } from './ast-helpers.js';
export { columnReferenceOf, translateJsonPath };

/**
 * Translates MySQL expressions into PostgreSQL ones with MySQL's meaning: CONCAT is NULL when
 * any argument is, `/` gives a decimal rounded to the dividend's scale plus 4 (NULL for a zero
 * divisor), DIV truncates, comparisons yield booleans that count as 1/0 in arithmetic, and
 * values print as text the way MySQL prints them. Whatever it cannot translate exactly it
 * refuses with an UntranslatableError that says why; it never guesses.
 */
export class ExpressionTranslator implements Translator {
  constructor(
    private readonly scope: TranslateScope,
    readonly options: TranslateOptions,
  ) {}

  /** The expression as a value (a condition stays a PostgreSQL boolean). */
  value(node: AstNode): Translated {
    switch (node.type) {
      case 'column_ref':
        return this.columnRef(node);
      case 'number': {
        const text = String(node.value);
        if (/e/i.test(text)) return { sql: `${text}::float8`, type: { kind: 'float', literal: true } };
        const point = text.indexOf('.');
        return point < 0
          ? { sql: text, type: { kind: 'int', literal: true } }
          : { sql: text, type: { kind: 'decimal', scale: text.length - point - 1, literal: true } };
      }
      case 'bigint':
        return { sql: String(node.value), type: { kind: 'int', literal: true } };
      case 'single_quote_string':
      case 'double_quote_string':
      case 'natural_string':
      case 'string': {
        const text = literalString(node)!;
        if (text.includes('\u0000')) fail('a string literal holds a NUL character, which PostgreSQL text cannot hold');
        return { sql: literalPg(text), type: { kind: 'text', literal: true } };
      }
      case 'hex_string':
      case 'full_hex_string':
        return { sql: `'\\x${String(node.value).toLowerCase()}'::bytea`, type: { kind: 'bytea' } };
      case 'bit_string':
        return { sql: BigInt(`0b${String(node.value || '0')}`).toString(), type: { kind: 'int', literal: true } };
      case 'null':
        return { sql: 'NULL', type: NULL_TYPE };
      case 'bool':
        return { sql: node.value ? 'true' : 'false', type: BOOL };
      case 'binary_expr':
        return translateBinary(this, node);
      case 'unary_expr':
        return this.unary(node);
      case 'function':
        return translateFunction(this, node);
      case 'aggr_func':
        return translateAggregate(this, node);
      case 'case':
        return this.caseExpression(node);
      case 'cast':
        return translateCast(this, node);
      case 'extract':
        return extractField(this, String(node.args?.field ?? ''), this.value(node.args?.source as AstNode));
      case 'interval':
        return fail('an INTERVAL outside date arithmetic');
      default:
        if (node.ast) return this.subquery(node.ast as AstNode);
        return fail(`MySQL syntax "${String(node.type)}" is not translated`);
    }
  }

  /** The expression as a PostgreSQL boolean, with MySQL's truth rules (non-zero is true). */
  cond(node: AstNode): string {
    const v = this.value(node);
    return this.asCondition(v);
  }

  private asCondition(v: Translated): string {
    if (v.type.kind === 'bool') return v.sql;
    if (v.type.kind === 'null') return 'NULL::boolean';
    if (v.type.kind === 'int' || v.type.kind === 'decimal' || v.type.kind === 'float') return `(${v.sql} <> 0)`;
    return fail(`a ${v.type.kind} value used as a condition (MySQL converts it to a number)`);
  }

  /** The expression as a number, as MySQL's arithmetic sees it (true/false are 1/0). */
  num(node: AstNode): Translated {
    return this.asNumber(this.value(node));
  }

  asNumber(v: Translated): Translated {
    if (v.type.kind === 'bool') return { sql: `(${v.sql})::int`, type: INT };
    if (isNumeric(v.type) || v.type.kind === 'null') return v;
    if (v.type.kind === 'text' && v.type.literal) {
      const text = v.sql.slice(1, -1);
      if (/^-?\d+$/.test(text)) return { sql: text, type: { kind: 'int', literal: true } };
      if (/^-?\d*\.\d+$/.test(text))
        return { sql: text, type: { kind: 'decimal', scale: text.length - text.indexOf('.') - 1, literal: true } };
    }
    return fail(`arithmetic on a ${v.type.kind} value (MySQL converts it to a number; PostgreSQL does not)`);
  }

  /** The expression as text, printed as MySQL prints the value (CONCAT's, LIKE's operands). */
  text(node: AstNode): Translated {
    return this.asText(this.value(node));
  }

  /** A value as MySQL shows it in a result: decimals rounded to the scale MySQL gives them. */
  output(v: Translated): Translated {
    if (v.type.kind === 'decimal' && v.type.unrounded && v.type.scale !== undefined)
      return { sql: `round(${v.sql}, ${v.type.scale})`, type: { kind: 'decimal', scale: v.type.scale } };
    return v;
  }

  asText(value: Translated): Translated {
    const v = this.output(value);
    switch (v.type.kind) {
      case 'text':
        return v;
      case 'null':
        return { sql: 'NULL::text', type: TEXT };
      case 'int':
      case 'decimal':
      case 'float':
      case 'json':
        return { sql: `(${v.sql})::text`, type: TEXT };
      case 'bool':
        return { sql: `(${v.sql})::int::text`, type: TEXT };
      case 'date':
        return { sql: this.formatDate(v, '%Y-%m-%d'), type: TEXT };
      case 'datetime':
      case 'timestamptz': {
        const fsp = Math.max(0, Math.min(6, v.type.fsp ?? 0));
        const base = this.formatDate(v, '%Y-%m-%d %H:%i:%s');
        if (fsp === 0) return { sql: base, type: TEXT };
        return { sql: `(${base} || '.' || left(${this.formatDate(v, '%f')}, ${fsp}))`, type: TEXT };
      }
      default:
        return fail(`a ${v.type.kind} value used as text`);
    }
  }

  /** A value brought to the type of the column it is stored in, as MySQL converts it on write. */
  toType(v: Translated, target: SqlType): Translated {
    if (v.type.kind === target.kind || v.type.kind === 'null') return v;
    if (target.kind === 'bool') return { sql: this.asCondition(v), type: BOOL };
    if (target.kind === 'int' || target.kind === 'decimal' || target.kind === 'float')
      return v.type.kind === 'text' ? v : this.asNumber(v);
    if (target.kind === 'text') return this.asText(v);
    if (target.kind === 'json' && v.type.kind === 'text') return { sql: `(${v.sql})::jsonb`, type: target };
    return v;
  }

  private formatDate(v: Translated, format: string): string {
    if (v.type.kind === 'timestamptz' && this.options.immutable) {
      fail(
        'a TIMESTAMP column formatted or taken apart depends on the session time zone in PostgreSQL, which a generated column or CHECK cannot',
      );
    }
    const ts = v.type.kind === 'timestamptz' ? `(${v.sql})` : `(${v.sql})::timestamp`;
    return translateDateFormat(ts, format);
  }

  private columnRef(node: AstNode): Translated {
    const ref = columnReferenceOf(node);
    if (ref.column === '*') fail('SELECT * inside an expression');
    return this.scope.column(ref);
  }

  subquery(ast: AstNode): Translated {
    if (this.options.immutable || !this.scope.subquery)
      fail('a subquery (PostgreSQL allows none in generated columns and CHECK constraints)');
    return this.scope.subquery(ast);
  }

  comparable(left: Translated, right: Translated): [Translated, Translated] {
    // A MySQL comparison result counts as 1/0: compared with a number, PostgreSQL needs it as one.
    if (left.type.kind === 'bool' && right.type.kind !== 'bool' && right.type.kind !== 'null')
      return [this.asNumber(left), right];
    if (right.type.kind === 'bool' && left.type.kind !== 'bool' && left.type.kind !== 'null')
      return [left, this.asNumber(right)];
    return [left, right];
  }

  modulo(l: Translated, r: Translated): Translated {
    if (l.type.kind === 'float' || r.type.kind === 'float') fail('MOD of floating-point values');
    if (l.type.kind === 'int' && r.type.kind === 'int') return { sql: `mod(${l.sql}, NULLIF(${r.sql}, 0))`, type: INT };
    return {
      sql: `mod(${l.sql}::numeric, NULLIF(${r.sql}, 0)::numeric)`,
      type: { kind: 'decimal', scale: Math.max(l.type.scale ?? 0, r.type.scale ?? 0) },
    };
  }

  private unary(node: AstNode): Translated {
    const op = String(node.operator).toUpperCase();
    const expr = node.expr as AstNode;
    if (op === 'NOT' || op === '!') return { sql: `(NOT ${this.cond(expr)})`, type: BOOL };
    if (op === '-') {
      const v = this.num(expr);
      return { sql: `(- ${v.sql})`, type: v.type.literal ? { ...v.type, literal: false } : v.type };
    }
    if (op === '+') return this.num(expr);
    return fail(`the operator ${op} is not translated`);
  }

  private jsonDocument(node: AstNode): Translated {
    const v = this.value(node);
    if (v.type.kind === 'json') return v;
    if (v.type.kind === 'text' && !v.type.literal) return { sql: `(${v.sql})::jsonb`, type: { kind: 'json' } };
    return fail(`JSON functions on a ${v.type.kind} value`);
  }

  jsonExtract(document: AstNode, path: AstNode, unquote: boolean): Translated {
    const text = literalString(path);
    if (text === null) fail('a JSON path that is not a literal string');
    const doc = this.jsonDocument(document);
    return unquote
      ? { sql: `(${doc.sql} #>> ${translateJsonPath(text)})`, type: TEXT }
      : { sql: `(${doc.sql} #> ${translateJsonPath(text)})`, type: { kind: 'json' } };
  }

  private caseExpression(node: AstNode): Translated {
    const args = (node.args ?? []) as AstNode[];
    const subject = node.expr ? this.value(node.expr as AstNode) : null;
    const whens = args.filter((a) => a.type === 'when');
    const otherwise = args.find((a) => a.type === 'else');
    const results = unifyValues(this, [
      ...whens.map((w) => this.value(w.result as AstNode)),
      ...(otherwise ? [this.value(otherwise.result as AstNode)] : []),
    ]);
    const parts = whens.map((w, i) => {
      const condition = subject
        ? `${this.comparable(subject, this.value(w.cond as AstNode))
            .map((x) => x.sql)
            .join(' = ')}`
        : this.cond(w.cond as AstNode);
      return `WHEN ${condition} THEN ${results.values[i]!.sql}`;
    });
    const elseSql = otherwise ? ` ELSE ${results.values[whens.length]!.sql}` : '';
    return { sql: `CASE ${parts.join(' ')}${elseSql} END`, type: results.type };
  }

  /** `a || b || …` on text, NULL when any part is (CONCAT's rule; concat() is only STABLE). */
  concatenate(parts: Translated[]): Translated {
    if (parts.length === 0) fail('CONCAT without arguments');
    if (parts.length === 1) return parts[0]!;
    const sqls = parts.map((p) => p.sql);
    // Two untyped literals side by side make `||` ambiguous in PostgreSQL.
    if (parts[0]!.type.literal && parts[1]!.type.literal) sqls[0] = `${sqls[0]}::text`;
    return { sql: `(${sqls.join(' || ')})`, type: TEXT };
  }
}
