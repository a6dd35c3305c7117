import type { DataSource } from 'typeorm';
import { TransientError } from '../../core/errors.js';
import { compareBinlogPositions } from './binlog.js';
import { prepareSourceSession, queryMysql, withMysqlConnection, type MysqlConnection } from './connection.js';

/** A read session of the source whose rows include every transaction committed up to a binary log position. */
export interface SourceSnapshot {
  connection: MysqlConnection;
  /**
   * `snapshot`: a consistent snapshot (MariaDB) whose binary log position is at or past the one
   * asked for, so plain reads see every transaction logged before it;
   * `locking`: no such position is reported (MySQL): reads must be locking reads (`lockClause`),
   * which wait for any transaction still holding the rows and then read them as committed.
   */
  kind: 'snapshot' | 'locking';
  /** What a SELECT of changed rows ends with: '' in a snapshot, ' LOCK IN SHARE MODE' for locking reads. */
  lockClause: string;
  /** `snapshot`: the binary log position the snapshot corresponds to (at or past the one asked for). */
  position?: { file: string; position: number };
}

/** How long a logged transaction may take to become visible before the read gives up (a retry follows). */
const VISIBLE_TIMEOUT_MS = 60_000;

/**
 * Runs `fn` in a read session of the source that sees every transaction whose events end at or
 * before `atLeast` in the binary log. MariaDB writes a transaction to the binary log before its
 * rows become visible to other sessions; its consistent snapshot reports the binary log
 * position it corresponds to (`binlog_snapshot_file/position`), so the snapshot is taken again
 * until that position reaches `atLeast`: the wait is for the commit itself, never a fixed delay.
 * An XA transaction's rows reach the binary log at XA PREPARE, but the follower reads them only
 * once it has read their XA COMMIT, whose position is then `atLeast`.
 */
export async function withSourceSnapshot<T>(
  source: DataSource,
  atLeast: { file: string; position: number },
  fn: (snapshot: SourceSnapshot) => Promise<T>,
): Promise<T> {
  return withMysqlConnection(source, async (connection) => {
    await prepareSourceSession(connection);
    const started = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      await queryMysql(connection, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const position = await snapshotPosition(connection);
      if (position === null) {
        // MySQL reports no snapshot position: locking reads in READ COMMITTED instead.
        await queryMysql(connection, 'COMMIT');
        await queryMysql(connection, 'SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
        await queryMysql(connection, 'START TRANSACTION');
        try {
          return await fn({ connection, kind: 'locking', lockClause: ' LOCK IN SHARE MODE' });
        } finally {
          await queryMysql(connection, 'COMMIT');
        }
      }
      if (compareBinlogPositions(position, atLeast) >= 0) {
        try {
          return await fn({ connection, kind: 'snapshot', lockClause: '', position });
        } finally {
          await queryMysql(connection, 'COMMIT');
        }
      }
      await queryMysql(connection, 'COMMIT');
      if (Date.now() - started > VISIBLE_TIMEOUT_MS)
        throw new TransientError(
          `the source's transactions logged up to ${atLeast.file}:${atLeast.position} did not become visible within ${VISIBLE_TIMEOUT_MS / 1000} s (a consistent snapshot is at ${position.file}:${position.position}); is a commit stalled on the source?`,
        );
      // The transaction is logged and its commit under way: look again shortly.
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 ** attempt)));
    }
  });
}

/** MariaDB's binary log position of this session's consistent snapshot; null where the server has none (MySQL). */
async function snapshotPosition(connection: MysqlConnection): Promise<{ file: string; position: number } | null> {
  const rows = await queryMysql<{ Variable_name: string; Value: string }[]>(
    connection,
    "SHOW SESSION STATUS WHERE Variable_name IN ('binlog_snapshot_file', 'binlog_snapshot_position')",
  );
  const value = (name: string): string | undefined => rows.find((r) => r.Variable_name.toLowerCase() === name)?.Value;
  const file = value('binlog_snapshot_file');
  const position = value('binlog_snapshot_position');
  return file && position ? { file, position: Number(position) } : null;
}
