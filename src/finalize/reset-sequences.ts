import { asServerWork } from '../core/watchdog.js';
import type { DataSource } from 'typeorm';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';

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
 * next AUTO_INCREMENT, and never falls below max(column) + 1. Three round trips whatever the
 * number of tables: the sequences, their columns' maxima, the setval calls.
 */
export async function resetSequences(
  target: DataSource,
  schema: string,
  tables: readonly { targetTable: string; autoIncrementColumn: string | null; nextAutoIncrement: string | null }[],
): Promise<SequenceReset[]> {
  if (tables.length === 0) return [];
  const byName = new Map(tables.map((t) => [t.targetTable, t]));
  const columns: { table: string; column: string; sequence: string }[] = await target.query(
    `SELECT c.relname AS table, a.attname AS column, pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE n.nspname = $1 AND c.relname = ANY($2::text[])
        AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL
      ORDER BY c.relname, a.attnum`,
    [schema, [...byName.keys()]],
  );
  // Every column's maximum in one statement (a few hundred tables per statement).
  const maxima: (string | null)[] = [];
  for (let i = 0; i < columns.length; i += 200) {
    const part = columns.slice(i, i + 200);
    const rows: { i: number; max: string | null }[] = await asServerWork(
      'reading the maximum of each sequence column in PostgreSQL',
      () =>
        target.query(
          part
            .map(
              (c, k) => `SELECT ${k} AS i, max(${quotePg(c.column)})::text AS max FROM ${qualifyPg(schema, c.table)}`,
            )
            .join(' UNION ALL '),
        ),
    );
    for (const row of rows) maxima[i + Number(row.i)] = row.max;
  }
  const results: SequenceReset[] = columns.map((c, i) => {
    const max = maxima[i] ?? null;
    const table = byName.get(c.table)!;
    const afterMax = max === null ? null : (BigInt(max) + 1n).toString();
    const fromSource =
      table.autoIncrementColumn !== null && table.autoIncrementColumn.toLowerCase() === c.column.toLowerCase()
        ? table.nextAutoIncrement
        : null;
    return {
      table: c.table,
      column: c.column,
      sequence: c.sequence,
      nextValue: maxBig(afterMax, fromSource).toString(),
    };
  });
  if (results.length > 0) {
    await target.query('SELECT setval(s::regclass, v, false) FROM unnest($1::text[], $2::bigint[]) AS x(s, v)', [
      results.map((r) => r.sequence),
      results.map((r) => r.nextValue),
    ]);
  }
  return results;
}
