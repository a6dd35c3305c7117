import type { DataSource } from 'typeorm';
import { describeError, UsageError } from '../core/errors.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { qualifyPg } from '../dialect/postgres/quote.js';
import type { RunRow } from '../state/entities.js';
import { getFallback, recordFallbackOutcome, setFallbackStatus } from '../state/fallback-state.js';
import { listRunTables } from '../state/run-tables.js';
import { checksumTable } from '../verify/checksum.js';
import { lsnValue } from './slot-reader.js';

/** What a fallback did. */
export interface FallbackOutcome {
  go: boolean;
  /** The WAL position drained to (every PostgreSQL transaction before it is in MySQL). */
  lsn: string;
  /** PostgreSQL writes frozen, ms: from the lock to the verdict. */
  frozenMs: number;
  drainMs: number;
  verifyMs: number;
  /** One line per table that differs. */
  problems: string[];
  /** MySQL's read_only was on (cutover left it so) and is off now. */
  madeWritable: boolean;
}

export interface FallbackOptions {
  /** How long the drain may take before fallback gives up (nothing changed), ms. Default 120000. */
  drainTimeoutMs?: number;
  log: (line: string) => void | Promise<void>;
}

/**
 * The way back's switch (docs/fallback.md): PostgreSQL's migrated tables locked against writes
 * (EXCLUSIVE: reads go on), the WAL insert position read under the lock, the reverse follower
 * drained to it (it records a position only once a read of the slot up to it found nothing left),
 * every table compared on both sides, and on a go MySQL made writable again and the way back
 * ended. The lock ends with it either way; on a no-go the way back goes on following.
 */
export async function fallBack(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  options: FallbackOptions,
): Promise<FallbackOutcome> {
  const tables = await listRunTables(target, run.id);
  return withPgClient(target, async (locker) => {
    await locker.query('BEGIN');
    try {
      // Bounded: a long transaction holding a table must not make the freeze wait without end.
      await locker.query("SET LOCAL lock_timeout = '30s'");
      try {
        await locker.query(
          `LOCK TABLE ${tables.map((t) => qualifyPg(run.targetSchema, t.targetTable)).join(', ')} IN EXCLUSIVE MODE`,
        );
      } catch (error) {
        throw new UsageError(
          `could not freeze PostgreSQL's writes to the migrated tables (LOCK TABLE … IN EXCLUSIVE MODE): ${describeError(error)}; nothing was done`,
        );
      }
      const frozenAt = Date.now();
      const [{ lsn }] = (await locker.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn'))
        .rows as [{ lsn: string }];
      await options.log(`PostgreSQL writes frozen (LOCK TABLE … IN EXCLUSIVE MODE); draining the way back to ${lsn}`);
      await drainTo(target, run.id, lsn, options.drainTimeoutMs ?? 120_000);
      const drainMs = Date.now() - frozenAt;
      await options.log(`drained in ${(drainMs / 1000).toFixed(1)} s; comparing every table of MySQL with PostgreSQL`);
      const verifyStarted = Date.now();
      const problems: string[] = [];
      for (const t of tables) {
        const result = await checksumTable(source, target, {
          table: t.tableName,
          targetSchema: run.targetSchema,
          targetTable: t.targetTable,
          columns: run.options.columns?.[t.tableName],
          naming: run.options.naming,
        });
        if (result.status === 'mismatch')
          problems.push(
            `${t.tableName}: ${result.differenceCount} rows differ (MySQL ${result.sourceRows} rows, PostgreSQL ${result.targetRows})${result.differences[0] ? `, first ${JSON.stringify(result.differences[0])}` : ''}`,
          );
      }
      const verifyMs = Date.now() - verifyStarted;
      const go = problems.length === 0;
      let madeWritable = false;
      if (go) {
        await setFallbackStatus(target, run.id, 'done');
        madeWritable = await makeWritable(source);
      }
      const frozenMs = Date.now() - frozenAt;
      const outcome: FallbackOutcome = { go, lsn, frozenMs, drainMs, verifyMs, problems, madeWritable };
      await recordFallbackOutcome(target, run.id, { ...outcome, at: new Date().toISOString() });
      await locker.query('COMMIT');
      return outcome;
    } catch (error) {
      await locker.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/** Cutover left MySQL read-only (SET GLOBAL read_only = ON): off again; false when it was not on. */
async function makeWritable(source: DataSource): Promise<boolean> {
  const rows: { ro: number | string }[] = await source.query('SELECT @@GLOBAL.read_only AS ro');
  if (Number(rows[0]?.ro ?? 0) === 0) return false;
  try {
    await source.query('SET GLOBAL read_only = OFF');
    return true;
  } catch (error) {
    throw new UsageError(
      `MySQL equals PostgreSQL, but it could not be made writable again (SET GLOBAL read_only = OFF: ${describeError(error)}); run it as a user with SUPER or READ_ONLY ADMIN`,
    );
  }
}

/** Waits until the way back has everything before `lsn`; a stopped way back, or one past the timeout, is exit 2. */
async function drainTo(target: DataSource, runId: string, lsn: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const state = await getFallback(target, runId);
    if (!state) throw new UsageError(`run ${runId} has no way back`);
    if (state.status === 'stopped')
      throw new UsageError(`the way back stopped: ${state.error ?? 'no reason recorded'}; nothing was done`);
    if (lsnValue(state.reachedLsn) >= lsnValue(lsn)) return;
    if (Date.now() - started > timeoutMs)
      throw new UsageError(
        `the way back did not reach ${lsn} within ${Math.round(timeoutMs / 1000)} s (it is at ${state.reachedLsn}); is a worker running? nothing was done, and PostgreSQL accepts writes again`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
