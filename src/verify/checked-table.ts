import { keyPartsLabel, type KeyPart, type KeyRange } from '../core/key-range.js';
import { PermanentError } from '../core/errors.js';
import { selectExpression, type SourceTable } from '../dialect/mysql/catalog.js';
import { escapeMysql, quoteMysql } from '../dialect/mysql/quote.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { rowCanonicalizerFor, type RowCanonicalizer } from '../vocabulary/canonical.js';
import { matchColumns, type ColumnMatch } from '../vocabulary/column-pairs.js';
import { ENUM_SET_TYPES, INTEGER_TYPES, TEXT_TYPES } from '../vocabulary/type-families.js';
import type { ChecksumInput } from './checksum-types.js';
import { keyPartsOf } from '../vocabulary/key-range.js';

const STRING_TYPES = new Set([...TEXT_TYPES, ...ENUM_SET_TYPES]);
/** The target table's alias in verification queries. */
const PG_ALIAS = 'my2pg_row';

/** The single integer primary key of a table, by which its rows are split into key ranges. */
interface IntegerKey {
  /** Index of the key among the paired columns. */
  position: number;
  /** The MySQL column (for mysqlKeyRangeConditions). */
  source: { name: string; unsigned: boolean };
  /** The PostgreSQL key expression (for pgKeyRangeConditions). */
  pg: string;
}

/**
 * One table as both passes of a checksum verification read it: its paired columns, how a row
 * is known, and the SQL both sides share (FROM, select list, key order). Derived once per table.
 */
export interface CheckedTable {
  name: string;
  pairs: ColumnMatch[];
  width: number;
  canon: RowCanonicalizer;
  /** Columns that identify a row: the primary key, or every column. */
  identity: number[];
  /** The single integer primary key (null: composite, not an integer, or none). */
  intKey: IntegerKey | null;
  /** The key a job range is on (the integer key, or a splittable primary key: keyPartsOf), with its PostgreSQL expressions; null: none. */
  rangeKey: { parts: KeyPart[]; pg: string[] } | null;
  /** No primary key: the two sides share no row order. */
  orderFree: boolean;
  /** A range job's part of the key space (null: the whole table). */
  jobRange: KeyRange | null;
  /** `where`: the run's condition of the table; only the MySQL rows matching it are compared (the target's all). */
  mysql: { from: string; list: string; order: string; where?: string | undefined };
  /** `where`: only the rows of a key list (a re-verification of changed keys), else absent. */
  pg: { from: string; order: string; where?: string | undefined };
}

/** The checked form of a table pair; refuses a job range on anything but the single integer key. */
export function describeCheckedTable(
  sourceTable: SourceTable,
  targetTable: TargetTable,
  input: ChecksumInput,
): CheckedTable {
  const pairs = matchColumns(sourceTable, targetTable, input.columns, input.naming);
  const canon = rowCanonicalizerFor(pairs, sourceTable.primaryKey);
  const keyPairs = canon.keyIndexes.map((i) => pairs[i]!);
  const single = keyPairs.length === 1 && INTEGER_TYPES.has(keyPairs[0]!.source.dataType) ? keyPairs[0]! : null;
  const intKey = single
    ? {
        position: canon.keyIndexes[0]!,
        source: { name: single.source.name, unsigned: single.source.unsigned },
        pg: `${PG_ALIAS}.${quotePg(single.target.name)}`,
      }
    : null;
  const rangeKey = rangeKeyOf(sourceTable, pairs, intKey);
  if (input.range && (!rangeKey || input.range.column !== keyPartsLabel(rangeKey.parts))) {
    throw new PermanentError(
      `table ${input.table}: a key range needs the primary key ${JSON.stringify(input.range.column)} of integer or binary columns`,
      { table: input.table },
    );
  }
  const mysqlOrder = keyPairs
    .map((p) =>
      STRING_TYPES.has(p.source.dataType)
        ? `CONVERT(${quoteMysql(p.source.name)} USING utf8mb4) COLLATE utf8mb4_bin`
        : quoteMysql(p.source.name),
    )
    .join(', ');
  // Qualified: the select list prints the key as text under the same name, and ORDER BY would take that.
  const pgOrder = keyPairs
    .map(
      (p) =>
        `${PG_ALIAS}.${quotePg(p.target.name)}${p.target.category === 'S' || p.target.category === 'E' ? '::text COLLATE "C"' : ''}`,
    )
    .join(', ');
  const keyList = input.keys ? keyListConditions(input.table, pairs, input.keys) : undefined;
  return {
    name: input.table,
    pairs,
    width: pairs.length,
    canon,
    identity: canon.keyIndexes.length > 0 ? canon.keyIndexes : pairs.map((_p, i) => i),
    intKey,
    rangeKey,
    orderFree: keyPairs.length === 0,
    jobRange: input.range ? { from: input.range.from, to: input.range.to } : null,
    mysql: {
      from: quoteMysql(sourceTable.name),
      list: pairs.map((p) => selectExpression(p.source)).join(', '),
      order: mysqlOrder,
      where: keyList ? (input.where ? `(${input.where}) AND ${keyList.mysql}` : keyList.mysql) : input.where,
    },
    pg: {
      from: `${qualifyPg(input.targetSchema, targetTable.name)} AS ${PG_ALIAS}`,
      order: pgOrder,
      ...(keyList ? { where: keyList.pg } : {}),
    },
  };
}

/** The key a job range is on, when every column of it is compared: see CheckedTable.rangeKey. */
function rangeKeyOf(
  sourceTable: SourceTable,
  pairs: readonly ColumnMatch[],
  intKey: IntegerKey | null,
): CheckedTable['rangeKey'] {
  if (intKey)
    return {
      parts: [{ name: intKey.source.name, kind: intKey.source.unsigned ? 'unsigned' : 'signed' }],
      pg: [intKey.pg],
    };
  const parts = keyPartsOf(sourceTable);
  const targets = parts?.map((part) => pairs.find((p) => p.source.name === part.name)?.target.name);
  if (!parts || !targets || targets.some((t) => t === undefined)) return null;
  return { parts, pg: targets.map((t) => `${PG_ALIAS}.${quotePg(t!)}`) };
}

/**
 * The rows of a key list on each side: `(k1, k2) IN (…)` with each value as PostgreSQL prints it,
 * read by MySQL as a literal of the column (bytea's hex as bytes, booleans as 1/0) and by
 * PostgreSQL cast to the column's type.
 */
function keyListConditions(
  table: string,
  pairs: readonly ColumnMatch[],
  keys: NonNullable<ChecksumInput['keys']>,
): { mysql: string; pg: string } {
  const columns = keys.columns.map((name) => {
    const pair = pairs.find((p) => p.source.name === name);
    if (!pair) throw new PermanentError(`table ${table}: key column ${name} is not compared`, { table });
    return pair;
  });
  const mysqlValue = (text: string | null, p: ColumnMatch): string =>
    text === null
      ? 'NULL'
      : p.target.typeName === 'bytea' && /^\\x[0-9a-f]*$/i.test(text)
        ? `X'${text.slice(2)}'`
        : p.target.typeName === 'bool'
          ? text === 't' || text === 'true'
            ? '1'
            : '0'
          : escapeMysql(text);
  const pgValue = (text: string | null, p: ColumnMatch): string =>
    text === null ? 'NULL' : `'${text.replace(/'/g, "''")}'::${p.target.formattedType}`;
  const tuple = (values: readonly (string | null)[], literal: (t: string | null, p: ColumnMatch) => string): string =>
    columns.length === 1
      ? literal(values[0] ?? null, columns[0]!)
      : `(${columns.map((p, i) => literal(values[i] ?? null, p)).join(', ')})`;
  const list = (literal: (t: string | null, p: ColumnMatch) => string): string =>
    keys.values.length === 0 ? 'NULL' : keys.values.map((v) => tuple(v, literal)).join(', ');
  const mysqlColumns = columns.map((p) => quoteMysql(p.source.name));
  const pgColumns = columns.map((p) => `${PG_ALIAS}.${quotePg(p.target.name)}`);
  const lhs = (names: string[]): string => (names.length === 1 ? names[0]! : `(${names.join(', ')})`);
  return {
    mysql: `${lhs(mysqlColumns)} IN (${list(mysqlValue)})`,
    pg: `${lhs(pgColumns)} IN (${list(pgValue)})`,
  };
}
