import type { DataSource } from 'typeorm';
import { qualifyPg, quotePg } from '../db/quote.js';

/** A sequence set so the next id continues after the source. */
export interface SequenceReset {
  table: string;
  column: string;
  sequence: string;
  /** The value nextval() returns next. */
  nextValue: string;
}

/** max(a, b) of decimal strings, as BigInt. */
function maxBig(...values: (string | null | undefined)[]): bigint {
  let best = 1n;
  for (const v of values) {
    if (v === null || v === undefined || v === '') continue;
    const n = BigInt(v);
    if (n > best) best = n;
  }
  return best;
}

/**
 * Sets every serial/identity sequence of the given tables so that the next id equals MySQL's
 * next AUTO_INCREMENT, and never falls below max(column) + 1.
 */
export async function resetSequences(
  target: DataSource,
  schema: string,
  tables: readonly { targetTable: string; autoIncrementColumn: string | null; nextAutoIncrement: string | null }[],
): Promise<SequenceReset[]> {
  const results: SequenceReset[] = [];
  for (const table of tables) {
    const qualified = qualifyPg(schema, table.targetTable);
    const columns: { column: string; sequence: string }[] = await target.query(
      `SELECT a.attname AS column, pg_get_serial_sequence($1, a.attname) AS sequence
         FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
          AND pg_get_serial_sequence($1, a.attname) IS NOT NULL`,
      [qualified],
    );
    for (const { column, sequence } of columns) {
      const rows: { max: string | null }[] = await target.query(`SELECT max(${quotePg(column)})::text AS max FROM ${qualified}`);
      const max = rows[0]?.max ?? null;
      const afterMax = max === null ? null : (BigInt(max) + 1n).toString();
      const fromSource = table.autoIncrementColumn !== null && table.autoIncrementColumn.toLowerCase() === column.toLowerCase() ? table.nextAutoIncrement : null;
      const next = maxBig(afterMax, fromSource).toString();
      await target.query('SELECT setval($1::regclass, $2::bigint, false)', [sequence, next]);
      results.push({ table: table.targetTable, column, sequence, nextValue: next });
    }
  }
  return results;
}
