import type { DataSource } from 'typeorm';
import { TEXT_TYPES } from '../vocabulary/type-families.js';
import { queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { nulCharacterSql } from '../dialect/mysql/value-probes.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';

/** `--nul`: what the copy does with a NUL character (U+0000) in text, which PostgreSQL text cannot hold. */
export type NulPolicy = 'reject' | 'strip' | 'bytea';
export const DEFAULT_NUL_POLICY: NulPolicy = 'reject';

/**
 * Text columns of a table that hold a NUL character somewhere (for `--nul bytea`, which
 * creates those columns as bytea). One scan of the table. Each value is compared as UTF-8
 * bytes, where a 0 byte is exactly the NUL character, whatever the column's charset.
 */
export async function findNulColumns(
  dataSource: DataSource,
  table: SourceTable,
  only?: readonly string[],
): Promise<string[]> {
  const candidates = table.columns.filter(
    (c) => TEXT_TYPES.has(c.dataType) && !c.generated && (only === undefined || only.includes(c.name)),
  );
  if (candidates.length === 0) return [];
  return withMysqlConnection(dataSource, async (connection) => {
    const probes = candidates.map((c, i) => `MAX(${nulCharacterSql(quoteMysql(c.name))}) AS n${i}`);
    const rows = await queryMysql<Record<string, unknown>[]>(
      connection,
      `SELECT ${probes.join(', ')} FROM ${quoteMysql(table.name)}`,
    );
    const row = rows[0] ?? {};
    return candidates.filter((_c, i) => Number(row[`n${i}`] ?? 0) === 1).map((c) => c.name);
  });
}
