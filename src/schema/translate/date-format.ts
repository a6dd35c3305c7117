import { literalPg } from '../../dialect/postgres/quote.js';
import { UntranslatableError } from './mysql-parse.js';

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const names = (list: readonly string[], short: boolean): string =>
  `ARRAY[${list.map((n) => literalPg(short ? n.slice(0, 3) : n)).join(', ')}]`;

/**
 * MySQL's DATE_FORMAT(value, 'literal format') in PostgreSQL, built from extract() and lpad()
 * on a `timestamp` (never to_char(), which is only STABLE and follows lc_time): the result is
 * IMMUTABLE, so generated columns can use it, and names are MySQL's English ones whatever the
 * server's locale. `ts` must be an SQL expression of type timestamp (without time zone).
 */
export function translateDateFormat(ts: string, format: string): string {
  const field = (f: string): string => `extract(${f} from ${ts})::int`;
  const padded = (f: string, width: number): string => `lpad(${field(f)}::text, ${width}, '0')`;
  const second = `floor(extract(second from ${ts}))::int`;
  const hour12 = `((${field('hour')} + 11) % 12 + 1)`;
  const ampm = `CASE WHEN ${field('hour')} < 12 THEN 'AM' ELSE 'PM' END`;
  const pieces: string[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal !== '') pieces.push(literalPg(literal));
    literal = '';
  };
  const push = (sql: string): void => {
    flush();
    pieces.push(sql);
  };
  for (let i = 0; i < format.length; i += 1) {
    const ch = format[i]!;
    if (ch !== '%' || i + 1 >= format.length) {
      literal += ch;
      continue;
    }
    const spec = format[i + 1]!;
    i += 1;
    switch (spec) {
      case 'Y':
        push(padded('year', 4));
        break;
      case 'y':
        push(`lpad((${field('year')} % 100)::text, 2, '0')`);
        break;
      case 'm':
        push(padded('month', 2));
        break;
      case 'c':
        push(`${field('month')}::text`);
        break;
      case 'M':
        push(`(${names(MONTHS, false)})[${field('month')}]`);
        break;
      case 'b':
        push(`(${names(MONTHS, true)})[${field('month')}]`);
        break;
      case 'd':
        push(padded('day', 2));
        break;
      case 'e':
        push(`${field('day')}::text`);
        break;
      case 'D':
        push(
          `${field('day')}::text || CASE WHEN ${field('day')} IN (11, 12, 13) THEN 'th' WHEN ${field('day')} % 10 = 1 THEN 'st' WHEN ${field('day')} % 10 = 2 THEN 'nd' WHEN ${field('day')} % 10 = 3 THEN 'rd' ELSE 'th' END`,
        );
        break;
      case 'j':
        push(padded('doy', 3));
        break;
      case 'H':
        push(padded('hour', 2));
        break;
      case 'k':
        push(`${field('hour')}::text`);
        break;
      case 'h':
      case 'I':
        push(`lpad(${hour12}::text, 2, '0')`);
        break;
      case 'l':
        push(`${hour12}::text`);
        break;
      case 'i':
        push(padded('minute', 2));
        break;
      case 'S':
      case 's':
        push(`lpad(${second}::text, 2, '0')`);
        break;
      case 'f':
        push(`lpad((extract(microseconds from ${ts})::bigint % 1000000)::text, 6, '0')`);
        break;
      case 'p':
        push(ampm);
        break;
      case 'r':
        push(
          `lpad(${hour12}::text, 2, '0') || ':' || ${padded('minute', 2)} || ':' || lpad(${second}::text, 2, '0') || ' ' || ${ampm}`,
        );
        break;
      case 'T':
        push(`${padded('hour', 2)} || ':' || ${padded('minute', 2)} || ':' || lpad(${second}::text, 2, '0')`);
        break;
      case 'W':
        push(`(${names(DAYS, false)})[extract(dow from ${ts})::int + 1]`);
        break;
      case 'a':
        push(`(${names(DAYS, true)})[extract(dow from ${ts})::int + 1]`);
        break;
      case 'w':
        push(`extract(dow from ${ts})::int::text`);
        break;
      case 'v':
        push(padded('week', 2));
        break;
      case 'x':
        push(`lpad(${field('isoyear')}::text, 4, '0')`);
        break;
      case 'U':
      case 'u':
      case 'V':
      case 'X':
        throw new UntranslatableError(`DATE_FORMAT's %${spec} (a non-ISO week number) has no PostgreSQL equivalent`);
      default:
        // MySQL prints an unknown specifier's character (and %% as %).
        literal += spec;
    }
  }
  flush();
  if (pieces.length === 0) return "''";
  return pieces.length === 1 ? pieces[0]! : `(${pieces.join(' || ')})`;
}
