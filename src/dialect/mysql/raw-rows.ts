import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { currentWatchdog } from '../../core/watchdog.js';
import { isPaused, type MysqlConnection } from './connection.js';
import type { RawField } from './raw-fields.js';

// The verification and the follower read the fields through this module too.
export {
  BINARY_CHARSET,
  decodeRawField,
  decodeRawRow,
  splitRawRow,
  ZeroBytes,
  type RawField,
} from './raw-fields.js';

/**
 * Rows of a MySQL query as the bytes the server sent (text protocol), without mysql2 parsing
 * them into JavaScript values. The copy and the verification read most columns as bytes and
 * write or hash them as they are: no string per value, and a value of any size is handled
 * where it lies in the packet, never copied into a JavaScript string unless a column needs it.
 */

/** Receives each row: the packet buffer and the payload's bounds (fields start at `start`). */
type RawRowHandler = (buffer: Buffer, start: number, end: number) => void;

/** What a raw query calls, synchronously, as the packets arrive. */
export interface RawRowHandlers {
  /** The result set's columns, before the first row. */
  onFields?(fields: RawField[]): void;
  onRow: RawRowHandler;
}

/** A running raw query. */
export interface RawRowQuery {
  /** Resolves when every row was handled; rejects on a server, connection or handler error. */
  done: Promise<void>;
  /** Stops reading the socket (backpressure); rows already received wait. */
  pause(): void;
  resume(): void;
}

interface QueryCommand {
  row(packet: { buffer: Buffer; offset: number; end: number; isEOF(): boolean }, connection: unknown): unknown;
  on(event: string, listener: (...args: unknown[]) => void): void;
}
type QueryClass = new (options: { sql: string; rowsAsArray?: boolean }) => QueryCommand;

// mysql2 hands rows only as parsed values; its Query command is extended here so each row
// packet reaches the handler as it is. Loaded by path: the package exports only its entry.
let rawQueryClass: (new (sql: string, onRow: RawRowHandler) => QueryCommand) | undefined;
function rawQuery(): new (sql: string, onRow: RawRowHandler) => QueryCommand {
  if (rawQueryClass) return rawQueryClass;
  const require = createRequire(import.meta.url);
  const Query = require(join(dirname(require.resolve('mysql2')), 'lib', 'commands', 'query.js')) as QueryClass;
  if (typeof Query?.prototype?.row !== 'function')
    throw new Error(
      'this mysql2 version has no Query.row to read raw rows from; install the version in package-lock.json',
    );
  class RawRowsQuery extends Query {
    constructor(
      sql: string,
      private readonly onRawRow: RawRowHandler,
    ) {
      super({ sql, rowsAsArray: true });
    }
    override row(
      packet: { buffer: Buffer; offset: number; end: number; isEOF(): boolean },
      connection: unknown,
    ): unknown {
      if (packet.isEOF()) return super.row(packet, connection);
      this.onRawRow(packet.buffer, packet.offset, packet.end);
      return this.row;
    }
  }
  rawQueryClass = RawRowsQuery;
  return RawRowsQuery;
}

/**
 * Runs a query and hands every row to `onRow` as raw bytes, synchronously, as the packets
 * arrive. A handler may call `pause()` to stop the socket until `resume()`. An error thrown by
 * a handler ends the query with that error (the caller should then destroy the connection,
 * which is what withMysqlConnection does on error).
 */
export function queryRawRows(
  connection: MysqlConnection,
  sql: string,
  values: unknown[],
  handlers: RawRowHandlers,
): RawRowQuery {
  const { onRow, onFields } = handlers;
  const RawRowsQuery = rawQuery();
  let failure: unknown;
  let settle: { resolve(): void; reject(error: unknown): void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  /** The command is over (its last packet handled, or it failed): pausing now would outlive it. */
  let over = false;
  const fail = (error: unknown): void => {
    if (failure !== undefined) return;
    failure = error;
    over = true;
    settle!.reject(error);
  };
  // Rows arrive in the socket's callbacks, outside the job's context: the watchdog is taken here.
  const watchdog = currentWatchdog();
  const command = new RawRowsQuery(connection.format(sql, values), (buffer, start, end) => {
    if (failure !== undefined) return;
    watchdog?.moved();
    try {
      onRow(buffer, start, end);
    } catch (error) {
      fail(error);
    }
  });
  command.on('fields', (list) => {
    watchdog?.moved();
    const described = (list as { name: string; columnType: number; characterSet: number; encoding: string }[]).map(
      (f) => ({
        name: f.name,
        columnType: f.columnType,
        characterSet: f.characterSet,
        encoding: f.encoding,
      }),
    );
    try {
      onFields?.(described);
    } catch (error) {
      fail(error);
    }
  });
  command.on('error', (error) => fail(error));
  command.on('end', () => {
    over = true;
    if (failure === undefined) settle!.resolve();
    connection.removeListener('error', onConnectionError);
  });
  // A command without a callback never hears that its connection died (KILL, network):
  // mysql2 reports that on the connection only.
  const onConnectionError = (error: Error): void => fail(error);
  connection.on('error', onConnectionError);
  done.catch(() => connection.removeListener('error', onConnectionError));
  (connection as unknown as { addCommand(cmd: unknown): void }).addCommand(command);
  // A connection paused after its query ended goes back to the pool paused, and mysql2 queues
  // every later command on it unsent (the hang of issue 21): pausing an ended query does nothing.
  return {
    done,
    pause: () => {
      if (!over) connection.pause();
    },
    resume: () => {
      if (isPaused(connection)) connection.resume();
    },
  };
}
