import { literalPg } from '../../dialect/postgres/quote.js';
import { fail, literalString } from './ast-helpers.js';
import type { Translated, Translator } from './expression-types.js';
import type { AstNode } from './mysql-parse.js';
import { BOOL, FLOAT, INT, NULL_TYPE, type SqlType } from './sql-types.js';
import { shiftDate } from './translate-temporal.js';

/** MySQL's binary operators (logical, comparison, LIKE/REGEXP, IN, BETWEEN, arithmetic, JSON arrows) with MySQL's meaning. */
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

export function translateBinary(t: Translator, node: AstNode): Translated {
  const op = String(node.operator).toUpperCase();
  const left = node.left as AstNode;
  const right = node.right as AstNode;
  if (LOGICAL.has(op)) {
    const l = t.cond(left);
    const r = t.cond(right);
    if (op === 'XOR') return { sql: `(${l} <> ${r})`, type: BOOL };
    return { sql: `(${l} ${op === 'AND' || op === '&&' ? 'AND' : 'OR'} ${r})`, type: BOOL };
  }
  const comparison = COMPARISON.get(op);
  if (comparison) {
    const [l, r] = t.comparable(t.value(left), t.value(right));
    return { sql: `(${l.sql} ${comparison} ${r.sql})`, type: BOOL };
  }
  switch (op) {
    case '+':
    case '-':
      if (left.type === 'interval' || right.type === 'interval') return dateArithmetic(t, op, left, right);
      return arithmetic(t, op, t.num(left), t.num(right));
    case '*':
      return arithmetic(t, op, t.num(left), t.num(right));
    case '/': {
      const l = t.num(left);
      const r = t.num(right);
      if (l.type.kind === 'float' || r.type.kind === 'float')
        return { sql: `(${l.sql}::float8 / NULLIF(${r.sql}, 0))`, type: FLOAT };
      // MySQL divides decimals to whole 9-digit words past the dividend's scale + 4
      // (div_precision_increment), truncating, and rounds to that scale + 4 only where the
      // value is shown or stored: 5/3 shows 1.6667, but is 1.666667 in a DECIMAL(20,6).
      const scale = Math.min(30, (l.type.kind === 'decimal' ? (l.type.scale ?? 0) : 0) + 4);
      const digits = Math.min(36, Math.ceil(scale / 9) * 9);
      return {
        sql: `trunc(${l.sql}::numeric / NULLIF(${r.sql}, 0), ${digits})`,
        type: { kind: 'decimal', scale, unrounded: true },
      };
    }
    case 'DIV': {
      const l = t.num(left);
      const r = t.num(right);
      if (l.type.kind === 'int' && r.type.kind === 'int') return { sql: `(${l.sql} / NULLIF(${r.sql}, 0))`, type: INT };
      return { sql: `trunc(${l.sql}::numeric / NULLIF(${r.sql}, 0)::numeric)::bigint`, type: INT };
    }
    case '%':
    case 'MOD':
      return t.modulo(t.num(left), t.num(right));
    case 'LIKE':
    case 'NOT LIKE': {
      const escapeChar = right.escape?.value ? literalString(right.escape.value as AstNode) : null;
      const pattern = t.text({ ...right, escape: undefined });
      const suffix = escapeChar === null ? '' : ` ESCAPE ${literalPg(escapeChar)}`;
      return { sql: `(${t.text(left).sql} ${op} ${pattern.sql}${suffix})`, type: BOOL };
    }
    case 'REGEXP':
    case 'RLIKE':
    case 'NOT REGEXP':
    case 'NOT RLIKE':
      return { sql: `(${t.text(left).sql} ${op.startsWith('NOT') ? '!~' : '~'} ${t.text(right).sql})`, type: BOOL };
    case 'IN':
    case 'NOT IN': {
      const l = t.value(left);
      const items = (right.type === 'expr_list' ? (right.value as AstNode[]) : [right]).map((item) =>
        item.ast ? t.subquery(item.ast as AstNode) : t.comparable(l, t.value(item))[1],
      );
      const lhs = items.some((i) => i.type.kind !== 'bool')
        ? t.comparable(l, items.find((i) => i.type.kind !== 'null') ?? l)[0]
        : l;
      return { sql: `(${lhs.sql} ${op} (${items.map((i) => i.sql).join(', ')}))`, type: BOOL };
    }
    case 'BETWEEN':
    case 'NOT BETWEEN': {
      const [low, high] = (right.value ?? []) as AstNode[];
      if (!low || !high) fail('a BETWEEN without two bounds');
      const v = t.value(left);
      return {
        sql: `(${v.sql} ${op} ${t.comparable(v, t.value(low))[1].sql} AND ${t.comparable(v, t.value(high))[1].sql})`,
        type: BOOL,
      };
    }
    case 'IS':
    case 'IS NOT': {
      if (right.type === 'null') return { sql: `(${t.value(left).sql} ${op} NULL)`, type: BOOL };
      if (right.type === 'bool')
        return { sql: `(${t.cond(left)} ${op} ${right.value ? 'TRUE' : 'FALSE'})`, type: BOOL };
      return fail(`IS with ${String(right.type)}`);
    }
    case '<=>': {
      // The stored-code reader spells MySQL's NULL-safe equality this way (the SQL parser lacks it).
      const [l, r] = t.comparable(t.value(left), t.value(right));
      return { sql: `(${l.sql} IS NOT DISTINCT FROM ${r.sql})`, type: BOOL };
    }
    case '->':
      return t.jsonExtract(left, right, false);
    case '->>':
      return t.jsonExtract(left, right, true);
    default:
      return fail(`the operator ${op} is not translated`);
  }
}

function arithmetic(_t: Translator, op: string, l: Translated, r: Translated): Translated {
  let type: SqlType;
  if (l.type.kind === 'float' || r.type.kind === 'float') type = FLOAT;
  else if (l.type.kind === 'decimal' || r.type.kind === 'decimal') {
    const ls = l.type.scale ?? 0;
    const rs = r.type.scale ?? 0;
    type = {
      kind: 'decimal',
      scale: op === '*' ? ls + rs : Math.max(ls, rs),
      ...(l.type.unrounded || r.type.unrounded ? { unrounded: true } : {}),
    };
  } else if (l.type.kind === 'null' || r.type.kind === 'null') type = NULL_TYPE;
  else type = INT;
  return { sql: `(${l.sql} ${op} ${r.sql})`, type };
}

function dateArithmetic(t: Translator, op: string, left: AstNode, right: AstNode): Translated {
  const intervalNode = left.type === 'interval' ? left : right;
  const dateNode = left.type === 'interval' ? right : left;
  if (op === '-' && left.type === 'interval') fail('INTERVAL minus a date');
  return shiftDate(t, t.value(dateNode), intervalNode, op);
}
