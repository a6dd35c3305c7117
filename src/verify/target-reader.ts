import type { DataSource } from 'typeorm';
import type { KeyRange } from '../core/key-range.js';
import type { ReadGate } from '../core/read-gate.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginTransaction, READING_SETTINGS } from '../dialect/postgres/transaction.js';
import { pgKeyRangeConditions } from '../dialect/postgres/key-range.js';
import { readPgBinaryRows } from '../dialect/postgres/read-copy-binary.js';
import type { CheckedTable } from './checked-table.js';

/** A PostgreSQL row as it arrives (COPY binary): its buffer and each field's bounds (end -1: NULL). */
export type PgRowHandler = (buffer: Buffer, starts: Int32Array, ends: Int32Array) => void;

/**
 * Reads the PostgreSQL rows of a key range in key order, as `list` prints them (COPY binary), in
 * a read-only snapshot whose session prints values as verification expects: UTC, ISO dates,
 * intervals in PostgreSQL's style, floats exactly, bytea in hex. With `snapshot` (pg_export_snapshot's
 * id), in that snapshot. A `gate` may pause the reading (the snapshot stays open meanwhile).
 */
export async function readPgRows(
  target: DataSource,
  table: CheckedTable,
  list: readonly string[],
  range: KeyRange,
  onRow: PgRowHandler,
  snapshot?: string,
  gate?: ReadGate,
): Promise<void> {
  await withPgClient(target, async (client) => {
    // An exported snapshot is imported first thing (before any query of the transaction).
    await beginTransaction(client, {
      repeatableRead: true,
      readOnly: true,
      ...(snapshot ? { snapshot } : {}),
      settings: READING_SETTINGS,
    });
    const { pg } = table;
    const conditions = table.rangeKey ? pgKeyRangeConditions(table.rangeKey.pg, table.rangeKey.parts, range) : [];
    if (pg.where) conditions.push(pg.where);
    const sql = `SELECT ${list.join(', ')} FROM ${pg.from}${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''}${pg.order ? ` ORDER BY ${pg.order}` : ''}`;
    await readPgBinaryRows(client, sql, list.length, onRow, gate);
    await client.query('COMMIT');
  });
}
