import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection, type MysqlConnection } from '../../dialect/mysql/connection.js';
import { readSourceStoredCode, type SourceStoredCode } from '../stored/source-stored-code.js';

/** A generated column's expression, as the server stores it (MySQL 8 and MariaDB print it differently). */
export interface SourceGeneratedColumn {
  table: string;
  column: string;
  /** information_schema.COLUMNS.GENERATION_EXPRESSION. */
  expression: string;
  kind: 'stored' | 'virtual';
}

/** A CHECK constraint of the source. */
export interface SourceCheck {
  table: string;
  name: string;
  /** CHECK_CLAUSE as the server prints it. */
  clause: string;
  /** MySQL 8 keeps NOT ENFORCED checks, which constrain nothing. */
  enforced: boolean;
}

/** One column of a source view, as information_schema describes it (what verification needs). */
export interface SourceViewColumn {
  name: string;
  dataType: string;
  columnType: string;
  numericPrecision: number | null;
  numericScale: number | null;
  datetimePrecision: number | null;
  charset: string | null;
}

/** A source view: its stored definition and columns. */
export interface SourceView {
  name: string;
  /** information_schema.VIEWS.VIEW_DEFINITION: the SELECT as the server stores it. */
  definition: string;
  /** `NONE`, `LOCAL` or `CASCADED`. */
  checkOption: string;
  columns: SourceViewColumn[];
}

/** A source object my2pg lists but does not migrate. */
interface SourceRoutine {
  kind: 'trigger' | 'procedure' | 'function' | 'event';
  /** `table.trigger` for a trigger, else the name. */
  name: string;
}

/** The objects besides tables that my2pg translates (or lists). */
export interface SourceObjects {
  database: string;
  generated: SourceGeneratedColumn[];
  checks: SourceCheck[];
  views: SourceView[];
  routines: SourceRoutine[];
  /** The stored functions, procedures, triggers and events, with their bodies. */
  storedCode: SourceStoredCode;
}

type Row = Record<string, unknown>;
const str = (v: unknown): string =>
  v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

async function optional(connection: MysqlConnection, sql: string, values: unknown[]): Promise<Row[] | null> {
  try {
    return await queryMysql<Row[]>(connection, sql, values);
  } catch {
    return null;
  }
}

/**
 * CHECK constraints with their tables. MariaDB names checks per table (CHECK_CONSTRAINTS has
 * TABLE_NAME); MySQL 8 per schema, with the table in TABLE_CONSTRAINTS and an ENFORCED flag.
 */
async function readChecks(connection: MysqlConnection, database: string): Promise<SourceCheck[]> {
  const mariadb = await optional(
    connection,
    'SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME',
    [database],
  );
  if (mariadb)
    return mariadb.map((r) => ({ table: str(r.tbl), name: str(r.name), clause: str(r.clause), enforced: true }));
  const mysql = await optional(
    connection,
    `SELECT tc.TABLE_NAME AS tbl, cc.CONSTRAINT_NAME AS name, cc.CHECK_CLAUSE AS clause, tc.ENFORCED AS enforced
       FROM information_schema.TABLE_CONSTRAINTS tc
       JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
      WHERE tc.TABLE_SCHEMA = ? AND tc.CONSTRAINT_TYPE = 'CHECK' ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME`,
    [database],
  );
  return (mysql ?? []).map((r) => ({
    table: str(r.tbl),
    name: str(r.name),
    clause: str(r.clause),
    enforced: str(r.enforced).toUpperCase() !== 'NO',
  }));
}

/** Reads the generated columns, CHECKs, views, triggers, routines and events of the source database. */
export async function readSourceObjects(dataSource: DataSource): Promise<SourceObjects> {
  const storedCode = await readSourceStoredCode(dataSource);
  return withMysqlConnection(dataSource, async (connection) => {
    const head = await queryMysql<Row[]>(connection, 'SELECT DATABASE() AS db');
    const database = str(head[0]?.db);
    const generatedRows = await queryMysql<Row[]>(
      connection,
      `SELECT c.TABLE_NAME AS tbl, c.COLUMN_NAME AS col, c.GENERATION_EXPRESSION AS expr, c.EXTRA AS extra
         FROM information_schema.COLUMNS c JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
        WHERE c.TABLE_SCHEMA = ? AND t.TABLE_TYPE <> 'VIEW' AND c.GENERATION_EXPRESSION IS NOT NULL AND c.GENERATION_EXPRESSION <> ''
        ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
      [database],
    );
    // MySQL 8 also fills GENERATION_EXPRESSION for expression defaults (EXTRA DEFAULT_GENERATED).
    const generated = generatedRows
      .filter((r) => /\b(virtual|stored|persistent)\b/i.test(str(r.extra)))
      .map((r) => ({
        table: str(r.tbl),
        column: str(r.col),
        expression: str(r.expr),
        kind: /virtual/i.test(str(r.extra)) ? ('virtual' as const) : ('stored' as const),
      }));
    const checks = await readChecks(connection, database);
    const viewRows = await queryMysql<Row[]>(
      connection,
      'SELECT TABLE_NAME AS name, VIEW_DEFINITION AS definition, CHECK_OPTION AS checkOption FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
      [database],
    );
    const viewColumnRows =
      viewRows.length === 0
        ? []
        : await queryMysql<Row[]>(
            connection,
            `SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_PRECISION AS p,
                    NUMERIC_SCALE AS s, DATETIME_PRECISION AS dtp, CHARACTER_SET_NAME AS charset
               FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?) ORDER BY TABLE_NAME, ORDINAL_POSITION`,
            [database, viewRows.map((v) => str(v.name))],
          );
    const views: SourceView[] = viewRows.map((v) => ({
      name: str(v.name),
      definition: str(v.definition),
      checkOption: str(v.checkOption).toUpperCase() || 'NONE',
      columns: viewColumnRows
        .filter((c) => str(c.tbl) === str(v.name))
        .map((c) => ({
          name: str(c.name),
          dataType: str(c.dataType).toLowerCase(),
          columnType: str(c.columnType).toLowerCase(),
          numericPrecision: numOrNull(c.p),
          numericScale: numOrNull(c.s),
          datetimePrecision: numOrNull(c.dtp),
          charset: c.charset === null || c.charset === undefined ? null : str(c.charset),
        })),
    }));
    const routines: SourceRoutine[] = [];
    for (const r of (await optional(
      connection,
      'SELECT EVENT_OBJECT_TABLE AS tbl, TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY 1, 2',
      [database],
    )) ?? []) {
      routines.push({ kind: 'trigger', name: `${str(r.tbl)}.${str(r.name)}` });
    }
    for (const r of (await optional(
      connection,
      'SELECT ROUTINE_TYPE AS kind, ROUTINE_NAME AS name FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY 1, 2',
      [database],
    )) ?? []) {
      routines.push({ kind: str(r.kind).toUpperCase() === 'FUNCTION' ? 'function' : 'procedure', name: str(r.name) });
    }
    for (const r of (await optional(
      connection,
      'SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY 1',
      [database],
    )) ?? []) {
      routines.push({ kind: 'event', name: str(r.name) });
    }
    return { database, generated, checks, views, routines, storedCode };
  });
}
