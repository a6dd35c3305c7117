import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection } from '../../dialect/mysql/connection.js';

/** A parameter of a stored function or procedure. */
interface SourceParameter {
  name: string;
  mode: 'IN' | 'OUT' | 'INOUT';
  /** DTD_IDENTIFIER: `int(11)`, `decimal(5,2)`. */
  type: string;
}

/** A stored function or procedure, as information_schema.ROUTINES and PARAMETERS describe it. */
export interface SourceRoutine {
  kind: 'function' | 'procedure';
  name: string;
  parameters: SourceParameter[];
  /** A function's return type (DTD_IDENTIFIER), else null. */
  returns: string | null;
  /** ROUTINE_DEFINITION: the body, as written. */
  body: string;
  deterministic: boolean;
  /** `CONTAINS SQL`, `NO SQL`, `READS SQL DATA`, `MODIFIES SQL DATA`. */
  dataAccess: string;
  sqlMode: string;
}

/** A trigger, as information_schema.TRIGGERS describes it. */
export interface SourceTrigger {
  name: string;
  table: string;
  timing: 'BEFORE' | 'AFTER';
  event: 'INSERT' | 'UPDATE' | 'DELETE';
  /** ACTION_ORDER: the order MySQL fires the table's triggers of one timing and event in (FOLLOWS/PRECEDES). */
  order: number;
  body: string;
  sqlMode: string;
}

/** A scheduled event, as information_schema.EVENTS describes it. */
export interface SourceEvent {
  name: string;
  body: string;
  /** `ONE TIME` or `RECURRING`. */
  type: string;
  executeAt: string | null;
  intervalValue: string | null;
  /** `DAY`, `HOUR`, `MINUTE_SECOND`, … */
  intervalField: string | null;
  starts: string | null;
  ends: string | null;
  /** `ENABLED`, `DISABLED`, `SLAVESIDE_DISABLED`. */
  status: string;
}

/** The source's stored code. */
export interface SourceStoredCode {
  database: string;
  routines: SourceRoutine[];
  triggers: SourceTrigger[];
  events: SourceEvent[];
}

type Row = Record<string, unknown>;
const str = (v: unknown): string =>
  v === null || v === undefined
    ? ''
    : Buffer.isBuffer(v)
      ? v.toString('utf8')
      : v instanceof Date
        ? v.toISOString()
        : String(v);
const orNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));

/** Reads the stored functions, procedures, triggers and events of the source database. */
export async function readSourceStoredCode(dataSource: DataSource): Promise<SourceStoredCode> {
  return withMysqlConnection(dataSource, async (connection) => {
    const head = await queryMysql<Row[]>(connection, 'SELECT DATABASE() AS db');
    const routineRows = await queryMysql<Row[]>(
      connection,
      `SELECT ROUTINE_TYPE AS kind, ROUTINE_NAME AS name, SPECIFIC_NAME AS spec, DTD_IDENTIFIER AS rtype, ROUTINE_DEFINITION AS body,
              IS_DETERMINISTIC AS det, SQL_DATA_ACCESS AS dacc, SQL_MODE AS smode
         FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME`,
    );
    const parameterRows = await queryMysql<Row[]>(
      connection,
      `SELECT SPECIFIC_NAME AS spec, PARAMETER_MODE AS pmode, PARAMETER_NAME AS name, DTD_IDENTIFIER AS ptype
         FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = DATABASE() AND ORDINAL_POSITION > 0
        ORDER BY SPECIFIC_NAME, ORDINAL_POSITION`,
    );
    const triggerRows = await queryMysql<Row[]>(
      connection,
      `SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl, ACTION_TIMING AS timing, EVENT_MANIPULATION AS event,
              ACTION_ORDER AS ord, ACTION_STATEMENT AS body, SQL_MODE AS smode
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER`,
    );
    const eventRows = await queryMysql<Row[]>(
      connection,
      `SELECT EVENT_NAME AS name, EVENT_DEFINITION AS body, EVENT_TYPE AS ptype, EXECUTE_AT AS exat, INTERVAL_VALUE AS iv,
              INTERVAL_FIELD AS field, STARTS AS starts, ENDS AS ends, STATUS AS status
         FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME`,
    );
    return {
      database: str(head[0]?.db),
      routines: routineRows.map((r) => ({
        kind: str(r.kind).toUpperCase() === 'FUNCTION' ? ('function' as const) : ('procedure' as const),
        name: str(r.name),
        parameters: parameterRows
          .filter((p) => str(p.spec) === str(r.spec))
          .map((p) => ({
            name: str(p.name),
            mode: (str(p.pmode).toUpperCase() || 'IN') as SourceParameter['mode'],
            type: str(p.ptype),
          })),
        returns: str(r.kind).toUpperCase() === 'FUNCTION' ? str(r.rtype) : null,
        body: str(r.body),
        deterministic: str(r.det).toUpperCase() === 'YES',
        dataAccess: str(r.dacc).toUpperCase(),
        sqlMode: str(r.smode),
      })),
      triggers: triggerRows.map((t) => ({
        name: str(t.name),
        table: str(t.tbl),
        timing: str(t.timing).toUpperCase() as SourceTrigger['timing'],
        event: str(t.event).toUpperCase() as SourceTrigger['event'],
        order: Number(t.ord ?? 1),
        body: str(t.body),
        sqlMode: str(t.smode),
      })),
      events: eventRows.map((e) => ({
        name: str(e.name),
        body: str(e.body),
        type: str(e.ptype),
        executeAt: orNull(e.exat),
        intervalValue: orNull(e.iv),
        intervalField: orNull(e.field),
        starts: orNull(e.starts),
        ends: orNull(e.ends),
        status: str(e.status),
      })),
    };
  });
}
