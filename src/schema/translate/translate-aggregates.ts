import { literalPg } from '../../dialect/postgres/quote.js';
import { fail, functionArgs, functionName, literalString } from './ast-helpers.js';
import type { Translated, Translator } from './expression-types.js';
import type { AstNode } from './mysql-parse.js';
import { FLOAT, INT, TEXT } from './sql-types.js';

export function translateAggregate(t: Translator, node: AstNode): Translated {
  if (!t.options.aggregates) fail(`the aggregate ${String(node.name)} is not allowed here`);
  if (node.over) fail('window functions are not translated');
  const name = String(node.name).toUpperCase();
  const args = (node.args ?? {}) as AstNode;
  const distinct = args.distinct ? 'DISTINCT ' : '';
  const expr = args.expr as AstNode | undefined;
  if (name === 'COUNT') {
    if (!expr || expr.type === 'star') return { sql: 'count(*)', type: INT };
    if (expr.type === 'expr_list') fail('COUNT over several expressions');
    return { sql: `count(${distinct}${t.value(expr).sql})`, type: INT };
  }
  if (!expr) fail(`${name} without an argument`);
  switch (name) {
    case 'SUM': {
      const v = t.num(expr);
      return {
        sql: `sum(${distinct}${v.sql})`,
        type: v.type.kind === 'float' ? FLOAT : { kind: 'decimal', scale: v.type.scale ?? 0 },
      };
    }
    case 'AVG': {
      const v = t.num(expr);
      if (v.type.kind === 'float') return { sql: `avg(${distinct}${v.sql})`, type: FLOAT };
      // MySQL: the argument's scale plus div_precision_increment (4).
      const scale = Math.min(30, (v.type.scale ?? 0) + 4);
      return { sql: `round(avg(${distinct}${v.sql}), ${scale})`, type: { kind: 'decimal', scale } };
    }
    case 'MIN':
    case 'MAX': {
      const v = t.value(expr);
      const operand = v.type.kind === 'bool' ? t.asNumber(v) : v;
      return { sql: `${name.toLowerCase()}(${distinct}${operand.sql})`, type: operand.type };
    }
    case 'GROUP_CONCAT':
      return groupConcat(t, args);
    default:
      return fail(`the aggregate ${name} is not translated`);
  }
}

function groupConcat(t: Translator, args: AstNode): Translated {
  const expr = args.expr as AstNode;
  const items = expr.type === 'expr_list' ? (expr.value as AstNode[]) : [expr];
  const value = t.concatenate(items.map((i) => t.text(i)));
  const separatorNode = args.separator?.value as AstNode | undefined;
  const separator = separatorNode ? literalString(separatorNode) : ',';
  if (separator === null) fail('a GROUP_CONCAT separator that is not a literal string');
  const orderBy = (args.orderby ?? []) as AstNode[];
  let order = '';
  if (orderBy.length > 0) {
    const keys = orderBy.map(
      (o) => `${t.value(o.expr as AstNode).sql}${String(o.type ?? '').toUpperCase() === 'DESC' ? ' DESC' : ''}`,
    );
    order = ` ORDER BY ${keys.join(', ')}`;
    if (args.distinct) {
      // PostgreSQL orders a DISTINCT aggregate only by its argument. When the argument starts
      // with the sort key (CONCAT(key, …), as in Sakila's actor_info), ordering by the whole
      // argument keeps MySQL's order; verification compares the result either way.
      const first =
        items.length === 1 && items[0]!.type === 'function' && functionName(items[0]!) === 'concat'
          ? functionArgs(items[0]!)[0]
          : items[0];
      const keySql = orderBy.length === 1 && first ? t.value(first).sql : null;
      if (keySql === null || keySql !== t.value(orderBy[0]!.expr as AstNode).sql) {
        fail(
          'GROUP_CONCAT(DISTINCT …) ordered by something other than its argument (PostgreSQL cannot order a DISTINCT aggregate so)',
        );
      }
      order = ` ORDER BY ${value.sql}${String(orderBy[0]!.type ?? '').toUpperCase() === 'DESC' ? ' DESC' : ''}`;
    }
  } else {
    // MySQL leaves the order of an unordered GROUP_CONCAT to the plan: verification compares
    // its items as a set.
    t.options.onUnorderedList?.(separator);
  }
  return {
    sql: `string_agg(${args.distinct ? 'DISTINCT ' : ''}${value.sql}, ${literalPg(separator)}${order})`,
    type: TEXT,
  };
}
