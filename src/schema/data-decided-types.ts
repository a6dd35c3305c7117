import type { DataSource } from 'typeorm';
import type { SourceColumn, SourceTable } from '../dialect/mysql/catalog.js';
import { mysqlWhere } from '../dialect/mysql/condition.js';
import { queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { mapColumnType } from './type-map.js';
import type { TypeMapOptions } from './type-overrides.js';

/**
 * Types decided by the data, as foreign-key key types are (key-types.ts): MySQL has no
 * boolean, and applications store small counters in `tinyint(1)` (Moodle's `edulevel` holds
 * 0, 1 and 2). Such a column becomes boolean only when every value it holds is 0, 1 or NULL;
 * otherwise smallint, which holds every tinyint. `bit(1)` can hold nothing but 0 and 1, so it
 * is boolean without reading; `bit(n)` stays the bit string it is. An override (--type,
 * --column-type) is the operator's choice and is never second-guessed.
 */

/** What the data decided for one column of a created table. */
export interface DecidedType {
  table: string;
  column: string;
  /** The MySQL column type (`tinyint(1)`, `bit(1)`). */
  mysqlType: string;
  /** `boolean`, or `smallint` when a value other than 0 and 1 was found. */
  type: 'boolean' | 'smallint';
  /** Why, for the plan, the report and `status --json` (`data decides: value 2 found in 3 rows`). */
  reason: string;
}

/** A column whose default mapping is boolean: tinyint(1) or bit(1). */
function isBooleanLike(column: SourceColumn): boolean {
  return (
    (column.dataType === 'tinyint' && /^tinyint\(1\)/.test(column.columnType)) ||
    (column.dataType === 'bit' && /^bit(\(1\))?$/.test(column.columnType.trim()))
  );
}

/** The columns of a table whose type the data decides: boolean by default mapping, not overridden, not generated. */
function dataDecidedColumns(
  table: SourceTable,
  types: TypeMapOptions,
  only?: readonly string[] | undefined,
): SourceColumn[] {
  return table.columns.filter(
    (c) =>
      isBooleanLike(c) &&
      (only === undefined || only.includes(c.name)) &&
      mapColumnType(c, { ...types, dataTypes: undefined }, table.name).sql === 'boolean' &&
      !mapColumnType(c, { ...types, dataTypes: undefined }, table.name).overridden,
  );
}

/** The reason for a column holding `count` values other than 0 and 1, the smallest `low` and largest `high`. */
function smallintReason(count: number, low: string, high: string): string {
  const found = low === high ? `value ${low} found` : `values ${low} to ${high} found`;
  return `data decides: ${found} in ${count} row${count === 1 ? '' : 's'}`;
}

const BOOLEAN_REASON = 'data decides: every value is 0, 1 or NULL';
const BIT_REASON = 'bit(1) holds only 0 and 1';
const UNREAD_REASON = 'boolean while every value is 0, 1 or NULL (not read: --quick)';

/**
 * Decides each tinyint(1)/bit(1) column of the tables a run creates, with one aggregate query
 * per table that has tinyint(1) columns (the rows `where` keeps). `read` false (`plan --quick`)
 * reads nothing and keeps boolean, saying so.
 */
export async function decideDataTypes(
  source: DataSource,
  tables: readonly { table: SourceTable; columns?: readonly string[] | undefined; where?: string | undefined }[],
  types: TypeMapOptions,
  read: boolean,
): Promise<DecidedType[]> {
  const decided: DecidedType[] = [];
  for (const { table, columns, where } of tables) {
    const candidates = dataDecidedColumns(table, types, columns);
    const decide = (column: SourceColumn, type: DecidedType['type'], reason: string): void => {
      decided.push({ table: table.name, column: column.name, mysqlType: column.columnType, type, reason });
    };
    const tinyints = candidates.filter((c) => c.dataType === 'tinyint');
    for (const c of candidates) if (c.dataType === 'bit') decide(c, 'boolean', BIT_REASON);
    if (tinyints.length === 0) continue;
    if (!read) {
      for (const c of tinyints) decide(c, 'boolean', UNREAD_REASON);
      continue;
    }
    const probes = tinyints.flatMap((c, i) => {
      const q = quoteMysql(c.name);
      const other = `CASE WHEN ${q} NOT IN (0, 1) THEN ${q} END`;
      return [
        `COUNT(${other}) AS n${i}`,
        `CAST(MIN(${other}) AS CHAR) AS lo${i}`,
        `CAST(MAX(${other}) AS CHAR) AS hi${i}`,
      ];
    });
    const row = await withMysqlConnection(source, async (connection) => {
      const rows = await queryMysql<Record<string, unknown>[]>(
        connection,
        `SELECT ${probes.join(', ')} FROM ${quoteMysql(table.name)}${mysqlWhere([], where)}`,
      );
      return rows[0] ?? {};
    });
    tinyints.forEach((c, i) => {
      const count = Number(row[`n${i}`] ?? 0);
      if (count === 0) decide(c, 'boolean', BOOLEAN_REASON);
      else decide(c, 'smallint', smallintReason(count, String(row[`lo${i}`]), String(row[`hi${i}`])));
    });
  }
  return decided;
}

/** The decisions that change a column's type, as TypeMapOptions.dataTypes takes them (table → column → type). */
export function dataTypesOf(decided: readonly DecidedType[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const d of decided) {
    if (d.type === 'boolean') continue;
    const columns = out.get(d.table) ?? new Map<string, string>();
    columns.set(d.column, d.type);
    out.set(d.table, columns);
  }
  return out;
}
