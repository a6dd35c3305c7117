/**
 * PostgreSQL's SQLSTATE classes, the one table my2pg reads them from
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */

/** What an error of a class means to a copy. */
export type SqlstateMeaning =
  /** The row's data is refused (data exception, integrity violation, program limit): set the row aside. */
  | 'row-refused'
  /** The statement or the schema is wrong; no retry helps. */
  | 'permanent'
  /** Anything else (connection, serialization, resources, shutdown): a retry may help. */
  | 'transient';

const CLASSES: Readonly<Record<string, SqlstateMeaning>> = {
  '22': 'row-refused', // data exception
  '23': 'row-refused', // integrity constraint violation
  '54': 'row-refused', // program limit exceeded (a value too large for an index row)
  '42': 'permanent', // syntax error or access rule violation, undefined column or table
  '0A': 'permanent', // feature not supported
  '2B': 'permanent', // dependent privilege descriptors still exist
};

/** Whether a string is a SQLSTATE (five digits or capital letters). */
export function isSqlstate(code: unknown): code is string {
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

/** The meaning of a SQLSTATE, by its class. */
export function sqlstateMeaning(code: string): SqlstateMeaning {
  return CLASSES[code.slice(0, 2)] ?? 'transient';
}
