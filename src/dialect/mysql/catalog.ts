import type { DataSource } from 'typeorm';
import { mysqlWhere } from './condition.js';
import { prepareSourceSession, queryMysql, withMysqlConnection, type MysqlConnection } from './connection.js';
import { quoteMysql } from './quote.js';
import { zeroDateSql } from './value-probes.js';
import { readPartitioning, type SourcePartitioning } from './partitions.js';

/** One column of a MySQL table, as information_schema describes it. */
export interface SourceColumn {
  name: string;
  /** DATA_TYPE, lower case: `int`, `varchar`, `enum`, … */
  dataType: string;
  /** COLUMN_TYPE, lower case: `int(10) unsigned`, `tinyint(1)`, `enum('a','b')`. */
  columnType: string;
  unsigned: boolean;
  nullable: boolean;
  /** COLUMN_DEFAULT as the server reports it (MariaDB quotes literals, MySQL does not). */
  defaultValue: string | null;
  autoIncrement: boolean;
  /** A VIRTUAL or STORED generated column. */
  generated: boolean;
  charset: string | null;
  maxLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  datetimePrecision: number | null;
  /** Labels of an ENUM or SET column. */
  enumValues: string[] | null;
  comment: string;
  /** `current_timestamp()` for `ON UPDATE CURRENT_TIMESTAMP` columns (not migrated: PostgreSQL has no such clause). */
  onUpdate?: string | null;
}

/** A secondary or unique index. */
export interface SourceIndex {
  name: string;
  unique: boolean;
  columns: string[];
  /** BTREE, HASH, FULLTEXT, SPATIAL. */
  kind: string;
  /** True when some part is a column prefix or an expression PostgreSQL cannot index as is. */
  partial: boolean;
  /** Per column: MySQL's prefix length (characters for text, bytes for binary), or null for the whole column. */
  subParts?: (number | null)[];
  /** True when some part is an expression (MySQL 8 functional key part), not a column. */
  functional?: boolean;
}

/** A foreign key of a MySQL table. */
export interface SourceForeignKey {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

/** A MySQL base table. */
export interface SourceTable {
  name: string;
  columns: SourceColumn[];
  primaryKey: string[];
  indexes: SourceIndex[];
  foreignKeys: SourceForeignKey[];
  /** Next AUTO_INCREMENT value, as a decimal string, or null. */
  autoIncrement: string | null;
  estimatedRows: number;
  /** Estimated bytes of the rows (information_schema DATA_LENGTH, off-page values included); 0 when unknown. */
  dataBytes?: number;
  comment: string;
  /** How MySQL partitions the table; absent for a plain table. */
  partitioning?: SourcePartitioning;
}

/** The schema of the source database. */
export interface SourceCatalog {
  database: string;
  /** `MariaDB 10.11.6` or `MySQL 8.0.36`. */
  serverVersion: string;
  tables: SourceTable[];
  /** Objects that are listed but not migrated. */
  views: string[];
  /** Triggers (`table.trigger`), not migrated. */
  triggers?: string[];
  /** Stored procedures and functions (`PROCEDURE name`), not migrated. */
  routines?: string[];
}

type Row = Record<string, unknown>;

function str(value: unknown): string {
  if (value === null || value === undefined) return '';
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}
function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : str(value);
}
function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Parses the labels of `enum('a','b''c')` / `set(...)`. */
function parseEnumLabels(columnType: string): string[] | null {
  const match = /^(?:enum|set)\((.*)\)$/is.exec(columnType.trim());
  if (!match?.[1]) return null;
  const body = match[1];
  const labels: string[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] !== "'") {
      i += 1;
      continue;
    }
    let label = '';
    i += 1;
    while (i < body.length) {
      const ch = body[i];
      if (ch === "'" && body[i + 1] === "'") {
        label += "'";
        i += 2;
      } else if (ch === '\\' && i + 1 < body.length) {
        label += body[i + 1];
        i += 2;
      } else if (ch === "'") {
        i += 1;
        break;
      } else {
        label += ch;
        i += 1;
      }
    }
    labels.push(label);
  }
  return labels;
}

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
      if (!table) continue;
      const columnType = str(row.columnType).toLowerCase();
      const isJson =
        jsonColumns.has(`${table.name}\u0000${str(row.name)}`) && /text$/.test(str(row.dataType).toLowerCase());
      const dataType = isJson ? 'json' : str(row.dataType).toLowerCase();
      const extra = str(row.extra).toLowerCase();
      const onUpdate = /\bon update (\S+)/.exec(extra)?.[1] ?? null;
      table.columns.push({
        name: str(row.name),
        dataType,
        columnType,
        unsigned: /\bunsigned\b/.test(columnType),
        nullable: str(row.nullable) === 'YES',
        defaultValue: strOrNull(row.def),
        autoIncrement: extra.includes('auto_increment'),
        // MySQL says VIRTUAL/STORED GENERATED, MariaDB also PERSISTENT; DEFAULT_GENERATED is only a default.
        generated: /\b(virtual|stored|persistent)\b/.test(extra),
        charset: strOrNull(row.charset),
        maxLength: numOrNull(row.maxLength),
        numericPrecision: numOrNull(row.numPrecision),
        numericScale: numOrNull(row.numScale),
        datetimePrecision: numOrNull(row.dtPrecision),
        enumValues: dataType === 'enum' || dataType === 'set' ? parseEnumLabels(str(row.columnType)) : null,
        comment: str(row.comment),
        onUpdate,
      });
    }
    const indexes = new Map<string, SourceIndex & { table: string }>();
    for (const row of indexRows) {
      const table = tables.get(str(row.tbl));
      if (!table) continue;
      const key = `${table.name}\u0000${str(row.name)}`;
      let index = indexes.get(key);
      if (!index) {
        index = {
          table: table.name,
          name: str(row.name),
          unique: Number(row.nonUnique) === 0,
          columns: [],
          kind: str(row.kind).toUpperCase(),
          partial: false,
          subParts: [],
          functional: false,
        };
        indexes.set(key, index);
      }
      if (row.col === null || row.col === undefined) {
        index.partial = true;
        index.functional = true;
      } else {
        index.columns.push(str(row.col));
        index.subParts!.push(row.subPart === null || row.subPart === undefined ? null : Number(row.subPart));
      }
      if (row.subPart !== null && row.subPart !== undefined) index.partial = true;
    }
    for (const index of indexes.values()) {
      const table = tables.get(index.table);
      if (!table) continue;
      const { table: _ignored, ...rest } = index;
      if (index.name === 'PRIMARY') table.primaryKey = [...index.columns];
      else table.indexes.push(rest);
    }
    const fks = new Map<string, SourceForeignKey & { table: string }>();
    for (const row of fkRows) {
      const key = `${str(row.tbl)}\u0000${str(row.name)}`;
      let fk = fks.get(key);
      if (!fk) {
        fk = {
          table: str(row.tbl),
          name: str(row.name),
          columns: [],
          referencedTable: str(row.refTable),
          referencedColumns: [],
          onDelete: str(row.onDelete),
          onUpdate: str(row.onUpdate),
        };
        fks.set(key, fk);
      }
      fk.columns.push(str(row.col));
      fk.referencedColumns.push(str(row.refCol));
    }
    for (const fk of fks.values()) {
      const { table: tableName, ...rest } = fk;
      tables.get(tableName)?.foreignKeys.push(rest);
    }
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
