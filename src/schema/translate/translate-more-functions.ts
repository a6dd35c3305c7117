import { literalPg } from '../../dialect/postgres/quote.js';
import { fail, literalString } from './ast-helpers.js';
import type { Translated, Translator } from './expression-types.js';
import type { AstNode } from './mysql-parse.js';

const STR_TO_DATE_PARTS: Record<string, string> = {
  Y: 'YYYY',
  m: 'MM',
  c: 'MM',
  d: 'DD',
  e: 'DD',
  H: 'HH24',
  k: 'HH24',
  i: 'MI',
  s: 'SS',
  S: 'SS',
};

/**
 * STR_TO_DATE with a literal format of numeric parts and punctuation. A string that is no
 * date is an error in PostgreSQL where MySQL gives NULL: loud, never a different date.
 */
export function strToDate(t: Translator, text: AstNode, formatNode: AstNode): Translated {
  const format = literalString(formatNode);
  if (format === null) fail('STR_TO_DATE with a format that is not a literal string');
  let pg = '';
  for (let i = 0; i < format.length; i += 1) {
    const ch = format[i]!;
    if (ch === '%') {
      const part = STR_TO_DATE_PARTS[format[i + 1] ?? ''];
      if (!part) fail(`STR_TO_DATE with the format specifier %${format[i + 1] ?? ''}`);
      pg += part;
      i += 1;
    } else if (/[-/:., ]/.test(ch)) pg += ch;
    else fail(`STR_TO_DATE with the format character ${ch}`);
  }
  const value = t.text(text).sql;
  if (/HH24|MI|SS/.test(pg))
    return { sql: `to_timestamp(${value}, ${literalPg(pg)})::timestamp(0)`, type: { kind: 'datetime', fsp: 0 } };
  return { sql: `to_date(${value}, ${literalPg(pg)})`, type: { kind: 'date' } };
}

/** A call of one of the source's own stored functions that has a translation; any other name is refused. */
export function storedFunction(t: Translator, name: string, args: AstNode[]): Translated {
  const fn = t.options.functions?.get(name);
  if (!fn) return fail(`the function ${name.toUpperCase()}() is not translated`);
  if (args.length !== fn.params.length)
    fail(`${name.toUpperCase()}() called with ${args.length} arguments (it takes ${fn.params.length})`);
  const values = args.map((a, i) => {
    const param = fn.params[i]!;
    return `(${t.toType(t.value(a), param.type).sql})::${param.pg}`;
  });
  return { sql: `${fn.sql}(${values.join(', ')})`, type: fn.returns };
}
