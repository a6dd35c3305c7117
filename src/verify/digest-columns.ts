import { PermanentError } from '../core/errors.js';
import type { SourceValue } from '../dialect/mysql/connection.js';
import { quotePg } from '../dialect/postgres/quote.js';
import { digestFormFor, pgValueExpression } from '../vocabulary/canonical/digest-forms.js';
import type { CheckedTable } from './checked-table.js';

/** How one side's bytes of a column become canonical bytes. */
export const BYTES = 0;
/** MySQL date bytes, but a zero date is NULL. */
export const DATE = 1;
/** MySQL text bytes, but text holding NUL is read as a value. */
export const TEXT = 2;
/** A value put in canonical form here. */
export const VALUE = 3;
/** MySQL timestamp bytes without the fraction's trailing zeros; a zero date is NULL. */
export const TIMESTAMP = 4;
export type ColumnKind = typeof BYTES | typeof DATE | typeof TEXT | typeof VALUE | typeof TIMESTAMP;

/** Largest value put in canonical form as JavaScript text (bigger ones of the byte-compared types are hashed as bytes). */
const MAX_VALUE_BYTES = 64 * 1024 * 1024;

/**
 * What each side reads of every column in one pass: its digest form (bytes, or a value put in
 * canonical form here) and, for the row-by-row comparison, the key columns as values too.
 */
export interface DigestColumns {
  /** PostgreSQL's select list when hashing: every column in its digest form. */
  pgDigestList: string[];
  /** PostgreSQL's select list row by row: the digest list, then the identity columns as values (to know rows by key). */
  pgDrillList: string[];
  mysqlKinds: ColumnKind[];
  pgKinds: ColumnKind[];
  fromMysql: ((value: SourceValue) => string | null)[];
  fromPg: ((text: string | null) => string | null)[];
  /** `end`, when the value of column `i` in [start, end) is small enough to be held as JavaScript text; else it throws. */
  boundedValue(end: number, start: number, i: number): number;
}

/** The digest columns of a table; with `allValues`, every column is read as a value (the second pass). */
export function digestColumnsFor(table: CheckedTable, allValues: boolean): DigestColumns {
  const { pairs } = table;
  const forms = pairs.map((p) => (allValues ? null : digestFormFor(p.source, p.target)));
  const pgValue = pairs.map((p) => pgValueExpression(p.source, p.target));
  const pgDigestList = pairs.map((p, i) =>
    forms[i] ? forms[i]!.pg(quotePg(p.target.name)) : pgValue[i]!(quotePg(p.target.name)),
  );
  return {
    pgDigestList,
    pgDrillList: [...pgDigestList, ...table.identity.map((i) => pgValue[i]!(quotePg(pairs[i]!.target.name)))],
    mysqlKinds: forms.map((f) =>
      f?.kind !== 'bytes' ? VALUE : f.zeroDates ? (f.trimFraction ? TIMESTAMP : DATE) : f.textNul ? TEXT : BYTES,
    ),
    pgKinds: forms.map((f) => (f?.kind === 'bytes' ? BYTES : VALUE)),
    fromMysql: table.canon.canonicals.map((c) => c.fromMysql),
    fromPg: table.canon.canonicals.map((c) => c.fromPg),
    boundedValue: (end, start, i) => {
      if (end - start <= MAX_VALUE_BYTES) return end;
      throw new PermanentError(
        `column ${pairs[i]!.source.name} holds a value of ${Math.round((end - start) / 1048576)} MB, more than the ${MAX_VALUE_BYTES / 1048576} MB that are compared as values (its type is not compared as bytes); check the table with --verify count, or compare that column another way`,
        { table: table.name },
      );
    },
  };
}
