import type { MysqlConnection } from './connection.js';
import { queryMysql } from './connection.js';

/** One partition of a partitioned MySQL table, in MySQL's order. */
interface SourcePartition {
  name: string;
  /** PARTITION_DESCRIPTION: `10`, `MAXVALUE`, `'2020-01-01','m'`, `NULL,1,2`; null for HASH and KEY. */
  description: string | null;
}

/** How a MySQL table is partitioned (information_schema.PARTITIONS). */
export interface SourcePartitioning {
  /** `RANGE`, `RANGE COLUMNS`, `LIST`, `LIST COLUMNS`, `HASH`, `LINEAR HASH`, `KEY`, `LINEAR KEY`. */
  method: string;
  /** PARTITION_EXPRESSION as MySQL prints it: `` `id` ``, `` year(`d`) ``, `` `d`,`k` ``; empty for KEY() (the primary key). */
  expression: string;
  /** SUBPARTITION BY … was used. */
  subpartitioned: boolean;
  partitions: SourcePartition[];
}

type Row = Record<string, unknown>;

const text = (value: unknown): string =>
  value === null || value === undefined ? '' : Buffer.isBuffer(value) ? value.toString('utf8') : String(value);

/** The partitioning of every partitioned table of the current database (or of `only`), by table name. */
export async function readPartitioning(
  connection: MysqlConnection,
  database: string,
  only?: readonly string[],
): Promise<Map<string, SourcePartitioning>> {
  const rows = await queryMysql<Row[]>(
    connection,
    `SELECT TABLE_NAME AS tbl, PARTITION_NAME AS name, PARTITION_METHOD AS method, PARTITION_EXPRESSION AS expr,
            PARTITION_DESCRIPTION AS description, SUBPARTITION_METHOD AS sub
       FROM information_schema.PARTITIONS
      WHERE TABLE_SCHEMA = ? AND PARTITION_NAME IS NOT NULL${only ? ' AND TABLE_NAME IN (?)' : ''}
      ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION`,
    only ? [database, [...only]] : [database],
  ).catch(() => [] as Row[]);
  const out = new Map<string, SourcePartitioning>();
  for (const row of rows) {
    const table = text(row.tbl);
    let found = out.get(table);
    if (!found) {
      found = {
        method: text(row.method).toUpperCase(),
        expression: text(row.expr),
        subpartitioned: row.sub !== null && row.sub !== undefined,
        partitions: [],
      };
      out.set(table, found);
    }
    const name = text(row.name);
    // A subpartitioned table lists each partition once per subpartition.
    if (found.partitions.at(-1)?.name === name) continue;
    found.partitions.push({ name, description: row.description === null ? null : text(row.description) });
  }
  return out;
}
