import type { DataSource } from 'typeorm';
import { quotePg } from '../dialect/postgres/quote.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { FollowEntity, STATE_SCHEMA, type FollowRow, type FollowStatus, type JsonRecord } from './entities.js';
import { addAdjustments, emptyAdjustments, type TableAdjustments } from '../vocabulary/adjustments.js';

const FOLLOW = `${quotePg(STATE_SCHEMA)}.follow`;
const RUN_TABLES = `${quotePg(STATE_SCHEMA)}.run_tables`;

/** A binary log position: file and byte offset. */
export interface FollowPosition {
  file: string;
  position: number;
}

/** Records a `--follow` run's follower at its start position (the one before any table was read), on a DataSource or in prepare's transaction (its EntityManager); a second call changes nothing. */
export async function createFollowRow(
  db: Pick<DataSource, 'query'>,
  runId: string,
  start: FollowPosition,
): Promise<void> {
  await db.query(
    `INSERT INTO ${FOLLOW} (run_id, status, binlog_file, binlog_position) VALUES ($1, 'copying', $2, $3) ON CONFLICT (run_id) DO NOTHING`,
    [runId, start.file, start.position],
  );
}

/** A run's follower, or null for a run that does not follow. */
export async function getFollow(target: DataSource, runId: string): Promise<FollowRow | null> {
  return target.getRepository(FollowEntity).findOne({ where: { runId } });
}

/** Sets the follower's status; `error` says why it stopped for good. */
export async function setFollowStatus(
  target: DataSource,
  runId: string,
  status: FollowStatus,
  error: string | null = null,
): Promise<void> {
  await target.getRepository(FollowEntity).update({ runId }, { status, error });
}

/**
 * Inside the transaction that applied a batch: where the next read starts, the events it
 * applied, the source time of the last, and the XA transactions prepared at that position.
 * Committed with the rows, so a crash resumes here. Returns the batch's number (batch_seq).
 */
export async function recordAppliedBatch(
  pg: PoolClient,
  runId: string,
  batch: { next: FollowPosition; events: number; lastEventAt: Date | null; prepared: JsonRecord },
): Promise<number> {
  const result = await pg.query<{ seq: string }>(
    `UPDATE ${FOLLOW} SET binlog_file = $2, binlog_position = $3, events_applied = events_applied + $4, last_event_at = COALESCE($5, last_event_at), applied_at = now(), prepared = $6::jsonb, batch_seq = batch_seq + 1 WHERE run_id = $1 RETURNING batch_seq AS seq`,
    [runId, batch.next.file, batch.next.position, batch.events, batch.lastEventAt, JSON.stringify(batch.prepared)],
  );
  return Number(result.rows[0]?.seq ?? 0);
}

/** A batch that began after a cutover went: nothing past the frozen position is applied any more. */
export class FollowAfterCutover extends Error {
  constructor(runId: string) {
    super(`run ${runId}: cutover went; the follower applies nothing after it`);
  }
}

/**
 * The batch the next commit will be (inside its transaction, the row locked until then). After a
 * go (cutover marks the row done under the same lock) a batch is refused: a write to MySQL after
 * the freeze (a user with SUPER, read_only notwithstanding) must not overwrite the application's
 * rows in PostgreSQL.
 */
export async function nextBatchSeq(pg: PoolClient, runId: string): Promise<number> {
  const result = await pg.query<{ seq: string; status: string }>(
    `SELECT batch_seq + 1 AS seq, status FROM ${FOLLOW} WHERE run_id = $1 FOR UPDATE`,
    [runId],
  );
  if (result.rows[0]?.status === 'done') throw new FollowAfterCutover(runId);
  return Number(result.rows[0]?.seq ?? 1);
}

/**
 * Inside a batch's transaction: adds what a policy changed in the rows the follower wrote to the
 * table's adjustments in `my2pg.run_tables`, so that the report names the table as adjusted.
 */
export async function addFollowAdjustments(
  pg: PoolClient,
  runId: string,
  table: string,
  adjustments: TableAdjustments,
): Promise<void> {
  const current = await pg.query<{ adjustments: TableAdjustments | null }>(
    `SELECT adjustments FROM ${RUN_TABLES} WHERE run_id = $1 AND table_name = $2 FOR UPDATE`,
    [runId, table],
  );
  const merged: TableAdjustments = { ...(current.rows[0]?.adjustments ?? {}) };
  for (const [column, a] of Object.entries(adjustments))
    merged[column] = addAdjustments(addAdjustments(emptyAdjustments(), merged[column] ?? {}), a);
  await pg.query(`UPDATE ${RUN_TABLES} SET adjustments = $3::jsonb WHERE run_id = $1 AND table_name = $2`, [
    runId,
    table,
    JSON.stringify(merged),
  ]);
}

/** Keeps cutover's outcome (go/no-go, freeze, the position it drained to) for status. */
export async function recordCutover(target: DataSource, runId: string, cutover: JsonRecord): Promise<void> {
  await target.getRepository(FollowEntity).update({ runId }, { cutover });
}
