import type { DataSource } from 'typeorm';
import { mysqlWhere } from './condition.js';
import { prepareSourceSession, queryMysql, withMysqlConnection, type MysqlConnection } from './connection.js';
import { quoteMysql } from './quote.js';
import { zeroDateSql } from './value-probes.js';
import { readPartitioning } from './partitions.js';
import type { SourceCatalog, SourceColumn, SourceTable } from './source-catalog.js';
import { addForeignKeys, addIndexes, type Row, sourceColumnOf, str, strOrNull } from './catalog-rows.js';

export type { SourceCatalog, SourceColumn, SourceForeignKey, SourceIndex, SourceTable } from './source-catalog.js';

/**
 * Reads every base table of the source database from information_schema. One connection,
 * so MySQL 8's statistics cache can be switched off for the AUTO_INCREMENT values.
 */
export async function readSourceCatalog(dataSource: DataSource, only?: readonly string[]): Promise<SourceCatalog> {
  return withMysqlConnection(dataSource, async (connection) => {
    // MySQL 8 caches TABLES.AUTO_INCREMENT for a day by default; MariaDB has no such variable.
    await queryMysql(connection, 'SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
    const head = await queryMysql<Row[]>(connection, 'SELECT DATABASE() AS db, VERSION() AS version');
    const database = str(head[0]?.db);
    const version = str(head[0]?.version);
    const serverVersion = /mariadb/i.test(version) ? `MariaDB ${version.replace(/-.*$/, '')}` : `MySQL ${version}`;
    if (only && only.length === 0)
      return { database, serverVersion, tables: [], views: [], triggers: [], routines: [] };
    const filter = only ? ' AND TABLE_NAME IN (?)' : '';
    const args = (): unknown[] => (only ? [database, [...only]] : [database]);

    const tableRows = await queryMysql<Row[]>(
      connection,
      `SELECT TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS est, DATA_LENGTH AS bytes, AUTO_INCREMENT AS ai, TABLE_COMMENT AS comment
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?${filter} ORDER BY TABLE_NAME`,
      args(),
    );
    const columnRows = await queryMysql<Row[]>(
      connection,
      `SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType,
              IS_NULLABLE AS nullable, COLUMN_DEFAULT AS def, EXTRA AS extra, CHARACTER_SET_NAME AS charset,
              CHARACTER_MAXIMUM_LENGTH AS maxLength, NUMERIC_PRECISION AS numPrecision, NUMERIC_SCALE AS numScale,
              DATETIME_PRECISION AS dtPrecision, COLUMN_COMMENT AS comment, COLUMN_KEY AS colKey
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?${filter} ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      args(),
    );
    const indexRows = await queryMysql<Row[]>(
      connection,
      `SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS nonUnique, SEQ_IN_INDEX AS seq,
              COLUMN_NAME AS col, SUB_PART AS subPart, INDEX_TYPE AS kind
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ?${filter} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      args(),
    );
    const fkRows = await queryMysql<Row[]>(
      connection,
      `SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS refTable,
              k.REFERENCED_COLUMN_NAME AS refCol, r.DELETE_RULE AS onDelete, r.UPDATE_RULE AS onUpdate
         FROM information_schema.KEY_COLUMN_USAGE k
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
        WHERE k.TABLE_SCHEMA = ?${only ? ' AND k.TABLE_NAME IN (?)' : ''} AND k.REFERENCED_TABLE_NAME IS NOT NULL
        ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
      args(),
    );

    // MariaDB's JSON is LONGTEXT with a json_valid() check; that check is how it is recognised.
    const jsonRows = await queryMysql<Row[]>(
      connection,
      `SELECT TABLE_NAME AS tbl, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?${filter}`,
      args(),
    ).catch(() => [] as Row[]);
    const jsonColumns = new Set<string>();
    for (const row of jsonRows) {
      const match = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(str(row.clause).trim());
      if (match?.[1]) jsonColumns.add(`${str(row.tbl)}\u0000${match[1].replace(/``/g, '`')}`);
    }
    const triggerRows = await queryMysql<Row[]>(
      connection,
      `SELECT EVENT_OBJECT_TABLE AS tbl, TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?${only ? ' AND EVENT_OBJECT_TABLE IN (?)' : ''} ORDER BY 1, 2`,
      args(),
    ).catch(() => [] as Row[]);
    const routineRows = only
      ? []
      : await queryMysql<Row[]>(
          connection,
          'SELECT ROUTINE_TYPE AS kind, ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1, 2',
          [database],
        ).catch(() => [] as Row[]);

    const tables = new Map<string, SourceTable>();
    const views: string[] = [];
    for (const row of tableRows) {
      const type = str(row.type);
      if (type === 'VIEW') {
        views.push(str(row.name));
        continue;
      }
      if (type !== 'BASE TABLE' && type !== 'SYSTEM VERSIONED') continue;
      tables.set(str(row.name), {
        name: str(row.name),
        columns: [],
        primaryKey: [],
        indexes: [],
        foreignKeys: [],
        autoIncrement: strOrNull(row.ai),
        estimatedRows: Number(row.est ?? 0),
        dataBytes: Number(row.bytes ?? 0),
        comment: str(row.comment),
      });
    }
    for (const row of columnRows) {
      const table = tables.get(str(row.tbl));
      if (table) table.columns.push(sourceColumnOf(row, jsonColumns.has(`${table.name}\u0000${str(row.name)}`)));
    }
    addIndexes(tables, indexRows);
    addForeignKeys(tables, fkRows);
    for (const [name, partitioning] of await readPartitioning(connection, database, only)) {
      const table = tables.get(name);
      if (table) table.partitioning = partitioning;
    }
    return {
      database,
      serverVersion,
      tables: [...tables.values()],
      views,
      triggers: triggerRows.map((r) => `${str(r.tbl)}.${str(r.name)}`),
      routines: routineRows.map((r) => `${str(r.kind)} ${str(r.name)}`),
    };
  });
}

/**
 * The SELECT expression that reads a column without loss. MySQL's text protocol prints FLOAT
 * with about six significant digits (3.40282e38); widened to DOUBLE it prints every digit of
 * the same value, which PostgreSQL's real parses back to the identical bits.
 */
export function selectExpression(column: SourceColumn): string {
  if (column.dataType === 'float') return `CAST(${quoteMysql(column.name)} AS DOUBLE)`;
  return quoteMysql(column.name);
}

/**
 * NOT NULL date columns of a table that hold zero dates ('0000-00-00', '2024-00-10'). Those
 * values land as NULL, so the created column must allow NULL. One scan of the table (of its rows
 * matching `condition`, the run's `where`: only those are copied).
 */
export async function findZeroDateColumns(
  dataSource: DataSource,
  table: SourceTable,
  condition?: string,
): Promise<string[]> {
  const candidates = table.columns.filter(
    (c) => !c.nullable && !c.generated && ['date', 'datetime', 'timestamp'].includes(c.dataType),
  );
  if (candidates.length === 0) return [];
  return withMysqlConnection(dataSource, async (connection) => {
    const probes = candidates.map((c, i) => `MAX(${zeroDateSql(quoteMysql(c.name))}) AS z${i}`);
    // The copy's session (UTC): a condition's literals are compared as the copy compares them.
    if (condition !== undefined) await prepareSourceSession(connection);
    const rows = await queryMysql<Row[]>(
      connection,
      `SELECT ${probes.join(', ')} FROM ${quoteMysql(table.name)}${mysqlWhere([], condition)}`,
    );
    const row = rows[0] ?? {};
    return candidates.filter((_c, i) => Number(row[`z${i}`] ?? 0) === 1).map((c) => c.name);
  });
}

/** Exact row count of one source table (of its rows matching `condition`, a run's `where`, when given). */
export async function countSourceRows(connection: MysqlConnection, table: string, condition?: string): Promise<number> {
  const rows = await queryMysql<Row[]>(
    connection,
    `SELECT COUNT(*) AS n FROM ${quoteMysql(table)}${mysqlWhere([], condition)}`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** The databases the source server shows this user (information_schema, system ones included). */
export async function listSourceDatabases(dataSource: DataSource): Promise<string[]> {
  return withMysqlConnection(dataSource, async (connection) => {
    const rows = await queryMysql<Row[]>(
      connection,
      'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME',
    );
    return rows.map((row) => str(row.name));
  });
}
