import type { LiveFigures } from '../verify/live-figures.js';

/** What cutover predicts a freeze will take, s, and of what. */
export interface FreezePrediction {
  seconds: number;
  drainSeconds: number;
  verifySeconds: number;
  finalizeSeconds: number;
  /** What the prediction waits for, in words, when it is over a budget. */
  waitingFor: string;
}

/** Rates assumed until one is measured (low, so a prediction errs on the long side). */
const FLOOR = { eventsPerSecond: 2_000, recheckKeysPerSecond: 500, compareRowsPerSecond: 50_000 };
/** A batch's round trip at the end of the drain, and the verdict's own writes, s. */
const FIXED_SECONDS = 0.3;

/**
 * The freeze from the follower's figures: the drain (events not applied yet at the measured
 * apply rate), the re-verification of the keys waiting (at the measured re-verification rate)
 * and the whole comparison of tables not verified yet, and finalize's remaining work (foreign
 * keys, sequences: `finalizeSeconds`, estimated by the caller).
 */
export function predictFreeze(
  follower: { eventsPending: number; eventsPerSecond: number; lagSeconds: number },
  verification: LiveFigures,
  finalizeSeconds: number,
): FreezePrediction {
  const drainSeconds =
    follower.eventsPending / Math.max(FLOOR.eventsPerSecond, follower.eventsPerSecond) +
    Math.min(follower.lagSeconds, 1);
  const rechecks = verification.keysWaiting / Math.max(FLOOR.recheckKeysPerSecond, verification.recheckKeysPerSecond);
  const compares =
    verification.rowsUnverified / Math.max(FLOOR.compareRowsPerSecond, verification.compareRowsPerSecond);
  const verifySeconds = rechecks + compares;
  const seconds = drainSeconds + verifySeconds + finalizeSeconds + FIXED_SECONDS;
  const unverified = verification.tables - verification.tablesVerified;
  const parts = [
    unverified > 0 ? `${unverified} of ${verification.tables} tables to verify while following` : null,
    verification.keysWaiting > 0 ? `${verification.keysWaiting} changed keys to re-verify` : null,
    follower.eventsPending > 0 ? `${follower.eventsPending} events to apply` : null,
  ].filter((p): p is string => p !== null);
  return {
    seconds: round(seconds),
    drainSeconds: round(drainSeconds),
    verifySeconds: round(verifySeconds),
    finalizeSeconds: round(finalizeSeconds),
    waitingFor: parts.join(', ') || 'nothing',
  };
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
