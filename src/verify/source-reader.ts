import type { DataSource } from 'typeorm';
import type { KeyRange } from '../core/key-range.js';
import { gateReads, type ReadGate } from '../core/read-gate.js';
import {
  prepareSourceSession,
  withMysqlConnection,
  type MysqlConnection,
  type SourceValue,
} from '../dialect/mysql/connection.js';
import { mysqlWhere } from '../dialect/mysql/condition.js';
import { mysqlKeyRangeConditions } from '../dialect/mysql/key-range.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { queryRawRows, splitRawRow, type RawField, type RawRowQuery } from '../dialect/mysql/raw-rows.js';
import type { CheckedTable } from './checked-table.js';
import type { RowBounds } from './row-hashers.js';

/** Which MySQL rows to read: conditions with their bound values (the table's `where` is added to them), maybe a LIMIT. */
export interface MysqlFilter {
  conditions: string[];
  values: unknown[];
  limit?: string;
}

/** A MySQL row as it arrives: its packet, each field's bounds in it (end -1: NULL), the result's fields, the payload's bounds. */
export type MysqlRowHandler = (
  buffer: Buffer,
  starts: Int32Array,
  ends: Int32Array,
  fields: readonly RawField[],
  row: RowBounds,
) => void;

/** The MySQL rows of a key range (every row when the table has no range key: its range is whole). */
export function mysqlRangeFilter(table: CheckedTable, range: KeyRange): MysqlFilter {
  if (!table.rangeKey) return { conditions: [], values: [] };
  return mysqlKeyRangeConditions(table.rangeKey.parts, range);
}

/** The MySQL row with this primary key (key values as read), if it is still there. */
export function mysqlKeyFilter(table: CheckedTable, key: readonly SourceValue[]): MysqlFilter {
  const conditions = table.canon.keyIndexes.map((i) => `${quoteMysql(table.pairs[i]!.source.name)} <=> ?`);
  return { conditions, values: [...key], limit: ' LIMIT 1' };
}

/**
 * Reads MySQL rows of the table in key order (only those matching the run's `where` of the table), every paired column as MySQL prints it, on a
 * connection of their own. Rows are handled as they arrive: the socket is read only as fast as
 * `onRow` runs, and nothing is held. With `snapshot`, on that connection instead (inside its transaction).
 * A `gate` may pause the reading (the query and its read view stay open meanwhile).
 */
export async function readMysqlRows(
  source: DataSource,
  table: CheckedTable,
  filter: MysqlFilter,
  onRow: MysqlRowHandler,
  snapshot?: MysqlConnection,
  gate?: ReadGate,
): Promise<void> {
  const read = async (m: MysqlConnection): Promise<void> => {
    await prepareSourceSession(m);
    const { mysql, width } = table;
    const sql = `SELECT ${mysql.list} FROM ${mysql.from}${mysqlWhere(filter.conditions, mysql.where)}${mysql.order ? ` ORDER BY ${mysql.order}` : ''}${filter.limit ?? ''}`;
    const starts = new Int32Array(width);
    const ends = new Int32Array(width);
    let fields: RawField[] = [];
    const row = { start: 0, end: 0 };
    let query: RawRowQuery | undefined;
    const check = gateReads(
      gate,
      () => query?.pause(),
      () => query?.resume(),
    );
    query = queryRawRows(m, sql, filter.values, {
      onFields: (f) => {
        fields = f;
      },
      onRow: (buffer, start, end) => {
        splitRawRow(buffer, start, width, starts, ends);
        row.start = start;
        row.end = end;
        onRow(buffer, starts, ends, fields, row);
        check();
      },
    });
    try {
      await query.done;
    } finally {
      // Paused on the last packets (a gate closed as the query ended), the connection would go back to the pool paused.
      query.resume();
    }
  };
  // A snapshot's connection is the caller's: its transaction is what the rows are read in.
  await (snapshot ? read(snapshot) : withMysqlConnection(source, read));
}
