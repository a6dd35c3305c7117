import { literalPg } from '../../dialect/postgres/quote.js';
import { unescapeMysqlString, UntranslatableError, type AstNode } from './mysql-parse.js';

/** A column reference as MySQL wrote it. */
export interface ColumnReference {
  db: string | null;
  table: string | null;
  column: string;
}

/** Refuses the expression, saying why (the caller reports it). */
export function fail(reason: string): never {
  throw new UntranslatableError(reason);
}

/** The name of a function node, lower case. */
export function functionName(node: AstNode): string {
  const name = node.name;
  if (typeof name === 'string') return name.toLowerCase();
  const parts = (name?.name ?? []) as AstNode[];
  return parts
    .map((p) => String(p.value))
    .join('.')
    .toLowerCase();
}

export function functionArgs(node: AstNode): AstNode[] {
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
  return (
    node !== undefined &&
    ['single_quote_string', 'double_quote_string', 'natural_string', 'string'].includes(String(node.type))
  );
}

/** The text of a literal string argument, or null when the argument is not one. */
export function literalString(node: AstNode | undefined): string | null {
  if (!node || !isStringLiteral(node)) return null;
  return unescapeMysqlString(String(node.value ?? ''), node.type === 'double_quote_string' ? '"' : "'");
}

export function literalInteger(node: AstNode | undefined): number | null {
  if (!node) return null;
  if (node.type === 'number' && /^-?\d+$/.test(String(node.value))) return Number(node.value);
  if (
    node.type === 'unary_expr' &&
    node.operator === '-' &&
    node.expr?.type === 'number' &&
    /^\d+$/.test(String(node.expr.value))
  )
    return -Number(node.expr.value);
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
