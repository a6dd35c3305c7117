import type { DataSource } from 'typeorm';
import { PermanentError, TransientError } from '../core/errors.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import type { PgType } from '../copy/reverse-rules.js';
import type { FollowBackProgress } from '../queue/contract.js';
import {
  getFallback,
  recordFallbackApplied,
  recordFallbackReached,
  setFallbackStatus,
} from '../state/fallback-state.js';
import { RunCancelledError } from '../state/run-cancellation.js';
import { getRunStatus } from '../state/runs.js';
import { appliedLsnOf, applyToMysql, ensurePositionTable, type BackTable } from './mysql-apply.js';
import { peekSlot } from './slot-reader.js';

/** pgoutput messages read at once (whole transactions; a bigger one is read whole). */
const MAX_MESSAGES = 5_000;
/** How long an empty read waits before the next (a poll: nothing correct depends on it). */
const POLL_MS = 250;
const REPORT_MS = 1_000;
// Any constant works; it only has to be the same in every my2pg process (see state/schema.ts).
const BACK_LOCK_CLASS = 0x6d793262; // "my2b"

/** What the way back needs. */
export interface FollowBackInput {
  runId: string;
  source: DataSource;
  target: DataSource;
  /** PostgreSQL table name → how it is written to MySQL. */
  tables: ReadonlyMap<string, BackTable>;
  signal?: AbortSignal;
  onProgress?: (progress: FollowBackProgress) => Promise<unknown>;
  onLog?: (line: string) => Promise<void>;
}

/**
 * The way back (docs/fallback.md): reads the run's logical replication slot, applies each
 * PostgreSQL transaction to MySQL (applyToMysql: the position in the same MySQL transaction),
 * then lets the slot go past it, until fallback marks it done (or finish drops the slot). One per
 * run at a time (a session advisory lock); another worker takes over after a crash from MySQL's
 * recorded position. Returns once done; a refused value or row stops it for good (PermanentError).
 */
export async function followBack(input: FollowBackInput): Promise<'done'> {
  const { runId, target } = input;
  return withPgClient(target, async (lockClient) => {
    const locked = await lockClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [
      BACK_LOCK_CLASS,
      runId,
    ]);
    if (!locked.rows[0]?.ok)
      throw new TransientError(`run ${runId}: another worker is following PostgreSQL back; this attempt waits for it`);
    try {
      return await loop(input);
    } catch (error) {
      if (error instanceof PermanentError && !(error instanceof RunCancelledError))
        await setFallbackStatus(target, runId, 'stopped', error.message).catch(() => undefined);
      throw error;
    } finally {
      await lockClient.query('SELECT pg_advisory_unlock($1, hashtext($2))', [BACK_LOCK_CLASS, runId]).catch(() => {});
    }
  });
}

async function loop(input: FollowBackInput): Promise<'done'> {
  const { runId, source, target } = input;
  const armed = await getFallback(target, runId);
  if (!armed) throw new PermanentError(`run ${runId} has no way back (it was not cut over with --fallback)`);
  await ensurePositionTable(source);
  // MySQL's row is the authority: a batch it committed before a crash is not applied again.
  await advanceSlot(target, armed.slotName, await appliedLsnOf(source, runId));
  await input.onLog?.(`following PostgreSQL back to MySQL from slot ${armed.slotName}`);
  const types = new Map<number, PgType>();
  let events = Number(armed.eventsApplied);
  let reportedAt = 0;
  let reportedEvents = events;
  for (;;) {
    if (input.signal?.aborted)
      throw input.signal.reason instanceof Error ? input.signal.reason : new TransientError('stopped');
    const state = await getFallback(target, runId);
    if (!state || state.status === 'done' || state.status === 'finished') return 'done';
    if (state.status === 'stopped') throw new PermanentError(state.error ?? 'the way back was stopped');
    if ((await getRunStatus(target, runId)) === 'cancelled') throw new RunCancelledError(runId);
    // Flushed WAL only is decoded: reaching it means every transaction that ended before it is read.
    const [{ upto }] = (await target.query('SELECT pg_current_wal_flush_lsn()::text AS upto')) as [{ upto: string }];
    const read = await withPgClient(target, (c) => peekSlot(c, state, upto, MAX_MESSAGES, types));
    const applied = await applyToMysql(source, runId, input.tables, read.transactions);
    const last = read.transactions.at(-1)?.endLsn;
    // Only now that MySQL committed them does the slot let them go.
    if (last) await advanceSlot(target, state.slotName, last);
    if (applied.lsn !== null) await recordFallbackApplied(target, runId, { lsn: applied.lsn, events: applied.events });
    events += applied.events;
    if (read.complete) await recordFallbackReached(target, runId, upto);
    if (Date.now() - reportedAt >= REPORT_MS) {
      const seconds = reportedAt === 0 ? 1 : (Date.now() - reportedAt) / 1000;
      await report(input, state.slotName, events, Math.round((events - reportedEvents) / seconds));
      reportedAt = Date.now();
      reportedEvents = events;
    }
    if (read.transactions.length === 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Lets the slot go up to `lsn` (never back: a slot already past it stays). */
async function advanceSlot(target: DataSource, slot: string, lsn: string): Promise<void> {
  await target.query(
    'SELECT pg_replication_slot_advance(slot_name, $2::pg_lsn) FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn < $2::pg_lsn',
    [slot, lsn],
  );
}

async function report(input: FollowBackInput, slot: string, events: number, perSecond: number): Promise<void> {
  const rows: { lsn: string; behind: string; retained: string }[] = await input.target.query(
    `SELECT f.applied_lsn AS lsn, GREATEST(pg_wal_lsn_diff(pg_current_wal_lsn(), f.reached_lsn::pg_lsn), 0)::bigint::text AS behind,
            pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint::text AS retained
       FROM my2pg.fallback f JOIN pg_replication_slots s ON s.slot_name = $2 WHERE f.run_id = $1`,
    [input.runId, slot],
  );
  const r = rows[0];
  if (!r) return;
  const progress: FollowBackProgress = {
    direction: 'PostgreSQL → MySQL',
    lsn: r.lsn,
    eventsApplied: events,
    eventsPerSecond: perSecond,
    bytesBehind: Number(r.behind),
    retainedBytes: Number(r.retained),
    step: `following back: ${events} row changes applied to MySQL (${perSecond}/s), at ${r.lsn}, ${r.behind} bytes of WAL behind, ${r.retained} bytes retained by the slot`,
  };
  await input.onProgress?.(progress);
}
