import { BINARY_CHARSET, type RawField } from '../dialect/mysql/raw-fields.js';
import type { CopyByteRule } from './convert.js';
import { hasNulByte, isZeroDateBytes } from '../vocabulary/type-families.js';

/**
 * The per-value byte rules of the encoder (see CopyByteRule): which values of a column go from
 * MySQL's bytes to COPY as they are, and which must go through the column's converter first.
 */

/** Rule codes, for a switch on small integers in the per-value loop. */
export const DIGITS = 0;
export const TEXT = 1;
export const DATE = 2;
export const BOOL = 3;
export const BYTEA = 4;
const CONVERT = 5;
const RULE_CODES: Record<CopyByteRule, number> = {
  digits: DIGITS,
  text: TEXT,
  date: DATE,
  bool: BOOL,
  bytea: BYTEA,
  convert: CONVERT,
};

/** The code of each rule, in column order. */
export function ruleCodes(rules: readonly CopyByteRule[]): Uint8Array {
  return new Uint8Array(rules.map((rule) => RULE_CODES[rule]));
}

/**
 * Largest value that goes through its converter (decoded into a JavaScript value): values that
 * need converting are small in practice (dates, booleans, geometry, text holding NUL), and a
 * bigger one would cost several copies of itself in memory.
 */
export const MAX_CONVERTED_BYTES = 64 * 1024 * 1024;

/**
 * The code a column's rule has for the result set's field: text the server sends as bytes of
 * another kind (binary, not UTF-8) is the converter's to judge.
 */
export function boundRuleCode(code: number, field: RawField): number {
  return code === TEXT && isStringField(field) && (field.characterSet === BINARY_CHARSET || field.encoding !== 'utf8')
    ? CONVERT
    : code;
}

/**
 * Whether the value [s, e) of a column with this rule code must go through its converter.
 * `mayHoldNul`: the row has a zero byte somewhere, so its text values are searched for NUL.
 */
export function needsConverter(code: number, source: Buffer, s: number, e: number, mayHoldNul: boolean): boolean {
  switch (code) {
    case DIGITS:
    case BYTEA:
      return false;
    case TEXT:
      return mayHoldNul && hasNulByte(source, s, e);
    case DATE:
      return isZeroDateBytes(source, s, e);
    case BOOL:
      return e - s !== 1 || (source[s] !== 0x30 && source[s] !== 0x31);
    default:
      return true;
  }
}

/** VARCHAR, ENUM, SET, the BLOB/TEXT family, CHAR: fields whose character set says what the bytes are. */
function isStringField(field: RawField): boolean {
  return field.columnType === 0x0f || (field.columnType >= 0xf7 && field.columnType <= 0xfe);
}
