import type { DataSource } from 'typeorm';
import { describeError, UsageError } from '../core/errors.js';
import { queryMysql, withMysqlConnection, type MysqlConnection } from '../dialect/mysql/connection.js';
import { compareBinlogPositions, readBinlogPosition, type BinlogPosition } from '../dialect/mysql/binlog.js';
import { finalizeRun, type FinalizeSummary } from '../finalize/finalize-run.js';
import { getFollow, recordCutover, setFollowStatus } from '../state/follow-state.js';
import type { LiveVerification } from '../verify/live-verification.js';
import { withVerifyLock } from '../verify/verify-lock.js';
import { liveVerdicts } from '../verify/live-verdict.js';
import { dropWriteGuards, type GuardedTable } from './write-guard.js';
import type { EarlyForeignKeys } from './early-foreign-keys.js';
import { checksInPlace } from './early-checks.js';
import { countEarlyViews } from '../finalize/early-view-mark.js';
import { armFallback, type PublishedTable } from '../fallback/slot.js';

/** How the source's writes are frozen: a global read lock, read_only, or the operator's word (checked). */
type FreezeMethod = 'read-lock' | 'read-only' | 'checked-still';

/** What a cutover did. */
export interface CutoverOutcome {
  go: boolean;
  /** The source position drained to. */
  position: BinlogPosition;
  freeze: FreezeMethod;
  /** Writes frozen, ms: from the freeze to the verdict (drain, re-verification and finalize inside). */
  frozenMs: number;
  drainMs: number;
  /** Re-verification of the keys changed since their verification (and of tables not verified yet). */
  verifyMs: number;
  finalizeMs: number;
  /** CHECKs and views already in place at the freeze (done while following), which finalize did not do again. */
  beforeFreeze: { checks: number; views: number };
  summary: FinalizeSummary;
  /** After a go with --lock: the source was left read-only (read_only = ON), so a late write fails instead of being lost. */
  leftReadOnly: boolean;
}

export interface CutoverOptions {
  /** Freeze writes here (`--lock`); without it, the application must have stopped writing. */
  lock: boolean;
  /** Without --lock: how long the position must stand still, ms. Default 2000. */
  stillMs?: number;
  /** How long the drain may take before cutover gives up (nothing finalized), ms. Default 120000. */
  drainTimeoutMs?: number;
  log: (line: string) => void | Promise<void>;
  /** Verification while following, finished inside the freeze, and the write guards dropped after a go. */
  live: { verification: LiveVerification; guards: readonly GuardedTable[]; foreignKeys: EarlyForeignKeys };
  /** `--fallback`: the tables whose later PostgreSQL writes the way back captures (armed at a go, see armFallback). */
  fallback?: readonly PublishedTable[];
  /** After a go, writes still frozen: opens what a receipt is read in (snapshots; no table read). Must not throw. */
  atGo?: () => Promise<void>;
}

/**
 * The switch of a `--follow` run, once its copy is complete and its follower close behind:
 * freeze the source's writes, drain the follower to the source's final position, re-verify what
 * changed since verification while following checked it (see LiveVerification), finalize
 * (foreign keys, CHECKs, sequences from AUTO_INCREMENT now, alembic_version, views) and decide
 * go (verified) or no-go. On go the follower ends; on
 * no-go it goes on following, and cutover can be run again. The freeze ends with it either way.
 */
export async function cutover(
  source: DataSource,
  target: DataSource,
  runId: string,
  options: CutoverOptions,
): Promise<CutoverOutcome> {
  return withMysqlConnection(source, async (freezer) => {
    const freeze = options.lock ? await lockWrites(freezer) : await checkStill(source, options.stillMs ?? 2000);
    const frozenAt = Date.now();
    let leftReadOnly = false;
    try {
      const position = await readBinlogPosition(source, { gtid: false });
      await options.log(
        `writes frozen (${describeFreeze(freeze)}); draining the follower to ${position.file}:${position.position}`,
      );
      await drainTo(target, runId, position, options.drainTimeoutMs ?? 120_000);
      const drainMs = Date.now() - frozenAt;
      await options.log(
        `drained in ${(drainMs / 1000).toFixed(1)} s; re-verifying the keys changed since their verification`,
      );
      const verifyStarted = Date.now();
      const verified = await withVerifyLock(target, runId, true, async () => {
        await options.live.verification.finish();
        // The foreign keys validated while following, against every key written since.
        for (const line of await options.live.foreignKeys.atFreeze())
          await options.log(`foreign key validated at the freeze instead: ${line}`);
        return liveVerdicts(target, runId);
      });
      const verifyMs = Date.now() - verifyStarted;
      await options.log(
        `re-verified in ${(verifyMs / 1000).toFixed(1)} s; finalizing (foreign keys, sequences, alembic_version, views)`,
      );
      const beforeFreeze = { checks: await checksInPlace(target, runId), views: await countEarlyViews(target, runId) };
      const finalizeStarted = Date.now();
      const summary = await finalizeRun(source, target, runId, options.log, { verified: verified ?? new Map() });
      const finalizeMs = Date.now() - finalizeStarted;
      const go = summary.verified;
      const frozenMs = Date.now() - frozenAt;
      await recordCutover(target, runId, {
        go,
        file: position.file,
        position: position.position,
        freeze,
        frozenMs,
        drainMs,
        verifyMs,
        finalizeMs,
        beforeFreeze,
        at: new Date().toISOString(),
        problems: summary.problems,
      });
      // On go the follower ends (its job completes); on no-go it goes on following.
      // The way back starts here, before the application can write to PostgreSQL: a failure is
      // exit 2 before the follower is marked done, and cutover can be run again.
      if (go && options.fallback) {
        const armed = await armFallback(target, runId, options.fallback);
        await options.log(`way back armed: slot ${armed.slotName} from ${armed.startLsn}`);
      }
      if (go) {
        await setFollowStatus(target, runId, 'done');
        // The application owns the target now: its writes are not the follower's business.
        await dropWriteGuards(target, options.live.guards);
      }
      // A receipt's snapshots open here, at the drained position on both sides, before writes resume.
      if (go) await options.atGo?.();
      // The application may still point at MySQL: after a go, what it writes there would be
      // lost, so with --lock the source stays read-only where the privileges allow.
      if (go && freeze !== 'checked-still') leftReadOnly = await leaveReadOnly(freezer, freeze);
      return { go, position, freeze, frozenMs, drainMs, verifyMs, finalizeMs, beforeFreeze, summary, leftReadOnly };
    } finally {
      if (freeze === 'read-lock') await queryMysql(freezer, 'UNLOCK TABLES');
      else if (freeze === 'read-only' && !leftReadOnly) await queryMysql(freezer, 'SET GLOBAL read_only = OFF');
    }
  });
}

function describeFreeze(freeze: FreezeMethod): string {
  return freeze === 'read-lock'
    ? 'FLUSH TABLES WITH READ LOCK held by my2pg'
    : freeze === 'read-only'
      ? 'SET GLOBAL read_only = ON by my2pg'
      : 'the application stopped writing: the binary log position stood still';
}

/** `--lock`: a global read lock (RELOAD), else read_only (SUPER or READ_ONLY ADMIN); neither allowed is exit 2. */
async function lockWrites(freezer: MysqlConnection): Promise<FreezeMethod> {
  try {
    // FLUSH waits for every running statement's tables; bounded, it falls back below instead of waiting a year.
    await queryMysql(freezer, 'SET SESSION lock_wait_timeout = 30');
    await queryMysql(freezer, 'FLUSH TABLES WITH READ LOCK');
    return 'read-lock';
  } catch (lockError) {
    try {
      await queryMysql(freezer, 'SET GLOBAL read_only = ON');
      return 'read-only';
    } catch (readOnlyError) {
      throw new UsageError(
        `--lock could not freeze the source's writes: FLUSH TABLES WITH READ LOCK was refused (${describeError(lockError)}) and so was SET GLOBAL read_only = ON (${describeError(readOnlyError)}); grant RELOAD to the source user, or stop the application's writes and run cutover without --lock`,
      );
    }
  }
}

/** Sets read_only before the read lock goes (allowed while holding it); false when the privileges do not allow it. */
async function leaveReadOnly(freezer: MysqlConnection, freeze: FreezeMethod): Promise<boolean> {
  if (freeze === 'read-only') return true;
  try {
    await queryMysql(freezer, 'SET GLOBAL read_only = ON');
    return true;
  } catch {
    // Without SUPER (READ_ONLY ADMIN) the source cannot be left read-only; the report says writes are accepted again.
    return false;
  }
}

/** Without --lock: the binary log must not move for `stillMs`, else the application is still writing (exit 2). */
async function checkStill(source: DataSource, stillMs: number): Promise<FreezeMethod> {
  const before = await readBinlogPosition(source, { gtid: false });
  await new Promise((resolve) => setTimeout(resolve, stillMs));
  const after = await readBinlogPosition(source, { gtid: false });
  if (compareBinlogPositions(before, after) !== 0) {
    throw new UsageError(
      `the source is still being written (its binary log moved from ${before.file}:${before.position} to ${after.file}:${after.position} in ${(stillMs / 1000).toFixed(1)} s); stop the application's writes, or let my2pg freeze them with --lock; nothing was done`,
    );
  }
  return 'checked-still';
}

/** Waits until the follower's last commit reaches `position`; a follower that stopped, or a drain past the timeout, is exit 2. */
async function drainTo(target: DataSource, runId: string, position: BinlogPosition, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const state = await getFollow(target, runId);
    if (!state) throw new UsageError(`run ${runId} has no follower`);
    if (state.status === 'stopped')
      throw new UsageError(`the follower stopped: ${state.error ?? 'no reason recorded'}; nothing was done`);
    if (compareBinlogPositions({ file: state.binlogFile, position: Number(state.binlogPosition) }, position) >= 0)
      return;
    if (Date.now() - started > timeoutMs) {
      throw new UsageError(
        `the follower did not reach ${position.file}:${position.position} within ${Math.round(timeoutMs / 1000)} s (it is at ${state.binlogFile}:${state.binlogPosition}); is a worker running? nothing was done, and writes are allowed again`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
