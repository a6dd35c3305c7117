import type { DataSource } from 'typeorm';
import { RowRefused } from '../core/errors.js';
import { waitingAt } from '../core/watchdog.js';
import { prepareSourceSession, withMysqlConnection } from '../dialect/mysql/connection.js';
import { decodeRawRow } from '../dialect/mysql/raw-fields.js';
import { queryRawRows } from '../dialect/mysql/raw-rows.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { beginStatement, writerSettings } from '../dialect/postgres/transaction.js';
import { pgKeyRangeConditions } from '../dialect/postgres/key-range.js';
import { deleteRejectedRows, saveRejectedRows, type RejectedRowsOwner } from '../state/rejected-rows.js';
import { emptyAdjustments } from '../vocabulary/adjustments.js';
import { copyRowsCareful } from './careful-copy.js';
import type { CopyRowEncoder } from './copy-encoder.js';
import type { TableCopyPlan } from './copy-plan.js';
import type { CopyProgress } from './copy-progress.js';
import { copyRowsFast } from './fast-copy.js';
import type { RejectedRowCapture } from './rejected-rows.js';
import { abortableQuery, type OnSourceRow, type StartRawQuery } from './row-stream.js';

/**
 * One attempt at a table's copy, in one PostgreSQL transaction: empty the part the copy owns,
 * drop the rejected rows of its previous attempt, stream every source row into COPY, save the
 * rows rejected this time, commit. A failure rolls all of it back.
 */

/**
 * - `binary`, `text`: one COPY for every row (fast-copy.ts);
 * - `careful`: a COPY per batch, refused rows found by halving (careful-copy.ts).
 */
export type CopyMode = 'binary' | 'text' | 'careful';

/** Rejected rows a fast copy holds until it commits; beyond, it starts over careful, which saves them batch by batch. */
const MAX_HELD_REJECTED_BYTES = 8 * 1024 * 1024;

/** What a table copy keeps across its attempts; each attempt starts the counters over. */
export interface TableCopy {
  plan: TableCopyPlan;
  encoder: CopyRowEncoder;
  /** Rows streamed. */
  progress: CopyProgress;
  /** Rows rejected. */
  rejects: RejectedRowCapture;
  /** Where rejected rows are saved; null: they are only counted (a copy outside a run). */
  owner: RejectedRowsOwner | null;
  /** Aborted when the copy must stop: the source query ends, the transaction rolls back. */
  signal: AbortSignal | undefined;
}

/** Copies every row of the plan once, in this mode; nothing of it stays when it fails. */
export async function runCopyAttempt(
  source: DataSource,
  target: DataSource,
  copy: TableCopy,
  mode: CopyMode,
): Promise<void> {
  const { plan, signal } = copy;
  restartCounters(copy, mode);
  await withMysqlConnection(source, async (mysql) => {
    // The rows are read by one SELECT: InnoDB reads it from one consistent snapshot.
    waitingAt(`preparing the MySQL session that reads ${plan.table}`);
    await prepareSourceSession(mysql);
    await withPgClient(target, async (pg) => {
      waitingAt(`emptying ${plan.target} in PostgreSQL (waiting for its lock)`);
      await beginEmptyingPart(pg, plan);
      if (copy.owner) await deleteRejectedRows(pg, copy.owner);
      const startQuery: StartRawQuery = (handlers) => {
        waitingAt(`reading the rows of ${plan.table}: no row from MySQL since the SELECT was sent`);
        return abortableQuery(queryRawRows(mysql, plan.selectSql, plan.selectValues, handlers), signal, plan.table);
      };
      signal?.throwIfAborted();
      if (mode === 'careful') {
        await copyRowsCareful(
          pg,
          plan.copySql,
          startQuery,
          copy.encoder,
          plan.limits,
          countSourceRow(copy, true),
          copy.rejects,
          async () => {
            await saveHeldRejects(pg, copy);
            copy.progress.logStreamed();
          },
        );
      } else {
        await copyRowsFast(
          pg,
          plan.copySql,
          mode,
          startQuery,
          copy.encoder,
          plan.limits,
          countSourceRow(copy, false),
          () => copy.progress.logStreamed(),
        );
      }
      await saveHeldRejects(pg, copy);
      // Cancelled while the last rows went in: roll back rather than commit.
      signal?.throwIfAborted();
      waitingAt(`committing ${plan.target} in PostgreSQL`);
      await pg.query('COMMIT');
    });
  });
}

/** A new attempt reads every row again: its counts, rejected rows and adjustments start from nothing. */
function restartCounters(copy: TableCopy, mode: CopyMode): void {
  copy.encoder.useBinary(mode === 'binary');
  copy.progress.restart();
  copy.rejects.restart();
  for (const pair of copy.plan.pairs) Object.assign(pair.adjustments, emptyAdjustments());
}

/**
 * Opens the transaction and empties what the copy owns on the target: the whole table, or a
 * range job's keys (the table was emptied once by prepare) so that a retry or rerun of this
 * range alone ends exact.
 */
async function beginEmptyingPart(pg: PoolClient, plan: TableCopyPlan): Promise<void> {
  // my2pg.writer: a --follow run's guard triggers tell a copy's writes from an application's (see write-guard.ts).
  const begin = beginStatement({ settings: writerSettings('copy') });
  if (plan.targetRange) {
    await pg.query(begin);
    const { keys, parts, range } = plan.targetRange;
    const bounds = pgKeyRangeConditions(keys, parts, range);
    await pg.query(
      `DELETE FROM ${plan.only}${plan.target}${bounds.length > 0 ? ` WHERE ${bounds.join(' AND ')}` : ''}`,
    );
  } else {
    await pg.query(`${begin}; TRUNCATE TABLE ${plan.only}${plan.target}`);
  }
}

/** Counts each source row and captures the ones a converter refused. */
function countSourceRow(copy: TableCopy, careful: boolean): OnSourceRow {
  return (buffer, start, _end, refusal) => {
    copy.progress.streamed += 1;
    if (refusal === null) return;
    copy.rejects.add(decodeRawRow(buffer, start, copy.encoder.rawFields), refusal.column, refusal.reason, null);
    // A fast copy cannot save them before it commits; past this much it starts over careful.
    if (!careful && copy.rejects.heldBytes > MAX_HELD_REJECTED_BYTES)
      throw new RowRefused(`more than ${MAX_HELD_REJECTED_BYTES >>> 20} MB of rejected rows`);
  };
}

/** Saves the rejected rows not saved yet, in the copy's transaction (a copy outside a run only counts them). */
async function saveHeldRejects(pg: PoolClient, copy: TableCopy): Promise<void> {
  const rows = copy.rejects.takeHeld();
  if (copy.owner && rows.length > 0) await saveRejectedRows(pg, copy.owner, rows);
}
