import { asServerWork } from '../core/watchdog.js';
import type { DataSource } from 'typeorm';
import { prepareSourceSession, withMysqlConnection } from '../dialect/mysql/connection.js';
import { qualifyPg } from '../dialect/postgres/quote.js';
import { countSourceRows } from '../dialect/mysql/catalog.js';

/** Row counts of one table on both sides, each read independently with an exact COUNT(*) (MySQL's of the rows matching the run's `where`). */
export interface CountCheck {
  table: string;
  sourceRows: number;
  targetRows: number;
  equal: boolean;
}

export async function countBothSides(
  source: DataSource,
  target: DataSource,
  schema: string,
  table: string,
  targetTable: string,
  where?: string,
): Promise<CountCheck> {
  const [sourceRows, targetRows] = await Promise.all([
    withMysqlConnection(source, async (connection) => {
      // The session the copy read in: a condition's literals are compared in its time zone.
      await prepareSourceSession(connection);
      return asServerWork(`counting the rows of ${table} in MySQL`, () => countSourceRows(connection, table, where));
    }),
    asServerWork(`counting the rows of ${targetTable} in PostgreSQL`, () =>
      target.query(`SELECT count(*)::bigint AS n FROM ${qualifyPg(schema, targetTable)}`),
    ).then((rows: { n: string }[]) => Number(rows[0]?.n ?? 0)),
  ]);
  return { table, sourceRows, targetRows, equal: sourceRows === targetRows };
}
