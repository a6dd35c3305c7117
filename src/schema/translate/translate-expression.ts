import { literalPg } from '../../dialect/postgres/quote.js';
import { translateDateFormat } from './date-format.js';
import { unescapeMysqlString, UntranslatableError, type AstNode } from './mysql-parse.js';
import { BOOL, castTarget, FLOAT, INT, isNumeric, NULL_TYPE, TEXT, type SqlType } from './sql-types.js';

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

/** A column reference as MySQL wrote it. */
export interface ColumnReference {
  db: string | null;
  table: string | null;
  column: string;
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
}

const COMPARISON = new Map([
  ['=', '='],
  ['<>', '<>'],
  ['!=', '<>'],
  ['<', '<'],
  ['>', '>'],
  ['<=', '<='],
  ['>=', '>='],
]);
const LOGICAL = new Set(['AND', '&&', 'OR', '||', 'XOR']);

function fail(reason: string): never {
  throw new UntranslatableError(reason);
}

/** The name of a function node, lower case. */
function functionName(node: AstNode): string {
  const name = node.name;
  if (typeof name === 'string') return name.toLowerCase();
  const parts = (name?.name ?? []) as AstNode[];
  return parts.map((p) => String(p.value)).join('.').toLowerCase();
}

function functionArgs(node: AstNode): AstNode[] {
  const args = node.args;
  if (!args) return [];
  if (Array.isArray(args.value)) return args.value as AstNode[];
  return [];
}

/** A column reference's parts (node-sql-parser spells table and column in several shapes). */
export function columnReferenceOf(node: AstNode): ColumnReference {
  const part = (value: unknown): string | null => {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return value;
    const v = value as AstNode;
    if (v.expr) return part(v.expr.value);
    return v.value === undefined ? null : String(v.value);
  };
  return { db: part(node.db), table: part(node.table), column: part(node.column) ?? '' };
}

function isStringLiteral(node: AstNode | undefined): boolean {
  return node !== undefined && ['single_quote_string', 'double_quote_string', 'natural_string', 'string'].includes(String(node.type));
}

/** The text of a literal string argument, or null when the argument is not one. */
export function literalString(node: AstNode | undefined): string | null {
  if (!node || !isStringLiteral(node)) return null;
  return unescapeMysqlString(String(node.value ?? ''), node.type === 'double_quote_string' ? '"' : "'");
}

function literalInteger(node: AstNode | undefined): number | null {
  if (!node) return null;
  if (node.type === 'number' && /^-?\d+$/.test(String(node.value))) return Number(node.value);
  if (node.type === 'unary_expr' && node.operator === '-' && node.expr?.type === 'number' && /^\d+$/.test(String(node.expr.value))) return -Number(node.expr.value);
  return null;
}

/** MySQL's JSON path (`$.a.b[0]`, `$."a b"`) as PostgreSQL's path array, or untranslatable. */
export function translateJsonPath(path: string): string {
  const trimmed = path.trim();
  if (!trimmed.startsWith('$')) fail(`the JSON path ${JSON.stringify(path)} does not start with $`);
  const parts: string[] = [];
  let i = 1;
  while (i < trimmed.length) {
    const ch = trimmed[i]!;
    if (ch === '.') {
      i += 1;
      if (trimmed[i] === '"') {
        let key = '';
        i += 1;
        while (i < trimmed.length && trimmed[i] !== '"') {
          if (trimmed[i] === '\\') i += 1;
          key += trimmed[i] ?? '';
          i += 1;
        }
        i += 1;
        parts.push(key);
      } else {
        const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(trimmed.slice(i));
        if (!m) fail(`the JSON path ${JSON.stringify(path)} uses wildcards or a form my2pg does not translate`);
        parts.push(m[0]);
        i += m[0].length;
      }
    } else if (ch === '[') {
      const m = /^\[\s*(\d+)\s*\]/.exec(trimmed.slice(i));
      if (!m) fail(`the JSON path ${JSON.stringify(path)} uses an array form my2pg does not translate`);
      parts.push(m[1]!);
      i += m[0].length;
    } else if (/\s/.test(ch)) {
      i += 1;
    } else {
      fail(`the JSON path ${JSON.stringify(path)} uses wildcards or a form my2pg does not translate`);
    }
  }
  return parts.length === 0 ? "'{}'::text[]" : `ARRAY[${parts.map(literalPg).join(', ')}]`;
}

/**
 * Translates MySQL expressions into PostgreSQL ones with MySQL's meaning: CONCAT is NULL when
 * any argument is, `/` gives a decimal rounded to the dividend's scale plus 4 (NULL for a zero
 * divisor), DIV truncates, comparisons yield booleans that count as 1/0 in arithmetic, and
 * values print as text the way MySQL prints them. Whatever it cannot translate exactly it
 * refuses with an UntranslatableError that says why; it never guesses.
 */
export class ExpressionTranslator {
  constructor(
    private readonly scope: TranslateScope,
    private readonly options: TranslateOptions,
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
        return point < 0 ? { sql: text, type: { kind: 'int', literal: true } } : { sql: text, type: { kind: 'decimal', scale: text.length - point - 1, literal: true } };
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
        return { sql: BigInt('0b' + String(node.value || '0')).toString(), type: { kind: 'int', literal: true } };
      case 'null':
        return { sql: 'NULL', type: NULL_TYPE };
      case 'bool':
        return { sql: node.value ? 'true' : 'false', type: BOOL };
      case 'binary_expr':
        return this.binary(node);
      case 'unary_expr':
        return this.unary(node);
      case 'function':
        return this.func(node);
      case 'aggr_func':
        return this.aggregate(node);
      case 'case':
        return this.caseExpression(node);
      case 'cast':
        return this.cast(node);
      case 'extract':
        return this.extract(String(node.args?.field ?? ''), this.value(node.args?.source as AstNode));
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

  private asNumber(v: Translated): Translated {
    if (v.type.kind === 'bool') return { sql: `(${v.sql})::int`, type: INT };
    if (isNumeric(v.type) || v.type.kind === 'null') return v;
    if (v.type.kind === 'text' && v.type.literal) {
      const text = v.sql.slice(1, -1);
      if (/^-?\d+$/.test(text)) return { sql: text, type: { kind: 'int', literal: true } };
      if (/^-?\d*\.\d+$/.test(text)) return { sql: text, type: { kind: 'decimal', scale: text.length - text.indexOf('.') - 1, literal: true } };
    }
    return fail(`arithmetic on a ${v.type.kind} value (MySQL converts it to a number; PostgreSQL does not)`);
  }

  /** The expression as text, printed as MySQL prints the value (CONCAT's, LIKE's operands). */
  text(node: AstNode): Translated {
    return this.asText(this.value(node));
  }

  /** A value as MySQL shows it in a result: decimals rounded to the scale MySQL gives them. */
  output(v: Translated): Translated {
    if (v.type.kind === 'decimal' && v.type.unrounded && v.type.scale !== undefined) return { sql: `round(${v.sql}, ${v.type.scale})`, type: { kind: 'decimal', scale: v.type.scale } };
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
    if (target.kind === 'int' || target.kind === 'decimal' || target.kind === 'float') return v.type.kind === 'text' ? v : this.asNumber(v);
    if (target.kind === 'text') return this.asText(v);
    if (target.kind === 'json' && v.type.kind === 'text') return { sql: `(${v.sql})::jsonb`, type: target };
    return v;
  }

  private formatDate(v: Translated, format: string): string {
    if (v.type.kind === 'timestamptz' && this.options.immutable) {
      fail('a TIMESTAMP column formatted or taken apart depends on the session time zone in PostgreSQL, which a generated column or CHECK cannot');
    }
    const ts = v.type.kind === 'timestamptz' ? `(${v.sql})` : `(${v.sql})::timestamp`;
    return translateDateFormat(ts, format);
  }

  private columnRef(node: AstNode): Translated {
    const ref = columnReferenceOf(node);
    if (ref.column === '*') fail('SELECT * inside an expression');
    return this.scope.column(ref);
  }

  private subquery(ast: AstNode): Translated {
    if (this.options.immutable || !this.scope.subquery) fail('a subquery (PostgreSQL allows none in generated columns and CHECK constraints)');
    return this.scope.subquery(ast);
  }

  /** Brings operands to one type the way MySQL does for IF/CASE/COALESCE (numbers widen, anything with text becomes text). */
  unify(values: Translated[]): { values: Translated[]; type: SqlType } {
    const present = values.filter((v) => v.type.kind !== 'null');
    if (present.length === 0) return { values, type: NULL_TYPE };
    const kinds = new Set(present.map((v) => v.type.kind));
    if (kinds.size === 1) {
      const kind = present[0]!.type.kind;
      if (kind === 'decimal') {
        const scales = present.map((v) => v.type.scale);
        if (!scales.every((s) => s !== undefined)) return { values, type: { kind } };
        const scale = Math.max(...(scales as number[]));
        const widened = values.map((v) => (v.type.kind === 'null' || v.type.scale === scale ? v : { sql: `round(${v.sql}, ${scale})`, type: { kind, scale } }));
        return { values: widened, type: { kind, scale } };
      }
      const fsps = present.map((v) => v.type.fsp ?? 0);
      return { values, type: kind === 'datetime' || kind === 'timestamptz' ? { kind, fsp: Math.max(...fsps) } : { kind } };
    }
    if (kinds.has('text')) return { values: values.map((v) => (v.type.kind === 'null' ? v : this.asText(v))), type: TEXT };
    if ([...kinds].every((k) => k === 'int' || k === 'decimal' || k === 'float' || k === 'bool')) {
      const numbers = values.map((v) => this.asNumber(v));
      if (kinds.has('float')) return { values: numbers, type: FLOAT };
      if (kinds.has('decimal')) {
        // MySQL gives the result the largest scale, and shows every member with it.
        const scale = Math.max(...numbers.map((v) => v.type.scale ?? 0));
        const widened = numbers.map((v) => (v.type.kind === 'null' || (v.type.kind === 'decimal' && v.type.scale === scale) ? v : { sql: `round((${v.sql})::numeric, ${scale})`, type: { kind: 'decimal' as const, scale } }));
        return { values: widened, type: { kind: 'decimal', scale } };
      }
      return { values: numbers, type: INT };
    }
    if ([...kinds].every((k) => k === 'date' || k === 'datetime')) {
      return { values: values.map((v) => (v.type.kind === 'date' ? { sql: `(${v.sql})::timestamp`, type: v.type } : v)), type: { kind: 'datetime', fsp: Math.max(...present.map((v) => v.type.fsp ?? 0)) } };
    }
    return fail(`values of different types (${[...kinds].join(', ')}) in one result`);
  }

  private comparable(left: Translated, right: Translated): [Translated, Translated] {
    // A MySQL comparison result counts as 1/0: compared with a number, PostgreSQL needs it as one.
    if (left.type.kind === 'bool' && right.type.kind !== 'bool' && right.type.kind !== 'null') return [this.asNumber(left), right];
    if (right.type.kind === 'bool' && left.type.kind !== 'bool' && left.type.kind !== 'null') return [left, this.asNumber(right)];
    return [left, right];
  }

  private binary(node: AstNode): Translated {
    const op = String(node.operator).toUpperCase();
    const left = node.left as AstNode;
    const right = node.right as AstNode;
    if (LOGICAL.has(op)) {
      const l = this.cond(left);
      const r = this.cond(right);
      if (op === 'XOR') return { sql: `(${l} <> ${r})`, type: BOOL };
      return { sql: `(${l} ${op === 'AND' || op === '&&' ? 'AND' : 'OR'} ${r})`, type: BOOL };
    }
    const comparison = COMPARISON.get(op);
    if (comparison) {
      const [l, r] = this.comparable(this.value(left), this.value(right));
      return { sql: `(${l.sql} ${comparison} ${r.sql})`, type: BOOL };
    }
    switch (op) {
      case '+':
      case '-':
        if (left.type === 'interval' || right.type === 'interval') return this.dateArithmetic(op, left, right);
        return this.arithmetic(op, this.num(left), this.num(right));
      case '*':
        return this.arithmetic(op, this.num(left), this.num(right));
      case '/': {
        const l = this.num(left);
        const r = this.num(right);
        if (l.type.kind === 'float' || r.type.kind === 'float') return { sql: `(${l.sql}::float8 / NULLIF(${r.sql}, 0))`, type: FLOAT };
        // MySQL divides decimals to whole 9-digit words past the dividend's scale + 4
        // (div_precision_increment), truncating, and rounds to that scale + 4 only where the
        // value is shown or stored: 5/3 shows 1.6667, but is 1.666667 in a DECIMAL(20,6).
        const scale = Math.min(30, (l.type.kind === 'decimal' ? l.type.scale ?? 0 : 0) + 4);
        const digits = Math.min(36, Math.ceil(scale / 9) * 9);
        return { sql: `trunc(${l.sql}::numeric / NULLIF(${r.sql}, 0), ${digits})`, type: { kind: 'decimal', scale, unrounded: true } };
      }
      case 'DIV': {
        const l = this.num(left);
        const r = this.num(right);
        if (l.type.kind === 'int' && r.type.kind === 'int') return { sql: `(${l.sql} / NULLIF(${r.sql}, 0))`, type: INT };
        return { sql: `trunc(${l.sql}::numeric / NULLIF(${r.sql}, 0)::numeric)::bigint`, type: INT };
      }
      case '%':
      case 'MOD':
        return this.modulo(this.num(left), this.num(right));
      case 'LIKE':
      case 'NOT LIKE': {
        const escape = right.escape?.value ? literalString(right.escape.value as AstNode) : null;
        const pattern = this.text({ ...right, escape: undefined });
        const suffix = escape === null ? '' : ` ESCAPE ${literalPg(escape)}`;
        return { sql: `(${this.text(left).sql} ${op} ${pattern.sql}${suffix})`, type: BOOL };
      }
      case 'REGEXP':
      case 'RLIKE':
      case 'NOT REGEXP':
      case 'NOT RLIKE':
        return { sql: `(${this.text(left).sql} ${op.startsWith('NOT') ? '!~' : '~'} ${this.text(right).sql})`, type: BOOL };
      case 'IN':
      case 'NOT IN': {
        const l = this.value(left);
        const items = (right.type === 'expr_list' ? (right.value as AstNode[]) : [right]).map((item) =>
          item.ast ? this.subquery(item.ast as AstNode) : this.comparable(l, this.value(item))[1],
        );
        const lhs = items.some((i) => i.type.kind !== 'bool') ? this.comparable(l, items.find((i) => i.type.kind !== 'null') ?? l)[0] : l;
        return { sql: `(${lhs.sql} ${op} (${items.map((i) => i.sql).join(', ')}))`, type: BOOL };
      }
      case 'BETWEEN':
      case 'NOT BETWEEN': {
        const [low, high] = (right.value ?? []) as AstNode[];
        if (!low || !high) fail('a BETWEEN without two bounds');
        const v = this.value(left);
        return { sql: `(${v.sql} ${op} ${this.comparable(v, this.value(low))[1].sql} AND ${this.comparable(v, this.value(high))[1].sql})`, type: BOOL };
      }
      case 'IS':
      case 'IS NOT': {
        if (right.type === 'null') return { sql: `(${this.value(left).sql} ${op} NULL)`, type: BOOL };
        if (right.type === 'bool') return { sql: `(${this.cond(left)} ${op} ${right.value ? 'TRUE' : 'FALSE'})`, type: BOOL };
        return fail(`IS with ${String(right.type)}`);
      }
      case '->':
        return this.jsonExtract(left, right, false);
      case '->>':
        return this.jsonExtract(left, right, true);
      default:
        return fail(`the operator ${op} is not translated`);
    }
  }

  private arithmetic(op: string, l: Translated, r: Translated): Translated {
    let type: SqlType;
    if (l.type.kind === 'float' || r.type.kind === 'float') type = FLOAT;
    else if (l.type.kind === 'decimal' || r.type.kind === 'decimal') {
      const ls = l.type.scale ?? 0;
      const rs = r.type.scale ?? 0;
      type = { kind: 'decimal', scale: op === '*' ? ls + rs : Math.max(ls, rs), ...(l.type.unrounded || r.type.unrounded ? { unrounded: true } : {}) };
    } else if (l.type.kind === 'null' || r.type.kind === 'null') type = NULL_TYPE;
    else type = INT;
    return { sql: `(${l.sql} ${op} ${r.sql})`, type };
  }

  private modulo(l: Translated, r: Translated): Translated {
    if (l.type.kind === 'float' || r.type.kind === 'float') fail('MOD of floating-point values');
    if (l.type.kind === 'int' && r.type.kind === 'int') return { sql: `mod(${l.sql}, NULLIF(${r.sql}, 0))`, type: INT };
    return { sql: `mod(${l.sql}::numeric, NULLIF(${r.sql}, 0)::numeric)`, type: { kind: 'decimal', scale: Math.max(l.type.scale ?? 0, r.type.scale ?? 0) } };
  }

  private interval(node: AstNode): string {
    const unit = String(node.unit ?? '').toLowerCase();
    const units: Record<string, string> = { microsecond: 'microseconds', second: 'seconds', minute: 'minutes', hour: 'hours', day: 'days', week: 'weeks', month: 'months', quarter: 'months', year: 'years' };
    const pgUnit = units[unit];
    if (!pgUnit) fail(`INTERVAL … ${unit.toUpperCase()} is not translated`);
    const amount = this.num(node.expr as AstNode);
    const factor = unit === 'quarter' ? ' * 3' : '';
    return `(${amount.sql}${factor} * interval '1 ${pgUnit}')`;
  }

  private dateArithmetic(op: string, left: AstNode, right: AstNode): Translated {
    const intervalNode = left.type === 'interval' ? left : right;
    const dateNode = left.type === 'interval' ? right : left;
    if (op === '-' && left.type === 'interval') fail('INTERVAL minus a date');
    return this.shiftDate(this.value(dateNode), intervalNode, op);
  }

  private shiftDate(date: Translated, intervalNode: AstNode, op: string): Translated {
    const unit = String(intervalNode.unit ?? '').toLowerCase();
    const interval = this.interval(intervalNode);
    if (date.type.kind === 'date') {
      // MySQL keeps a DATE a DATE when whole days (or more) are added.
      const wholeDays = ['day', 'week', 'month', 'quarter', 'year'].includes(unit);
      return wholeDays ? { sql: `(${date.sql} ${op} ${interval})::date`, type: { kind: 'date' } } : { sql: `(${date.sql}::timestamp ${op} ${interval})`, type: { kind: 'datetime', fsp: 6 } };
    }
    if (date.type.kind === 'datetime' || date.type.kind === 'timestamptz') {
      if (date.type.kind === 'timestamptz' && this.options.immutable) fail('arithmetic on a TIMESTAMP depends on the session time zone in PostgreSQL');
      return { sql: `(${date.sql} ${op} ${interval})`, type: date.type };
    }
    return fail(`date arithmetic on a ${date.type.kind} value`);
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

  private jsonExtract(document: AstNode, path: AstNode, unquote: boolean): Translated {
    const text = literalString(path);
    if (text === null) fail('a JSON path that is not a literal string');
    const doc = this.jsonDocument(document);
    return unquote ? { sql: `(${doc.sql} #>> ${translateJsonPath(text)})`, type: TEXT } : { sql: `(${doc.sql} #> ${translateJsonPath(text)})`, type: { kind: 'json' } };
  }

  private extract(field: string, v: Translated): Translated {
    const f = field.toLowerCase();
    const fields: Record<string, string> = { year: 'year', month: 'month', day: 'day', hour: 'hour', minute: 'minute', quarter: 'quarter', week: 'week' };
    if (f === 'second') return { sql: `floor(extract(second from ${this.timestampOf(v)}))::int`, type: INT };
    if (f === 'microsecond') return { sql: `(extract(microseconds from ${this.timestampOf(v)})::bigint % 1000000)::int`, type: INT };
    const pgField = fields[f];
    if (!pgField) fail(`EXTRACT(${field.toUpperCase()} …) is not translated`);
    if (f === 'week') fail('WEEK numbering differs between MySQL and PostgreSQL');
    return { sql: `extract(${pgField} from ${this.timestampOf(v)})::int`, type: INT };
  }

  private timestampOf(v: Translated): string {
    if (v.type.kind === 'date' || v.type.kind === 'datetime') return `(${v.sql})::timestamp`;
    if (v.type.kind === 'timestamptz') {
      if (this.options.immutable) fail('a TIMESTAMP column taken apart depends on the session time zone in PostgreSQL, which a generated column or CHECK cannot');
      return `(${v.sql})`;
    }
    return fail(`a date function on a ${v.type.kind} value`);
  }

  private caseExpression(node: AstNode): Translated {
    const args = (node.args ?? []) as AstNode[];
    const subject = node.expr ? this.value(node.expr as AstNode) : null;
    const whens = args.filter((a) => a.type === 'when');
    const otherwise = args.find((a) => a.type === 'else');
    const results = this.unify([...whens.map((w) => this.value(w.result as AstNode)), ...(otherwise ? [this.value(otherwise.result as AstNode)] : [])]);
    const parts = whens.map((w, i) => {
      const condition = subject ? `${this.comparable(subject, this.value(w.cond as AstNode)).map((x) => x.sql).join(' = ')}` : this.cond(w.cond as AstNode);
      return `WHEN ${condition} THEN ${results.values[i]!.sql}`;
    });
    const elseSql = otherwise ? ` ELSE ${results.values[whens.length]!.sql}` : '';
    return { sql: `CASE ${parts.join(' ')}${elseSql} END`, type: results.type };
  }

  private cast(node: AstNode): Translated {
    const target = ((node.target ?? []) as AstNode[])[0];
    if (!target) fail('a CAST without a type');
    const dataType = String(target.dataType ?? '');
    const mapped = castTarget(dataType, target.length as number | undefined, target.scale as number | undefined);
    if (!mapped) fail(`CAST(… AS ${dataType}) is not translated`);
    const v = this.value(node.expr as AstNode);
    if (mapped.type.kind === 'text') {
      const text = this.asText(v);
      return target.length ? { sql: `left(${text.sql}, ${Number(target.length)})`, type: TEXT } : text;
    }
    if (mapped.type.kind === 'int' && v.type.kind === 'float') {
      // MySQL rounds a double to the nearest integer, halves away from zero.
      return { sql: `round(${v.sql})::bigint`, type: INT };
    }
    if (mapped.type.kind === 'int' || mapped.type.kind === 'decimal' || mapped.type.kind === 'float') {
      const n = v.type.kind === 'text' ? v : this.asNumber(v);
      return { sql: `(${n.sql})::${mapped.pg}`, type: mapped.type };
    }
    if ((mapped.type.kind === 'date' || mapped.type.kind === 'datetime') && v.type.kind === 'timestamptz' && this.options.immutable) {
      fail('a TIMESTAMP converted to a date depends on the session time zone in PostgreSQL');
    }
    return { sql: `(${v.sql})::${mapped.pg}`, type: mapped.type };
  }

  private aggregate(node: AstNode): Translated {
    if (!this.options.aggregates) fail(`the aggregate ${String(node.name)} is not allowed here`);
    if (node.over) fail('window functions are not translated');
    const name = String(node.name).toUpperCase();
    const args = (node.args ?? {}) as AstNode;
    const distinct = args.distinct ? 'DISTINCT ' : '';
    const expr = args.expr as AstNode | undefined;
    if (name === 'COUNT') {
      if (!expr || expr.type === 'star') return { sql: 'count(*)', type: INT };
      if (expr.type === 'expr_list') fail('COUNT over several expressions');
      return { sql: `count(${distinct}${this.value(expr).sql})`, type: INT };
    }
    if (!expr) fail(`${name} without an argument`);
    switch (name) {
      case 'SUM': {
        const v = this.num(expr);
        return { sql: `sum(${distinct}${v.sql})`, type: v.type.kind === 'float' ? FLOAT : { kind: 'decimal', scale: v.type.scale ?? 0 } };
      }
      case 'AVG': {
        const v = this.num(expr);
        if (v.type.kind === 'float') return { sql: `avg(${distinct}${v.sql})`, type: FLOAT };
        // MySQL: the argument's scale plus div_precision_increment (4).
        const scale = Math.min(30, (v.type.scale ?? 0) + 4);
        return { sql: `round(avg(${distinct}${v.sql}), ${scale})`, type: { kind: 'decimal', scale } };
      }
      case 'MIN':
      case 'MAX': {
        const v = this.value(expr);
        const operand = v.type.kind === 'bool' ? this.asNumber(v) : v;
        return { sql: `${name.toLowerCase()}(${distinct}${operand.sql})`, type: operand.type };
      }
      case 'GROUP_CONCAT':
        return this.groupConcat(args);
      default:
        return fail(`the aggregate ${name} is not translated`);
    }
  }

  private groupConcat(args: AstNode): Translated {
    const expr = args.expr as AstNode;
    const items = expr.type === 'expr_list' ? (expr.value as AstNode[]) : [expr];
    const value = this.concatenate(items.map((i) => this.text(i)));
    const separatorNode = args.separator?.value as AstNode | undefined;
    const separator = separatorNode ? literalString(separatorNode) : ',';
    if (separator === null) fail('a GROUP_CONCAT separator that is not a literal string');
    const orderBy = (args.orderby ?? []) as AstNode[];
    let order = '';
    if (orderBy.length > 0) {
      const keys = orderBy.map((o) => `${this.value(o.expr as AstNode).sql}${String(o.type ?? '').toUpperCase() === 'DESC' ? ' DESC' : ''}`);
      order = ` ORDER BY ${keys.join(', ')}`;
      if (args.distinct) {
        // PostgreSQL orders a DISTINCT aggregate only by its argument. When the argument starts
        // with the sort key (CONCAT(key, …), as in Sakila's actor_info), ordering by the whole
        // argument keeps MySQL's order; verification compares the result either way.
        const first = items.length === 1 && items[0]!.type === 'function' && functionName(items[0]!) === 'concat' ? functionArgs(items[0]!)[0] : items[0];
        const keySql = orderBy.length === 1 && first ? this.value(first).sql : null;
        if (keySql === null || keySql !== this.value(orderBy[0]!.expr as AstNode).sql) {
          fail('GROUP_CONCAT(DISTINCT …) ordered by something other than its argument (PostgreSQL cannot order a DISTINCT aggregate so)');
        }
        order = ` ORDER BY ${value.sql}${String(orderBy[0]!.type ?? '').toUpperCase() === 'DESC' ? ' DESC' : ''}`;
      }
    } else {
      // MySQL leaves the order of an unordered GROUP_CONCAT to the plan: verification compares
      // its items as a set.
      this.options.onUnorderedList?.(separator);
    }
    return { sql: `string_agg(${args.distinct ? 'DISTINCT ' : ''}${value.sql}, ${literalPg(separator)}${order})`, type: TEXT };
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

  private func(node: AstNode): Translated {
    if (node.over) fail('window functions are not translated');
    const name = functionName(node);
    const args = functionArgs(node);
    const arity = (min: number, max = min): void => {
      if (args.length < min || args.length > max) fail(`${name.toUpperCase()} with ${args.length} arguments`);
    };
    const arg = (i: number): AstNode => args[i]!;
    switch (name) {
      case 'concat':
        return this.concatenate(args.map((a) => this.text(a)));
      case 'concat_ws': {
        arity(2, Infinity);
        const separator = this.text(arg(0));
        const parts = args.slice(1).map((a) => this.text(a));
        // NULL arguments are skipped; the result is NULL only when the separator is.
        const joined = parts.map((p) => `coalesce(${separator.sql}::text || ${p.sql}, '')`).join(' || ');
        const body = `substr(${joined}, char_length(${separator.sql}::text) + 1)`;
        if (separator.type.literal && separator.type.kind === 'text') return { sql: body, type: TEXT };
        return { sql: `CASE WHEN ${separator.sql} IS NULL THEN NULL ELSE ${body} END`, type: TEXT };
      }
      case 'if': {
        arity(3);
        const r = this.unify([this.value(arg(1)), this.value(arg(2))]);
        return { sql: `CASE WHEN ${this.cond(arg(0))} THEN ${r.values[0]!.sql} ELSE ${r.values[1]!.sql} END`, type: r.type };
      }
      case 'ifnull':
      case 'coalesce': {
        arity(name === 'ifnull' ? 2 : 1, name === 'ifnull' ? 2 : Infinity);
        const r = this.unify(args.map((a) => this.value(a)));
        return { sql: `COALESCE(${r.values.map((v) => v.sql).join(', ')})`, type: r.type };
      }
      case 'nullif': {
        arity(2);
        const [a, b] = this.comparable(this.value(arg(0)), this.value(arg(1)));
        return { sql: `NULLIF(${a.sql}, ${b.sql})`, type: a.type };
      }
      case 'greatest':
      case 'least': {
        arity(2, Infinity);
        const r = this.unify(args.map((a) => this.value(a)));
        // MySQL: NULL when any argument is NULL; PostgreSQL ignores NULLs.
        const anyNull = r.values.map((v) => `${v.sql} IS NULL`).join(' OR ');
        return { sql: `CASE WHEN ${anyNull} THEN NULL ELSE ${name}(${r.values.map((v) => v.sql).join(', ')}) END`, type: r.type };
      }
      case 'char_length':
      case 'character_length':
        arity(1);
        return { sql: `char_length(${this.text(arg(0)).sql})`, type: INT };
      case 'length':
      case 'octet_length': {
        arity(1);
        const v = this.value(arg(0));
        // MySQL counts bytes in the value's character set; PostgreSQL's text is UTF-8.
        if (v.type.singleByte) return { sql: `char_length(${v.sql})`, type: INT };
        if (v.type.kind === 'bytea') return { sql: `octet_length(${v.sql})`, type: INT };
        return { sql: `octet_length(${this.asText(v).sql})`, type: INT };
      }
      case 'left':
      case 'right': {
        arity(2);
        const n = this.num(arg(1));
        const count = literalInteger(arg(1)) !== null && literalInteger(arg(1))! >= 0 ? n.sql : `greatest(${n.sql}, 0)`;
        return { sql: `${name}(${this.text(arg(0)).sql}, ${count})`, type: TEXT };
      }
      case 'substr':
      case 'substring':
      case 'mid': {
        arity(2, 3);
        const position = literalInteger(arg(1));
        if (position === null || position < 1) fail(`${name.toUpperCase()} from a position that is not a positive literal (MySQL counts 0 and negative positions differently)`);
        const text = this.text(arg(0)).sql;
        if (args.length === 2) return { sql: `substr(${text}, ${position})`, type: TEXT };
        const length = this.num(arg(2));
        const len = literalInteger(arg(2)) !== null && literalInteger(arg(2))! >= 0 ? length.sql : `greatest(${length.sql}, 0)`;
        return { sql: `substr(${text}, ${position}, ${len})`, type: TEXT };
      }
      case 'upper':
      case 'ucase':
        arity(1);
        return { sql: `upper(${this.text(arg(0)).sql})`, type: TEXT };
      case 'lower':
      case 'lcase':
        arity(1);
        return { sql: `lower(${this.text(arg(0)).sql})`, type: TEXT };
      case 'trim':
        return this.trim(args);
      case 'ltrim':
      case 'rtrim':
        arity(1);
        return { sql: `${name}(${this.text(arg(0)).sql}, ' ')`, type: TEXT };
      case 'replace':
        arity(3);
        return { sql: `replace(${this.text(arg(0)).sql}, ${this.text(arg(1)).sql}, ${this.text(arg(2)).sql})`, type: TEXT };
      case 'lpad':
      case 'rpad':
        arity(3);
        return { sql: `${name}(${this.text(arg(0)).sql}, ${this.num(arg(1)).sql}, ${this.text(arg(2)).sql})`, type: TEXT };
      case 'repeat':
        arity(2);
        return { sql: `repeat(${this.text(arg(0)).sql}, ${this.num(arg(1)).sql})`, type: TEXT };
      case 'reverse':
        arity(1);
        return { sql: `reverse(${this.text(arg(0)).sql})`, type: TEXT };
      case 'locate':
        arity(2);
        return { sql: `strpos(${this.text(arg(1)).sql}, ${this.text(arg(0)).sql})`, type: INT };
      case 'instr':
        arity(2);
        return { sql: `strpos(${this.text(arg(0)).sql}, ${this.text(arg(1)).sql})`, type: INT };
      case 'md5':
        arity(1);
        return { sql: `md5(${this.text(arg(0)).sql})`, type: TEXT };
      case 'abs':
      case 'sign': {
        arity(1);
        const v = this.num(arg(0));
        return { sql: `${name}(${v.sql})`, type: name === 'sign' ? INT : v.type };
      }
      case 'ceil':
      case 'ceiling':
      case 'floor': {
        arity(1);
        const v = this.num(arg(0));
        return { sql: `${name === 'floor' ? 'floor' : 'ceil'}(${v.sql})`, type: v.type.kind === 'float' ? FLOAT : INT };
      }
      case 'round':
      case 'truncate': {
        arity(name === 'round' ? 1 : 2, 2);
        const v = this.num(arg(0));
        const digits = args.length > 1 ? literalInteger(arg(1)) : 0;
        if (digits === null) fail(`${name.toUpperCase()} to a number of digits that is not a literal`);
        const fn = name === 'round' ? 'round' : 'trunc';
        if (v.type.kind === 'float') {
          if (name === 'round') fail('ROUND of a floating-point value (MySQL rounds doubles half to even, PostgreSQL numeric half away from zero)');
          return { sql: `trunc(${v.sql}::numeric, ${digits})::float8`, type: FLOAT };
        }
        if (v.type.kind === 'int' && digits >= 0) return v;
        return { sql: `${fn}(${v.sql}::numeric, ${digits})`, type: { kind: 'decimal', scale: Math.max(0, digits) } };
      }
      case 'mod':
        arity(2);
        return this.modulo(this.num(arg(0)), this.num(arg(1)));
      case 'year':
      case 'month':
      case 'hour':
      case 'minute':
      case 'second':
      case 'quarter':
      case 'microsecond':
        arity(1);
        return this.extract(name, this.value(arg(0)));
      case 'day':
      case 'dayofmonth':
        arity(1);
        return this.extract('day', this.value(arg(0)));
      case 'dayofweek':
        arity(1);
        return { sql: `(extract(dow from ${this.timestampOf(this.value(arg(0)))})::int + 1)`, type: INT };
      case 'weekday':
        arity(1);
        return { sql: `(extract(isodow from ${this.timestampOf(this.value(arg(0)))})::int - 1)`, type: INT };
      case 'dayofyear':
        arity(1);
        return { sql: `extract(doy from ${this.timestampOf(this.value(arg(0)))})::int`, type: INT };
      case 'date': {
        arity(1);
        const v = this.value(arg(0));
        if (v.type.kind === 'date') return v;
        return { sql: `(${this.timestampOf(v)})::date`, type: { kind: 'date' } };
      }
      case 'date_format': {
        arity(2);
        const format = literalString(arg(1));
        if (format === null) fail('DATE_FORMAT with a format that is not a literal string');
        const v = this.value(arg(0));
        const ts = this.timestampOf(v);
        const sql = translateDateFormat(ts, format);
        // A format without specifiers still gives NULL for a NULL date.
        return { sql: /extract\(/.test(sql) ? sql : `CASE WHEN ${v.sql} IS NULL THEN NULL ELSE ${sql} END`, type: TEXT };
      }
      case 'datediff':
        arity(2);
        return { sql: `((${this.timestampOf(this.value(arg(0)))})::date - (${this.timestampOf(this.value(arg(1)))})::date)`, type: INT };
      case 'date_add':
      case 'adddate':
      case 'date_sub':
      case 'subdate': {
        arity(2);
        if (arg(1).type !== 'interval') fail(`${name.toUpperCase()} with a number of days instead of an INTERVAL`);
        return this.shiftDate(this.value(arg(0)), arg(1), name === 'date_add' || name === 'adddate' ? '+' : '-');
      }
      case 'now':
      case 'current_timestamp':
      case 'localtimestamp':
      case 'localtime':
        if (this.options.immutable) fail(`${name.toUpperCase()}() changes over time; PostgreSQL allows it in no generated column or CHECK`);
        return { sql: 'LOCALTIMESTAMP(0)', type: { kind: 'datetime', fsp: 0 } };
      case 'curdate':
      case 'current_date':
        if (this.options.immutable) fail(`${name.toUpperCase()}() changes over time; PostgreSQL allows it in no generated column or CHECK`);
        return { sql: 'CURRENT_DATE', type: { kind: 'date' } };
      case 'json_extract':
        arity(2);
        return this.jsonExtract(arg(0), arg(1), false);
      case 'json_unquote': {
        arity(1);
        const inner = arg(0);
        if (inner.type === 'function' && functionName(inner) === 'json_extract' && functionArgs(inner).length === 2) {
          return this.jsonExtract(functionArgs(inner)[0]!, functionArgs(inner)[1]!, true);
        }
        const doc = this.value(inner);
        if (doc.type.kind !== 'json') fail('JSON_UNQUOTE of a value that is not JSON');
        return { sql: `(${doc.sql} #>> '{}')`, type: TEXT };
      }
      case 'convert': {
        // CONVERT(x USING charset): PostgreSQL text has one character set.
        const first = arg(0);
        if (args.length === 1 && first && /^USING /i.test(String(first.suffix ?? ''))) {
          const { suffix: _suffix, ...rest } = first;
          return this.text(rest);
        }
        return fail('CONVERT(…, type) is not translated');
      }
      case 'exists': {
        const inner = arg(0);
        if (!inner?.ast) fail('EXISTS without a subquery');
        return { sql: `EXISTS ${this.subquery(inner.ast as AstNode).sql}`, type: BOOL };
      }
      default:
        return fail(`the function ${name.toUpperCase()}() is not translated`);
    }
  }

  private trim(args: AstNode[]): Translated {
    // trim(x) or trim(BOTH|LEADING|TRAILING [remstr] FROM x), as node-sql-parser lists it.
    if (args.length === 1) return { sql: `btrim(${this.text(args[0]!).sql}, ' ')`, type: TEXT };
    const words = args.filter((a) => a.type === 'origin').map((a) => String(a.value).toLowerCase());
    const values = args.filter((a) => a.type !== 'origin');
    const mode = words.find((w) => w === 'both' || w === 'leading' || w === 'trailing') ?? 'both';
    const subject = values[values.length - 1];
    const remove = values.length > 1 ? literalString(values[0]) : ' ';
    if (!subject || remove === null) fail('TRIM with a removal string that is not a literal');
    // MySQL removes the whole string repeatedly; PostgreSQL removes any of its characters: the
    // same only for one character.
    if ([...remove].length !== 1) fail('TRIM of a string longer than one character');
    const fn = mode === 'leading' ? 'ltrim' : mode === 'trailing' ? 'rtrim' : 'btrim';
    return { sql: `${fn}(${this.text(subject).sql}, ${literalPg(remove)})`, type: TEXT };
  }
}
