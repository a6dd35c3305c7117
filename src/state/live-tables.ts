import type { DataSource } from 'typeorm';
import { quotePg } from '../dialect/postgres/quote.js';
import { STATE_SCHEMA } from './entities.js';
import type { LiveTableRow } from './live-entities.js';

const LIVE = `${quotePg(STATE_SCHEMA)}.live_tables`;
const FOLLOW = `${quotePg(STATE_SCHEMA)}.follow`;
const CHANGE_LOG = `${quotePg(STATE_SCHEMA)}.change_log`;
const EARLY = `${quotePg(STATE_SCHEMA)}.early_foreign_keys`;

export type { LiveTableRow } from './live-entities.js';

/** Each followed table's verification while following, created `pending` the first time. */
export async function listLiveTables(
  target: DataSource,
  runId: string,
  tables: readonly string[],
): Promise<LiveTableRow[]> {
  await target.query(
    `INSERT INTO ${LIVE} (run_id, table_name, status) SELECT $1, t, 'pending' FROM unnest($2::text[]) AS t ON CONFLICT DO NOTHING`,
    [runId, [...tables]],
  );
  const rows: Record<string, unknown>[] = await target.query(
    `SELECT table_name, status, verified_seq, rows, full_ms, verified_at, problem FROM ${LIVE} WHERE run_id = $1 ORDER BY table_name`,
    [runId],
  );
  return rows.map((r) => ({
    runId,
    tableName: String(r.table_name),
    status: r.status as LiveTableRow['status'],
    verifiedSeq: String(r.verified_seq),
    rows: String(r.rows),
    fullMs: Number(r.full_ms),
    verifiedAt: (r.verified_at as Date | null) ?? null,
    problem: (r.problem as string | null) ?? null,
  }));
}

/** After a whole-table comparison: equal at batch `seq` (but for keys logged after it), or different, and why. */
export async function recordWholeComparison(
  target: DataSource,
  runId: string,
  table: string,
  outcome: { seq: number; rows: number; fullMs: number; problem: string | null },
): Promise<void> {
  await target.query(
    `UPDATE ${LIVE} SET status = $3, verified_seq = CASE WHEN $3 = 'verified' THEN $4 ELSE verified_seq END, rows = $5, full_ms = $6, verified_at = now(), problem = $7 WHERE run_id = $1 AND table_name = $2`,
    [
      runId,
      table,
      outcome.problem === null ? 'verified' : 'mismatch',
      outcome.seq,
      outcome.rows,
      outcome.fullMs,
      outcome.problem,
    ],
  );
}

/** After a re-verification of the keys logged up to batch `seq`: the table holds for that batch. */
export async function advanceVerifiedSeq(target: DataSource, runId: string, table: string, seq: number): Promise<void> {
  await target.query(
    `UPDATE ${LIVE} SET verified_seq = GREATEST(verified_seq, $3), verified_at = now() WHERE run_id = $1 AND table_name = $2 AND status = 'verified'`,
    [runId, table, seq],
  );
}

/** The follower's last committed batch (0 before the first). */
export async function currentBatchSeq(target: DataSource, runId: string): Promise<number> {
  const rows: { seq: string }[] = await target.query(`SELECT batch_seq AS seq FROM ${FOLLOW} WHERE run_id = $1`, [
    runId,
  ]);
  return Number(rows[0]?.seq ?? 0);
}

/** Keys logged per table (their rows rechecked and equal, older than the table's verified batch, and checked against the foreign keys added while following) are forgotten: the log stays as small as what is waiting. */
export async function forgetVerifiedKeys(target: DataSource, runId: string): Promise<void> {
  await target.query(
    `DELETE FROM ${CHANGE_LOG} c USING ${LIVE} l WHERE c.run_id = $1 AND l.run_id = c.run_id AND l.table_name = c.table_name AND l.status = 'verified' AND c.seq <= l.verified_seq AND c.outside IS NULL AND c.differs IS NULL
        AND NOT EXISTS (SELECT 1 FROM ${EARLY} f WHERE f.run_id = c.run_id AND c.table_name IN (f.child_table, f.parent_table) AND c.seq > f.checked_seq)`,
    [runId],
  );
}

/** A cancelled --follow run's verification while following is over: its change log, tables and early foreign keys go. Safe to repeat. */
export async function forgetLiveState(target: DataSource, runId: string): Promise<void> {
  await target.query(`DELETE FROM ${CHANGE_LOG} WHERE run_id = $1`, [runId]);
  await target.query(`DELETE FROM ${EARLY} WHERE run_id = $1`, [runId]);
  await target.query(`DELETE FROM ${LIVE} WHERE run_id = $1`, [runId]);
}
