import nodeSqlParser from 'node-sql-parser';

/**
 * A node of node-sql-parser's AST. Its published types are looser than the trees it builds,
 * so the translator reads nodes through this one loose type and checks each shape it uses.
 */
// biome-ignore lint/suspicious/noExplicitAny: node-sql-parser's AST is untyped; each shape is checked where it is read
export type AstNode = Record<string, any>;

/** A MySQL expression or statement my2pg cannot turn into PostgreSQL; the message says why. */
export class UntranslatableError extends Error {
  override readonly name = 'UntranslatableError';
}

interface Token {
  kind: 'space' | 'comment' | 'string' | 'quoted' | 'word' | 'number' | 'punct';
  text: string;
}

/** Splits MySQL SQL text into tokens: strings, `quoted` names and comments are kept whole. */
function tokenizeMysql(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i]!;
    const start = i;
    if (/\s/.test(ch)) {
      while (i < n && /\s/.test(sql[i]!)) i += 1;
      tokens.push({ kind: 'space', text: sql.slice(start, i) });
    } else if (ch === '#' || (ch === '-' && sql[i + 1] === '-' && /\s/.test(sql[i + 2] ?? ' '))) {
      while (i < n && sql[i] !== '\n') i += 1;
      tokens.push({ kind: 'comment', text: sql.slice(start, i) });
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      tokens.push({ kind: 'comment', text: sql.slice(start, i) });
    } else if (ch === "'" || ch === '"' || ch === '`') {
      i += 1;
      while (i < n) {
        if (sql[i] === '\\' && ch !== '`') i += 2;
        else if (sql[i] === ch && sql[i + 1] === ch) i += 2;
        else if (sql[i] === ch) {
          i += 1;
          break;
        } else i += 1;
      }
      tokens.push({ kind: ch === '`' ? 'quoted' : 'string', text: sql.slice(start, i) });
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9a-zA-Z_.]/.test(sql[i]!)) i += 1;
      tokens.push({ kind: 'number', text: sql.slice(start, i) });
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(ch)) {
      while (i < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i]!)) i += 1;
      tokens.push({ kind: 'word', text: sql.slice(start, i) });
    } else {
      i += 1;
      tokens.push({ kind: 'punct', text: ch });
    }
  }
  return tokens;
}

const FUNCTIONS_WITH_FROM = new Set(['trim', 'extract', 'substring', 'substr', 'position', 'overlay', 'mid']);

const CHARSET_INTRODUCER =
  /^_(utf8mb4|utf8mb3|utf8|latin1|ascii|binary|ucs2|utf16|utf16le|utf32|cp1250|cp1251|cp1252|latin2|gbk|big5|sjis|euckr|gb2312|koi8r|greek|hebrew)$/i;

/**
 * Rewrites the text MySQL and MariaDB store for views, generated columns and CHECKs into the
 * form node-sql-parser reads: charset introducers (`_utf8mb4'x'`) are dropped (PostgreSQL text
 * has one character set), and the left-nested parentheses MariaDB prints around join chains
 * (`from (((a join b on(…)) join c on(…)))`) are removed, which leaves the same joins in the
 * same order. A parenthesised join on the right of a JOIN is kept as it is.
 */
export function normalizeMysqlSql(sql: string): string {
  const tokens = tokenizeMysql(sql);
  const drop = new Set<number>();
  const next = (from: number): number => {
    let j = from;
    while (j < tokens.length && (tokens[j]!.kind === 'space' || tokens[j]!.kind === 'comment')) j += 1;
    return j;
  };
  const matching = (open: number): number => {
    let depth = 0;
    for (let j = open; j < tokens.length; j += 1) {
      const t = tokens[j]!;
      if (t.kind !== 'punct') continue;
      if (t.text === '(') depth += 1;
      else if (t.text === ')') {
        depth -= 1;
        if (depth === 0) return j;
      }
    }
    return -1;
  };
  /** At a table-reference position: removes the parentheses of a join group that starts there. */
  const flattenAt = (position: number): void => {
    const j = next(position);
    const token = tokens[j];
    if (token?.kind !== 'punct' || token.text !== '(') return;
    const inner = tokens[next(j + 1)];
    if (inner && inner.kind === 'word' && /^(select|with|values|table)$/i.test(inner.text)) return;
    const close = matching(j);
    if (close < 0) return;
    drop.add(j);
    drop.add(close);
    flattenAt(j + 1);
  };
  // The word before each open parenthesis: a FROM inside trim(… from x) or extract(… from x)
  // is not a FROM clause.
  const opened: string[] = [];
  let previousWord = '';
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i]!;
    if (t.kind === 'punct' && t.text === '(') opened.push(previousWord.toLowerCase());
    else if (t.kind === 'punct' && t.text === ')') opened.pop();
    if (t.kind === 'word' && CHARSET_INTRODUCER.test(t.text) && tokens[next(i + 1)]?.kind === 'string') {
      drop.add(i);
    } else if (
      t.kind === 'word' &&
      /^from$/i.test(t.text) &&
      !FUNCTIONS_WITH_FROM.has(opened[opened.length - 1] ?? '')
    ) {
      flattenAt(i + 1);
    }
    if (t.kind !== 'space' && t.kind !== 'comment') previousWord = t.kind === 'word' ? t.text : '';
  }
  return tokens.map((t, i) => (drop.has(i) ? (t.kind === 'punct' ? ' ' : '') : t.text)).join('');
}

const LOGICAL = new Map<string, number>([
  ['OR', 1],
  ['||', 1],
  ['XOR', 2],
  ['AND', 3],
  ['&&', 3],
]);

function isLogical(node: unknown): boolean {
  return (
    typeof node === 'object' &&
    node !== null &&
    (node as AstNode).type === 'binary_expr' &&
    LOGICAL.has(String((node as AstNode).operator).toUpperCase())
  );
}

/**
 * node-sql-parser gives AND, XOR and OR one precedence and groups to the right, so that
 * `a and b or c` comes out as `a and (b or c)`. MySQL binds AND tighter than XOR, XOR tighter
 * than OR, all left to right; MariaDB stores CHECK clauses without parentheses. Chains without
 * explicit parentheses are flattened in source order and grouped again by MySQL's rules.
 */
export function fixLogicalPrecedence(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fixLogicalPrecedence);
  if (typeof node !== 'object' || node === null) return node;
  const object = node as AstNode;
  if (isLogical(object)) {
    const operands: unknown[] = [];
    const operators: string[] = [];
    const flatten = (n: AstNode): void => {
      for (const [side, child] of [
        ['left', n.left],
        ['right', n.right],
      ] as const) {
        if (isLogical(child) && !(child as AstNode).parentheses) flatten(child as AstNode);
        else operands.push(fixLogicalPrecedence(child));
        if (side === 'left') operators.push(String(n.operator).toUpperCase());
      }
    };
    flatten(object);
    const build = (items: unknown[], ops: string[]): unknown => {
      if (items.length === 1) return items[0];
      // Split at the last operator of the lowest precedence: left-associative.
      let split = -1;
      let lowest = Infinity;
      ops.forEach((op, i) => {
        const p = LOGICAL.get(op)!;
        if (p <= lowest) {
          lowest = p;
          split = i;
        }
      });
      return {
        type: 'binary_expr',
        operator: ops[split],
        left: build(items.slice(0, split + 1), ops.slice(0, split)),
        right: build(items.slice(split + 1), ops.slice(split + 1)),
      };
    };
    const rebuilt = build(operands, operators) as AstNode;
    if (object.parentheses) rebuilt.parentheses = true;
    return rebuilt;
  }
  if (object.type === 'binary_expr' || object.type === 'unary_expr') {
    // The parser also binds XOR tighter than comparisons (`a > 1 XOR b` as `a > (1 XOR b)`):
    // an unparenthesised XOR under another operator cannot be read back as MySQL meant it.
    for (const child of [object.left, object.right, object.expr]) {
      if (
        isLogical(child) &&
        String((child as AstNode).operator).toUpperCase() === 'XOR' &&
        !(child as AstNode).parentheses
      ) {
        throw new UntranslatableError(
          'an XOR next to another operator without parentheses (the SQL parser groups it wrongly)',
        );
      }
    }
  }
  const out: AstNode = {};
  for (const [key, value] of Object.entries(object)) out[key] = fixLogicalPrecedence(value);
  return out;
}

const parser = new nodeSqlParser.Parser();

/** The statements of a MySQL text, as the parser reads them; a text it cannot read is untranslatable. */
function parseStatements(sql: string): AstNode[] {
  let ast: unknown;
  try {
    ast = parser.astify(normalizeMysqlSql(sql), { database: 'MySQL' });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? '';
    throw new UntranslatableError(`the SQL parser cannot read it (${message.slice(0, 160)})`);
  }
  return (Array.isArray(ast) ? ast : [ast]) as AstNode[];
}

function parseSelect(sql: string): AstNode {
  const statement = parseStatements(sql);
  if (statement.length !== 1 || statement[0]?.type !== 'select')
    throw new UntranslatableError('it is not one SELECT statement');
  return fixLogicalPrecedence(statement[0]) as AstNode;
}

/** Parses a SELECT as MySQL/MariaDB store it (a view definition). */
export function parseMysqlSelect(sql: string): AstNode {
  return parseSelect(sql);
}

/** Parses one MySQL expression (a generated column's or a CHECK's). */
export function parseMysqlExpression(sql: string): AstNode {
  const select = parseSelect(`SELECT ${sql}`);
  const columns = select.columns as AstNode[] | undefined;
  if (!Array.isArray(columns) || columns.length !== 1 || select.from)
    throw new UntranslatableError('it is not a single expression');
  return columns[0]!.expr as AstNode;
}

/**
 * The value of a MySQL string literal as node-sql-parser hands it over (escapes still in the
 * text): `''` and the backslash escapes undone, as MySQL reads them. `\%` and `\_` keep their
 * backslash, as in MySQL, so that LIKE patterns mean the same.
 */
export function unescapeMysqlString(raw: string, quote: "'" | '"' = "'"): string {
  let out = '';
  for (let i = 0; i < raw.length; i += 1) {
    const ch = raw[i]!;
    if (ch === quote && raw[i + 1] === quote) {
      out += quote;
      i += 1;
    } else if (ch === '\\' && i + 1 < raw.length) {
      const e = raw[i + 1]!;
      i += 1;
      const map: Record<string, string> = { '0': '\u0000', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\u001a' };
      if (e === '%' || e === '_') out += `\\${e}`;
      else out += map[e] ?? e;
    } else out += ch;
  }
  return out;
}

/** Parses one MySQL statement of stored code (SELECT, INSERT, UPDATE, DELETE) as it is written. */
export function parseMysqlStatement(sql: string): AstNode {
  const statements = parseStatements(sql);
  if (statements.length !== 1) throw new UntranslatableError('it is not one statement');
  return fixLogicalPrecedence(statements[0]) as AstNode;
}
