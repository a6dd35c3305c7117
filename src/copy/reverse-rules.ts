import { ValueRefused } from '../core/errors.js';

/**
 * The way back's value rules (docs/fallback.md): a PostgreSQL value, as logical replication sends
 * it (text output form), to what MySQL takes for its column. The forward converters are in
 * convert.ts and value-rules.ts; this is their mirror, one rule per kind, in one table.
 */

/** The MySQL column a value goes back to. */
export interface ReverseColumn {
  name: string;
  /** DATA_TYPE, lower case. */
  dataType: string;
  unsigned: boolean;
}

/** The PostgreSQL type of the value: pg_type.typname and typcategory. */
export interface PgType {
  name: string;
  category: string;
}

/** What mysql2 binds: text, bytes, or NULL. */
export type MysqlValue = string | Buffer | null;

type Rule = (text: string, column: ReverseColumn, type: PgType) => MysqlValue;

const INTEGER = /^-?\d+$/;
const UNSIGNED_MAX: Record<string, bigint> = {
  tinyint: 255n,
  smallint: 65_535n,
  mediumint: 16_777_215n,
  int: 4_294_967_295n,
  integer: 4_294_967_295n,
  bigint: 18_446_744_073_709_551_615n,
};

/** `'t'`/`'f'` (a boolean column made from tinyint(1) or bit(1)) back to 1/0; digits as they are, in range. */
const integerRule: Rule = (text, column, type) => {
  if (type.name === 'bool') return text === 't' ? '1' : '0';
  if (!INTEGER.test(text)) throw new ValueRefused(column.name, `${text} is not an integer`);
  const max = UNSIGNED_MAX[column.dataType];
  if (column.unsigned && (text.startsWith('-') || (max !== undefined && BigInt(text) > max)))
    throw new ValueRefused(column.name, `${text} is out of range for ${column.dataType} unsigned`);
  return text;
};

/** bit(n): a boolean back to 1/0; bit strings as their number. */
const bitRule: Rule = (text, column, type) => {
  if (type.name === 'bool') return text === 't' ? '1' : '0';
  if (/^[01]+$/.test(text) && (type.name === 'bit' || type.name === 'varbit')) return BigInt(`0b${text}`).toString();
  return integerRule(text, column, type);
};

/** PostgreSQL's float specials have no MySQL form. */
const floatRule: Rule = (text, column) => {
  if (/^-?(Infinity|NaN)$/.test(text))
    throw new ValueRefused(column.name, `${text} has no MySQL ${column.dataType} form`);
  return text;
};

/** bytea's hex output (`\x…`) to its bytes; text (a binary column kept as text) to its UTF-8 bytes. */
const bytesRule: Rule = (text, _column, type) =>
  type.name === 'bytea' ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'utf8');

/** Text types: as they are; bytea (text with NUL kept under --nul bytea) to its bytes. */
const textRule: Rule = (text, _column, type) => (type.name === 'bytea' ? Buffer.from(text.slice(2), 'hex') : text);

/** timestamptz to UTC (my2pg's MySQL sessions run in UTC, as the copy read it); timestamp as it is. */
const datetimeRule: Rule = (text, column, type) => {
  if (/^-?infinity$/.test(text)) throw new ValueRefused(column.name, `${text} has no MySQL ${column.dataType} form`);
  if (/ BC$/.test(text)) throw new ValueRefused(column.name, `${text} is before MySQL's year 1000`);
  return type.name === 'timestamptz' ? utcOf(text) : text;
};

/** `text[]` (a SET) back to MySQL's comma-separated labels. */
const setRule: Rule = (text, column, type) => {
  if (type.category !== 'A') return text;
  const labels = parseTextArray(text);
  if (labels.some((l) => l === null || l.includes(',')))
    throw new ValueRefused(column.name, `${text}: a SET label cannot be NULL or hold a comma`);
  return labels.join(',');
};

/** The rule of each MySQL type; a type not listed takes the value's text as it is (MySQL judges it). */
const REVERSE_RULES: Record<string, Rule> = {
  tinyint: integerRule,
  smallint: integerRule,
  mediumint: integerRule,
  int: integerRule,
  integer: integerRule,
  bigint: integerRule,
  bit: bitRule,
  float: floatRule,
  double: floatRule,
  real: floatRule,
  binary: bytesRule,
  varbinary: bytesRule,
  tinyblob: bytesRule,
  blob: bytesRule,
  mediumblob: bytesRule,
  longblob: bytesRule,
  char: textRule,
  varchar: textRule,
  tinytext: textRule,
  text: textRule,
  mediumtext: textRule,
  longtext: textRule,
  datetime: datetimeRule,
  timestamp: datetimeRule,
  date: datetimeRule,
  set: setRule,
};

/** One value back to MySQL: null stays null; a value MySQL cannot hold is a ValueRefused naming why. */
export function reverseValue(text: string | null, column: ReverseColumn, type: PgType): MysqlValue {
  if (text === null) return null;
  return (REVERSE_RULES[column.dataType] ?? ((t: string) => t))(text, column, type);
}

/** `2024-05-01 10:00:00.123456+02` (or `+05:30`, `+00:00:12`) to `2024-04-30 08:00:00.123456` UTC, microseconds kept. */
export function utcOf(text: string): string {
  const match = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(
    text,
  );
  if (!match) return text;
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om, os] = match;
  const offset = (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0)) * (sign === '-' ? -1 : 1);
  const at = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offset * 1000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}${fraction ?? ''}`;
}

/** A one-dimensional text array's output form (`{a,"b c",NULL}`) to its elements. */
export function parseTextArray(text: string): (string | null)[] {
  const body = text.slice(1, -1);
  if (body === '') return [];
  const out: (string | null)[] = [];
  let i = 0;
  while (i <= body.length) {
    if (body[i] === '"') {
      let value = '';
      i += 1;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i += 1;
        value += body[i] ?? '';
        i += 1;
      }
      out.push(value);
      i += 2; // the closing quote and the comma
    } else {
      const end = body.indexOf(',', i);
      const raw = body.slice(i, end === -1 ? body.length : end);
      out.push(raw === 'NULL' ? null : raw);
      i = end === -1 ? body.length + 1 : end + 1;
    }
  }
  return out;
}
