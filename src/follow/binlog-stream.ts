import ZongJi from '@vlasky/zongji';
import { PermanentError, TransientError } from '../core/errors.js';
import type { FollowPosition } from '../state/follow-state.js';
import { createdTable, ddlOnFollowedTable } from './ddl-statement.js';

/** A row image as the binary log gives it (column name → value). */
export type RowImage = Record<string, unknown>;

/** What the follower hears from the binary log, in the order the source logged it. */
export type BinlogEvent =
  | { kind: 'rows'; table: string; op: 'insert' | 'delete'; rows: RowImage[]; timestamp: number }
  | { kind: 'rows'; table: string; op: 'update'; rows: { before: RowImage; after: RowImage }[]; timestamp: number }
  /** The transaction read so far committed (an XID event, or a COMMIT statement of a non-transactional engine). */
  | { kind: 'commit' }
  /** `XA END`: the rows read so far belong to this XA transaction, committed (or not) by a later XA COMMIT/ROLLBACK. */
  | { kind: 'xa-end'; xid: string }
  | { kind: 'xa-commit'; xid: string }
  | { kind: 'xa-rollback'; xid: string }
  /** A statement that changes a followed table's shape: where it ends (file, position), and the resume point before it. */
  | {
      kind: 'ddl';
      verb: string;
      table: string;
      statement: string;
      file: string;
      position: number;
      before: FollowPosition;
    };

interface ZongJiEvent {
  getEventName(): string;
  timestamp: number;
  nextPosition: number;
  tableId?: number;
  tableMap?: Record<number, { parentSchema: string; tableName: string }>;
  rows?: RowImage[];
  query?: string;
  schema?: string;
}

interface ZongJiLike {
  on(event: string, handler: (arg: never) => void): void;
  start(options: Record<string, unknown>): void;
  stop(): void;
  options: { filename?: string; position?: number };
  connection?: { pause(): void; resume(): void };
}

const XA = /^\s*XA\s+(END|COMMIT|ROLLBACK)\s+(.+?)\s*$/i;

/** An XA statement of the binary log as an event; null for any other statement. */
export function xaEventOf(query: string): BinlogEvent | null {
  const match = XA.exec(query);
  if (!match) return null;
  const verb = match[1]!.toUpperCase();
  // MariaDB logs `XA COMMIT X'…',X'…',1`; a ONE PHASE commit is logged as an ordinary transaction.
  const xid = match[2]!.replace(/\s+ONE\s+PHASE$/i, '').replace(/\s+/g, '');
  return verb === 'END'
    ? { kind: 'xa-end', xid }
    : verb === 'COMMIT'
      ? { kind: 'xa-commit', xid }
      : { kind: 'xa-rollback', xid };
}

/**
 * The binary log of one database's followed tables, read with ZongJi from a position: each
 * event normalised into a BinlogEvent. ZongJi's resume point is a transaction boundary at or
 * before the last event read; it moves with transactions of tables not followed too.
 */
export class BinlogStream {
  private readonly zongji: ZongJiLike;
  /** The resume point as it was after the previous event (ZongJi moves it before it hands an event over). */
  private previous: FollowPosition | null = null;

  constructor(
    connection: Record<string, unknown>,
    private readonly database: string,
    private readonly followed: ReadonlySet<string>,
    handlers: { onEvent: (event: BinlogEvent) => void; onError: (error: Error) => void },
  ) {
    this.zongji = new ZongJi({
      ...connection,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      jsonStrings: true,
    }) as unknown as ZongJiLike;
    this.zongji.on('error', (error: Error) => {
      const dropped = this.droppedTable(error);
      if (dropped) handlers.onEvent(dropped);
      else handlers.onError(this.describe(error));
    });
    this.zongji.on('binlog', (event: ZongJiEvent) => {
      try {
        const normalized = this.normalize(event);
        this.previous = this.resumePoint();
        if (normalized) handlers.onEvent(normalized);
      } catch (error) {
        handlers.onError(error as Error);
      }
    });
  }

  start(from: FollowPosition): void {
    this.previous = { ...from };
    this.zongji.start({
      filename: from.file,
      position: from.position,
      // A server id of its own per process: two streams with one id would cut each other off.
      serverId: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'query', 'xid'],
      includeSchema: { [this.database]: [...this.followed] },
    });
  }

  /** Where a new stream would start to read nothing twice that matters: null before the first boundary. */
  resumePoint(): FollowPosition | null {
    const { filename, position } = this.zongji.options;
    return filename && position ? { file: filename, position } : null;
  }

  /** Stops reading the socket (memory bound); resume() reads on. */
  pause(): void {
    this.zongji.connection?.pause();
  }

  resume(): void {
    this.zongji.connection?.resume();
  }

  stop(): void {
    this.zongji.stop();
  }

  /**
   * ZongJi names a row event's columns from MySQL's catalog unless the binary log describes them
   * (binlog_row_metadata=FULL): rows written before a later ALTER then cannot be read, and
   * skipping them would lose changes. Other stream errors are worth a retry.
   */
  private describe(error: Error): Error {
    const drift = /^Table (.+) schema changed between binlog event and metadata fetch/.exec(error.message);
    if (!drift) return new TransientError(`binary log stream: ${error.message}`, { cause: error });
    const at = this.previous ? ` after ${this.previous.file}:${this.previous.position}` : '';
    return new PermanentError(
      `table ${drift[1]}: rows logged${at} were written under an earlier definition than MySQL's catalog holds now (the table was altered again before the follower reached them), and the binary log does not describe their columns (binlog_row_metadata is not FULL): the follower stopped for good rather than skip them. Set binlog_row_metadata=FULL on the source (MariaDB 10.5+, MySQL 8.0.1+) and start a new run`,
      { cause: error },
    );
  }

  /**
   * Rows of a followed table that MySQL's catalog no longer has: ZongJi names a row event's
   * columns from the catalog (unless the binary log describes them) and stops with
   * `Insufficient permissions to access: db.t`. The table was dropped after these rows were
   * logged (the DROP TABLE is ahead in the binary log): the follower meets it here, at the
   * transaction boundary before the rows, as the DROP TABLE it is about to meet, and holds
   * (docs/schema-changes.md). Retrying could never read them.
   */
  private droppedTable(error: Error): BinlogEvent | null {
    const named = /^Insufficient permissions to access: (.+)$/.exec(error.message)?.[1] ?? '';
    const prefix = `${this.database}.`;
    if (!named.startsWith(prefix)) return null;
    const table = named.slice(prefix.length);
    if (!this.followed.has(table) || !this.previous) return null;
    const statement = `(rows of ${table} logged before a DROP TABLE the follower has not reached: MySQL's catalog no longer has the table (or no longer shows it to the follower's user), and the binary log does not describe their columns)`;
    return { kind: 'ddl', verb: 'DROP TABLE', table, statement, ...this.previous, before: { ...this.previous } };
  }

  /** A new table of the database (CREATE TABLE): it may join the run (see joined-table.ts). */
  private created(query: string, event: ZongJiEvent): { verb: string; table: string } | null {
    const table = createdTable(query, this.database, event.schema || null);
    return table === null || this.followed.has(table) ? null : { verb: 'CREATE TABLE', table };
  }

  private normalize(event: ZongJiEvent): BinlogEvent | null {
    const name = event.getEventName();
    if (name === 'xid') return { kind: 'commit' };
    if (name === 'query') {
      const query = event.query ?? '';
      if (/^\s*COMMIT\s*$/i.test(query)) return { kind: 'commit' };
      const xa = xaEventOf(query);
      if (xa) return xa;
      const ddl =
        ddlOnFollowedTable(query, this.database, event.schema || null, this.followed) ?? this.created(query, event);
      if (!ddl) return null;
      const file = this.zongji.options.filename ?? this.previous?.file ?? '';
      const before = this.previous ?? { file, position: event.nextPosition };
      return { kind: 'ddl', ...ddl, statement: query, file, position: event.nextPosition, before };
    }
    if (name !== 'writerows' && name !== 'updaterows' && name !== 'deleterows') return null;
    const table = event.tableMap?.[event.tableId ?? -1];
    if (!table || table.parentSchema !== this.database || !this.followed.has(table.tableName)) return null;
    const common = { table: table.tableName, timestamp: event.timestamp };
    if (name === 'updaterows') return { kind: 'rows', op: 'update', rows: (event.rows ?? []) as never, ...common };
    return { kind: 'rows', op: name === 'writerows' ? 'insert' : 'delete', rows: event.rows ?? [], ...common };
  }
}
