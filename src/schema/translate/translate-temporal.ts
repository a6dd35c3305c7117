import { fail } from './ast-helpers.js';
import type { Translated, Translator } from './expression-types.js';
import type { AstNode } from './mysql-parse.js';
import { INT } from './sql-types.js';

/** An INTERVAL expression as a PostgreSQL interval (QUARTER as three months). */
function translateInterval(t: Translator, node: AstNode): string {
  const unit = String(node.unit ?? '').toLowerCase();
  const units: Record<string, string> = {
    microsecond: 'microseconds',
    second: 'seconds',
    minute: 'minutes',
    hour: 'hours',
    day: 'days',
    week: 'weeks',
    month: 'months',
    quarter: 'months',
    year: 'years',
  };
  const pgUnit = units[unit];
  if (!pgUnit) fail(`INTERVAL … ${unit.toUpperCase()} is not translated`);
  const amount = t.num(node.expr as AstNode);
  const factor = unit === 'quarter' ? ' * 3' : '';
  return `(${amount.sql}${factor} * interval '1 ${pgUnit}')`;
}

/** DATE_ADD/DATE_SUB and `date ± INTERVAL`: a DATE stays a DATE for whole days, as in MySQL. */
export function shiftDate(t: Translator, date: Translated, intervalNode: AstNode, op: string): Translated {
  const unit = String(intervalNode.unit ?? '').toLowerCase();
  const interval = translateInterval(t, intervalNode);
  if (date.type.kind === 'date') {
    // MySQL keeps a DATE a DATE when whole days (or more) are added.
    const wholeDays = ['day', 'week', 'month', 'quarter', 'year'].includes(unit);
    return wholeDays
      ? { sql: `(${date.sql} ${op} ${interval})::date`, type: { kind: 'date' } }
      : { sql: `(${date.sql}::timestamp ${op} ${interval})`, type: { kind: 'datetime', fsp: 6 } };
  }
  if (date.type.kind === 'datetime' || date.type.kind === 'timestamptz') {
    if (date.type.kind === 'timestamptz' && t.options.immutable)
      fail('arithmetic on a TIMESTAMP depends on the session time zone in PostgreSQL');
    return { sql: `(${date.sql} ${op} ${interval})`, type: date.type };
  }
  return fail(`date arithmetic on a ${date.type.kind} value`);
}

/** EXTRACT(field FROM v) as an integer, the fields MySQL and PostgreSQL number alike. */
export function extractField(t: Translator, field: string, v: Translated): Translated {
  const f = field.toLowerCase();
  const fields: Record<string, string> = {
    year: 'year',
    month: 'month',
    day: 'day',
    hour: 'hour',
    minute: 'minute',
    quarter: 'quarter',
    week: 'week',
  };
  if (f === 'second') return { sql: `floor(extract(second from ${timestampOf(t, v)}))::int`, type: INT };
  if (f === 'microsecond')
    return { sql: `(extract(microseconds from ${timestampOf(t, v)})::bigint % 1000000)::int`, type: INT };
  const pgField = fields[f];
  if (!pgField) fail(`EXTRACT(${field.toUpperCase()} …) is not translated`);
  if (f === 'week') fail('WEEK numbering differs between MySQL and PostgreSQL');
  return { sql: `extract(${pgField} from ${timestampOf(t, v)})::int`, type: INT };
}

/** A date or time value as a PostgreSQL timestamp to take apart (a TIMESTAMP only outside immutable contexts). */
export function timestampOf(t: Translator, v: Translated): string {
  if (v.type.kind === 'date' || v.type.kind === 'datetime') return `(${v.sql})::timestamp`;
  if (v.type.kind === 'timestamptz') {
    if (t.options.immutable)
      fail(
        'a TIMESTAMP column taken apart depends on the session time zone in PostgreSQL, which a generated column or CHECK cannot',
      );
    return `(${v.sql})`;
  }
  return fail(`a date function on a ${v.type.kind} value`);
}
