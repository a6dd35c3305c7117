import type { LiveFigures } from '../verify/live-figures.js';

/** What cutover predicts a freeze will take, s, and of what. */
export interface FreezePrediction {
  /** To a tenth, as printed. */
  seconds: number;
  /** Not rounded: what `--max-freeze` is compared with (0.13 s is over a budget of 0.1 s). */
  exactSeconds: number;
  drainSeconds: number;
  verifySeconds: number;
  finalizeSeconds: number;
  /** What the prediction waits for, in words, when it is over a budget. */
  waitingFor: string;
}

/**
 * Rates assumed when the measured one is lower or none is measured yet. The follower's
 * eventsPerSecond is what it applied over the last seconds: under a steady writer that is the
 * writer's rate, not what it can apply, so it counts only when it is higher than this floor.
 */
const FLOOR = { eventsPerSecond: 5_000, recheckKeysPerSecond: 500, compareRowsPerSecond: 50_000 };
/** The drain's own time when the follower has anything ahead: its batch wait (100 ms) and the drain's look at its position (every 100 ms). */
const DRAIN_ROUND_TRIP = 0.2;
/** A lag up to this is the follower's batching, not work ahead of it (it is the age of the oldest change not applied yet). */
const LATENCY_SECONDS = 0.5;
/** A pass over a table's state at the freeze, s, until a background pass was measured. */
const PASS_PER_TABLE = 0.05;

/**
 * The freeze from its measured parts (see docs/live-verification.md, "What the freeze
 * predicts"):
 * - the drain: the round trip of the follower's last batch, then the events not applied yet at
 *   the apply rate, or the lag beyond the batching latency when that is more (binary log not
 *   read yet);
 * - the re-verification: what a background pass over every table took beside its keys (the
 *   freeze repeats its reads), plus the keys waiting at the measured rate, plus the whole
 *   comparison of tables not verified yet;
 * - finalize's remaining work (foreign keys, CHECKs, sequences: `finalizeSeconds`, estimated by
 *   the caller).
 * Each fixed cost is counted once: the lag and the pending events describe the same backlog.
 */
export function predictFreeze(
  follower: { eventsPending: number; eventsPerSecond: number; lagSeconds: number },
  verification: LiveFigures,
  finalizeSeconds: number,
): FreezePrediction {
  const behind = follower.eventsPending > 0 || follower.lagSeconds > 0;
  const drainSeconds =
    (behind ? DRAIN_ROUND_TRIP : 0) +
    Math.max(
      follower.eventsPending / Math.max(FLOOR.eventsPerSecond, follower.eventsPerSecond),
      follower.lagSeconds - LATENCY_SECONDS,
    );
  const recheckRate = Math.max(FLOOR.recheckKeysPerSecond, verification.recheckKeysPerSecond);
  // A pass's own cost, its keys taken out (a pass after a backlog of keys is long for its keys).
  const pass =
    verification.passSeconds === undefined
      ? PASS_PER_TABLE * verification.tables
      : Math.max(0, verification.passSeconds - (verification.keysPerPass ?? 0) / recheckRate);
  const rechecks = verification.keysWaiting / recheckRate;
  const compares =
    verification.rowsUnverified / Math.max(FLOOR.compareRowsPerSecond, verification.compareRowsPerSecond);
  const verifySeconds = pass + rechecks + compares;
  const seconds = drainSeconds + verifySeconds + finalizeSeconds;
  const unverified = verification.tables - verification.tablesVerified;
  const parts = [
    unverified > 0 ? `${unverified} of ${verification.tables} tables to verify while following` : null,
    verification.keysWaiting > 0 ? `${verification.keysWaiting} changed keys to re-verify` : null,
    follower.eventsPending > 0 ? `${follower.eventsPending} events to apply` : null,
  ].filter((p): p is string => p !== null);
  return {
    seconds: round(seconds),
    exactSeconds: seconds,
    drainSeconds: round(drainSeconds),
    verifySeconds: round(verifySeconds),
    finalizeSeconds: round(finalizeSeconds),
    waitingFor: parts.join(', ') || 'nothing',
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
