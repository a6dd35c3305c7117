import type { DataSource } from 'typeorm';
import { quotePg } from '../dialect/postgres/quote.js';
import { FallbackEntity, STATE_SCHEMA, type FallbackRow, type FallbackStatus, type JsonRecord } from './entities.js';

const FALLBACK = `${quotePg(STATE_SCHEMA)}.fallback`;

/** At cutover's go: the way back is armed at `startLsn` (a second call changes nothing). */
export async function createFallbackRow(
  target: DataSource,
  runId: string,
  armed: { slotName: string; publicationName: string; startLsn: string },
): Promise<void> {
  await target.query(
    `INSERT INTO ${FALLBACK} (run_id, status, slot_name, publication_name, start_lsn, applied_lsn, reached_lsn)
     VALUES ($1, 'following', $2, $3, $4, $4, $4) ON CONFLICT (run_id) DO NOTHING`,
    [runId, armed.slotName, armed.publicationName, armed.startLsn],
  );
}

/** A run's way back, or null when it has none. */
export async function getFallback(target: DataSource, runId: string): Promise<FallbackRow | null> {
  return target.getRepository(FallbackEntity).findOne({ where: { runId } });
}

export async function setFallbackStatus(
  target: DataSource,
  runId: string,
  status: FallbackStatus,
  error: string | null = null,
): Promise<void> {
  await target.getRepository(FallbackEntity).update({ runId }, { status, error });
}

/** After MySQL committed a batch: its end and the events it applied (status's copy; MySQL's row is the authority). */
export async function recordFallbackApplied(
  target: DataSource,
  runId: string,
  applied: { lsn: string; events: number },
): Promise<void> {
  await target.query(
    `UPDATE ${FALLBACK} SET applied_lsn = $2, events_applied = events_applied + $3, applied_at = now() WHERE run_id = $1`,
    [runId, applied.lsn, applied.events],
  );
}

/** Every transaction committed before `lsn` is in MySQL (a read of the slot up to it found nothing left). */
export async function recordFallbackReached(target: DataSource, runId: string, lsn: string): Promise<void> {
  await target.query(`UPDATE ${FALLBACK} SET reached_lsn = $2 WHERE run_id = $1 AND reached_lsn::pg_lsn < $2::pg_lsn`, [
    runId,
    lsn,
  ]);
}

/** Keeps fallback's outcome for status. */
export async function recordFallbackOutcome(target: DataSource, runId: string, outcome: JsonRecord): Promise<void> {
  await target.getRepository(FallbackEntity).update({ runId }, { outcome });
}
