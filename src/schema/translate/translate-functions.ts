import { literalPg } from '../../dialect/postgres/quote.js';
import { fail, functionArgs, functionName, literalInteger, literalString } from './ast-helpers.js';
import { translateDateFormat } from './date-format.js';
import { storedFunction, strToDate } from './translate-more-functions.js';
import type { AstNode } from './mysql-parse.js';
import type { Translated, Translator } from './expression-types.js';
import { BOOL, FLOAT, INT, TEXT } from './sql-types.js';
import { unifyValues } from './translate-conversions.js';
import { extractField, shiftDate, timestampOf } from './translate-temporal.js';

/**
 * MySQL's functions, one case each, translated with MySQL's meaning (NULL rules, argument
 * counts, text forms); any other function is refused by name.
 */
export function translateFunction(t: Translator, node: AstNode): Translated {
  if (node.over) fail('window functions are not translated');
  const name = functionName(node);
  const args = functionArgs(node);
  const arity = (min: number, max = min): void => {
    if (args.length < min || args.length > max) fail(`${name.toUpperCase()} with ${args.length} arguments`);
  };
  const arg = (i: number): AstNode => args[i]!;
  switch (name) {
    case 'concat':
      return t.concatenate(args.map((a) => t.text(a)));
    case 'concat_ws': {
      arity(2, Infinity);
      const separator = t.text(arg(0));
      const parts = args.slice(1).map((a) => t.text(a));
      // NULL arguments are skipped; the result is NULL only when the separator is.
      const joined = parts.map((p) => `coalesce(${separator.sql}::text || ${p.sql}, '')`).join(' || ');
      const body = `substr(${joined}, char_length(${separator.sql}::text) + 1)`;
      if (separator.type.literal && separator.type.kind === 'text') return { sql: body, type: TEXT };
      return { sql: `CASE WHEN ${separator.sql} IS NULL THEN NULL ELSE ${body} END`, type: TEXT };
    }
    case 'if': {
      arity(3);
      const r = unifyValues(t, [t.value(arg(1)), t.value(arg(2))]);
      return { sql: `CASE WHEN ${t.cond(arg(0))} THEN ${r.values[0]!.sql} ELSE ${r.values[1]!.sql} END`, type: r.type };
    }
    case 'ifnull':
    case 'coalesce': {
      arity(name === 'ifnull' ? 2 : 1, name === 'ifnull' ? 2 : Infinity);
      const r = unifyValues(
        t,
        args.map((a) => t.value(a)),
      );
      return { sql: `COALESCE(${r.values.map((v) => v.sql).join(', ')})`, type: r.type };
    }
    case 'nullif': {
      arity(2);
      const [a, b] = t.comparable(t.value(arg(0)), t.value(arg(1)));
      return { sql: `NULLIF(${a.sql}, ${b.sql})`, type: a.type };
    }
    case 'greatest':
    case 'least': {
      arity(2, Infinity);
      const r = unifyValues(
        t,
        args.map((a) => t.value(a)),
      );
      // MySQL: NULL when any argument is NULL; PostgreSQL ignores NULLs.
      const anyNull = r.values.map((v) => `${v.sql} IS NULL`).join(' OR ');
      return {
        sql: `CASE WHEN ${anyNull} THEN NULL ELSE ${name}(${r.values.map((v) => v.sql).join(', ')}) END`,
        type: r.type,
      };
    }
    case 'char_length':
    case 'character_length':
      arity(1);
      return { sql: `char_length(${t.text(arg(0)).sql})`, type: INT };
    case 'length':
    case 'octet_length': {
      arity(1);
      const v = t.value(arg(0));
      // MySQL counts bytes in the value's character set; PostgreSQL's text is UTF-8.
      if (v.type.singleByte) return { sql: `char_length(${v.sql})`, type: INT };
      if (v.type.kind === 'bytea') return { sql: `octet_length(${v.sql})`, type: INT };
      return { sql: `octet_length(${t.asText(v).sql})`, type: INT };
    }
    case 'left':
    case 'right': {
      arity(2);
      const n = t.num(arg(1));
      const count = literalInteger(arg(1)) !== null && literalInteger(arg(1))! >= 0 ? n.sql : `greatest(${n.sql}, 0)`;
      return { sql: `${name}(${t.text(arg(0)).sql}, ${count})`, type: TEXT };
    }
    case 'substr':
    case 'substring':
    case 'mid': {
      arity(2, 3);
      const position = literalInteger(arg(1));
      if (position === null || position < 1)
        fail(
          `${name.toUpperCase()} from a position that is not a positive literal (MySQL counts 0 and negative positions differently)`,
        );
      const text = t.text(arg(0)).sql;
      if (args.length === 2) return { sql: `substr(${text}, ${position})`, type: TEXT };
      const length = t.num(arg(2));
      const len =
        literalInteger(arg(2)) !== null && literalInteger(arg(2))! >= 0 ? length.sql : `greatest(${length.sql}, 0)`;
      return { sql: `substr(${text}, ${position}, ${len})`, type: TEXT };
    }
    case 'upper':
    case 'ucase':
      arity(1);
      return { sql: `upper(${t.text(arg(0)).sql})`, type: TEXT };
    case 'lower':
    case 'lcase':
      arity(1);
      return { sql: `lower(${t.text(arg(0)).sql})`, type: TEXT };
    case 'trim':
      return trim(t, args);
    case 'ltrim':
    case 'rtrim':
      arity(1);
      return { sql: `${name}(${t.text(arg(0)).sql}, ' ')`, type: TEXT };
    case 'replace':
      arity(3);
      return { sql: `replace(${t.text(arg(0)).sql}, ${t.text(arg(1)).sql}, ${t.text(arg(2)).sql})`, type: TEXT };
    case 'lpad':
    case 'rpad':
      arity(3);
      return { sql: `${name}(${t.text(arg(0)).sql}, ${t.num(arg(1)).sql}, ${t.text(arg(2)).sql})`, type: TEXT };
    case 'repeat':
      arity(2);
      return { sql: `repeat(${t.text(arg(0)).sql}, ${t.num(arg(1)).sql})`, type: TEXT };
    case 'reverse':
      arity(1);
      return { sql: `reverse(${t.text(arg(0)).sql})`, type: TEXT };
    case 'locate':
      arity(2);
      return { sql: `strpos(${t.text(arg(1)).sql}, ${t.text(arg(0)).sql})`, type: INT };
    case 'instr':
      arity(2);
      return { sql: `strpos(${t.text(arg(0)).sql}, ${t.text(arg(1)).sql})`, type: INT };
    case 'md5':
      arity(1);
      return { sql: `md5(${t.text(arg(0)).sql})`, type: TEXT };
    case 'abs':
    case 'sign': {
      arity(1);
      const v = t.num(arg(0));
      return { sql: `${name}(${v.sql})`, type: name === 'sign' ? INT : v.type };
    }
    case 'ceil':
    case 'ceiling':
    case 'floor': {
      arity(1);
      const v = t.num(arg(0));
      return { sql: `${name === 'floor' ? 'floor' : 'ceil'}(${v.sql})`, type: v.type.kind === 'float' ? FLOAT : INT };
    }
    case 'round':
    case 'truncate': {
      arity(name === 'round' ? 1 : 2, 2);
      const v = t.num(arg(0));
      const digits = args.length > 1 ? literalInteger(arg(1)) : 0;
      if (digits === null) fail(`${name.toUpperCase()} to a number of digits that is not a literal`);
      const fn = name === 'round' ? 'round' : 'trunc';
      if (v.type.kind === 'float') {
        if (name === 'round')
          fail(
            'ROUND of a floating-point value (MySQL rounds doubles half to even, PostgreSQL numeric half away from zero)',
          );
        return { sql: `trunc(${v.sql}::numeric, ${digits})::float8`, type: FLOAT };
      }
      if (v.type.kind === 'int' && digits >= 0) return v;
      return { sql: `${fn}(${v.sql}::numeric, ${digits})`, type: { kind: 'decimal', scale: Math.max(0, digits) } };
    }
    case 'mod':
      arity(2);
      return t.modulo(t.num(arg(0)), t.num(arg(1)));
    case 'year':
    case 'month':
    case 'hour':
    case 'minute':
    case 'second':
    case 'quarter':
    case 'microsecond':
      arity(1);
      return extractField(t, name, t.value(arg(0)));
    case 'day':
    case 'dayofmonth':
      arity(1);
      return extractField(t, 'day', t.value(arg(0)));
    case 'dayofweek':
      arity(1);
      return { sql: `(extract(dow from ${timestampOf(t, t.value(arg(0)))})::int + 1)`, type: INT };
    case 'weekday':
      arity(1);
      return { sql: `(extract(isodow from ${timestampOf(t, t.value(arg(0)))})::int - 1)`, type: INT };
    case 'dayofyear':
      arity(1);
      return { sql: `extract(doy from ${timestampOf(t, t.value(arg(0)))})::int`, type: INT };
    case 'date': {
      arity(1);
      const v = t.value(arg(0));
      if (v.type.kind === 'date') return v;
      return { sql: `(${timestampOf(t, v)})::date`, type: { kind: 'date' } };
    }
    case 'date_format': {
      arity(2);
      const format = literalString(arg(1));
      if (format === null) fail('DATE_FORMAT with a format that is not a literal string');
      const v = t.value(arg(0));
      const ts = timestampOf(t, v);
      const sql = translateDateFormat(ts, format);
      // A format without specifiers still gives NULL for a NULL date.
      return { sql: /extract\(/.test(sql) ? sql : `CASE WHEN ${v.sql} IS NULL THEN NULL ELSE ${sql} END`, type: TEXT };
    }
    case 'datediff':
      arity(2);
      return {
        sql: `((${timestampOf(t, t.value(arg(0)))})::date - (${timestampOf(t, t.value(arg(1)))})::date)`,
        type: INT,
      };
    case 'date_add':
    case 'adddate':
    case 'date_sub':
    case 'subdate': {
      arity(2);
      if (arg(1).type !== 'interval') fail(`${name.toUpperCase()} with a number of days instead of an INTERVAL`);
      return shiftDate(t, t.value(arg(0)), arg(1), name === 'date_add' || name === 'adddate' ? '+' : '-');
    }
    case 'now':
    case 'current_timestamp':
    case 'localtimestamp':
    case 'localtime':
      if (t.options.immutable)
        fail(`${name.toUpperCase()}() changes over time; PostgreSQL allows it in no generated column or CHECK`);
      return { sql: 'LOCALTIMESTAMP(0)', type: { kind: 'datetime', fsp: 0 } };
    case 'curdate':
    case 'current_date':
      if (t.options.immutable)
        fail(`${name.toUpperCase()}() changes over time; PostgreSQL allows it in no generated column or CHECK`);
      return { sql: 'CURRENT_DATE', type: { kind: 'date' } };
    case 'json_extract':
      arity(2);
      return t.jsonExtract(arg(0), arg(1), false);
    case 'json_unquote': {
      arity(1);
      const inner = arg(0);
      if (inner.type === 'function' && functionName(inner) === 'json_extract' && functionArgs(inner).length === 2) {
        return t.jsonExtract(functionArgs(inner)[0]!, functionArgs(inner)[1]!, true);
      }
      const doc = t.value(inner);
      if (doc.type.kind !== 'json') fail('JSON_UNQUOTE of a value that is not JSON');
      return { sql: `(${doc.sql} #>> '{}')`, type: TEXT };
    }
    case 'convert': {
      // CONVERT(x USING charset): PostgreSQL text has one character set.
      const first = arg(0);
      if (args.length === 1 && first && /^USING /i.test(String(first.suffix ?? ''))) {
        const { suffix: _suffix, ...rest } = first;
        return t.text(rest);
      }
      return fail('CONVERT(…, type) is not translated');
    }
    case 'exists': {
      const inner = arg(0);
      if (!inner?.ast) fail('EXISTS without a subquery');
      return { sql: `EXISTS ${t.subquery(inner.ast as AstNode).sql}`, type: BOOL };
    }
    case 'not':
      arity(1);
      return { sql: `(NOT ${t.cond(arg(0))})`, type: BOOL };
    case 'to_days':
      arity(1);
      // Days since year 0 by MySQL's proleptic count: 0001-01-01 is day 366.
      return { sql: `((${timestampOf(t, t.value(arg(0)))})::date - DATE '0001-01-01' + 366)`, type: INT };
    case 'last_day':
      arity(1);
      return {
        sql: `(date_trunc('month', ${timestampOf(t, t.value(arg(0)))}) + interval '1 month - 1 day')::date`,
        type: { kind: 'date' },
      };
    case 'str_to_date':
      arity(2);
      return strToDate(t, arg(0), arg(1));
    default:
      return storedFunction(t, name, args);
  }
}

function trim(t: Translator, args: AstNode[]): Translated {
  // trim(x) or trim(BOTH|LEADING|TRAILING [remstr] FROM x), as node-sql-parser lists it.
  if (args.length === 1) return { sql: `btrim(${t.text(args[0]!).sql}, ' ')`, type: TEXT };
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
  return { sql: `${fn}(${t.text(subject).sql}, ${literalPg(remove)})`, type: TEXT };
}
