import { fail } from './ast-helpers.js';
import type { Translated, Translator } from './expression-types.js';
import type { AstNode } from './mysql-parse.js';
import { castTarget, FLOAT, INT, NULL_TYPE, TEXT, type SqlType } from './sql-types.js';

/** Brings operands to one type the way MySQL does for IF/CASE/COALESCE (numbers widen, anything with text becomes text). */
export function unifyValues(t: Translator, values: Translated[]): { values: Translated[]; type: SqlType } {
  const present = values.filter((v) => v.type.kind !== 'null');
  if (present.length === 0) return { values, type: NULL_TYPE };
  const kinds = new Set(present.map((v) => v.type.kind));
  if (kinds.size === 1) {
    const kind = present[0]!.type.kind;
    if (kind === 'decimal') {
      const scales = present.map((v) => v.type.scale);
      if (!scales.every((s) => s !== undefined)) return { values, type: { kind } };
      const scale = Math.max(...(scales as number[]));
      const widened = values.map((v) =>
        v.type.kind === 'null' || v.type.scale === scale
          ? v
          : { sql: `round(${v.sql}, ${scale})`, type: { kind, scale } },
      );
      return { values: widened, type: { kind, scale } };
    }
    const fsps = present.map((v) => v.type.fsp ?? 0);
    return {
      values,
      type: kind === 'datetime' || kind === 'timestamptz' ? { kind, fsp: Math.max(...fsps) } : { kind },
    };
  }
  if (kinds.has('text')) return { values: values.map((v) => (v.type.kind === 'null' ? v : t.asText(v))), type: TEXT };
  if ([...kinds].every((k) => k === 'int' || k === 'decimal' || k === 'float' || k === 'bool')) {
    const numbers = values.map((v) => t.asNumber(v));
    if (kinds.has('float')) return { values: numbers, type: FLOAT };
    if (kinds.has('decimal')) {
      // MySQL gives the result the largest scale, and shows every member with it.
      const scale = Math.max(...numbers.map((v) => v.type.scale ?? 0));
      const widened = numbers.map((v) =>
        v.type.kind === 'null' || (v.type.kind === 'decimal' && v.type.scale === scale)
          ? v
          : { sql: `round((${v.sql})::numeric, ${scale})`, type: { kind: 'decimal' as const, scale } },
      );
      return { values: widened, type: { kind: 'decimal', scale } };
    }
    return { values: numbers, type: INT };
  }
  if ([...kinds].every((k) => k === 'date' || k === 'datetime')) {
    return {
      values: values.map((v) => (v.type.kind === 'date' ? { sql: `(${v.sql})::timestamp`, type: v.type } : v)),
      type: { kind: 'datetime', fsp: Math.max(...present.map((v) => v.type.fsp ?? 0)) },
    };
  }
  return fail(`values of different types (${[...kinds].join(', ')}) in one result`);
}

/** CAST(… AS type) with MySQL's conversions (a double to an integer rounds halves away from zero). */
export function translateCast(t: Translator, node: AstNode): Translated {
  const target = ((node.target ?? []) as AstNode[])[0];
  if (!target) fail('a CAST without a type');
  const dataType = String(target.dataType ?? '');
  const mapped = castTarget(dataType, target.length as number | undefined, target.scale as number | undefined);
  if (!mapped) fail(`CAST(… AS ${dataType}) is not translated`);
  const v = t.value(node.expr as AstNode);
  if (mapped.type.kind === 'text') {
    const text = t.asText(v);
    return target.length ? { sql: `left(${text.sql}, ${Number(target.length)})`, type: TEXT } : text;
  }
  if (mapped.type.kind === 'int' && v.type.kind === 'float') {
    // MySQL rounds a double to the nearest integer, halves away from zero.
    return { sql: `round(${v.sql})::bigint`, type: INT };
  }
  if (mapped.type.kind === 'int' || mapped.type.kind === 'decimal' || mapped.type.kind === 'float') {
    const n = v.type.kind === 'text' ? v : t.asNumber(v);
    return { sql: `(${n.sql})::${mapped.pg}`, type: mapped.type };
  }
  if (
    (mapped.type.kind === 'date' || mapped.type.kind === 'datetime') &&
    v.type.kind === 'timestamptz' &&
    t.options.immutable
  ) {
    fail('a TIMESTAMP converted to a date depends on the session time zone in PostgreSQL');
  }
  return { sql: `(${v.sql})::${mapped.pg}`, type: mapped.type };
}
