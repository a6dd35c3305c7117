import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { inPgTransaction } from '../dialect/postgres/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { qualifyPg } from '../dialect/postgres/quote.js';
import { ALEMBIC_TABLE } from '../vocabulary/table-selection.js';

/** The alembic revisions on both sides after the sync. */
export interface AlembicSync {
  source: string[];
  target: string[];
  created: boolean;
}

/**
 * Makes the target's `alembic_version` hold exactly the source's rows (creating the table as
 * alembic does when it is missing), in one transaction.
 */
export async function syncAlembicVersion(source: DataSource, target: DataSource, schema: string): Promise<AlembicSync> {
  const versions = await withMysqlConnection(source, async (connection) => {
    const rows = await queryMysql<{ v: string }[]>(
      connection,
      `SELECT version_num AS v FROM ${quoteMysql(ALEMBIC_TABLE)} ORDER BY version_num`,
    );
    return rows.map((r) => String(r.v));
  });
  const table = qualifyPg(schema, ALEMBIC_TABLE);
  return inPgTransaction(target, async (client) => {
    const exists = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
    const created = !exists.rows[0]?.present;
    if (created) {
      await client.query(
        `CREATE TABLE ${table} (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))`,
      );
    }
    await client.query(`DELETE FROM ${table}`);
    for (const version of versions) await client.query(`INSERT INTO ${table} (version_num) VALUES ($1)`, [version]);
    const after = await client.query<{ v: string }>(`SELECT version_num AS v FROM ${table} ORDER BY version_num`);
    return { source: versions, target: after.rows.map((r) => r.v), created };
  });
}
