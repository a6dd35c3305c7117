import type { DataSource } from 'typeorm';
import { countRecheckBacklog } from '../state/change-log.js';
import { listLiveTables } from '../state/live-tables.js';

/** Verification while following, as status, the board and cutover show it. */
export interface LiveFigures {
  tables: number;
  /** Tables compared whole at least once and equal but for the keys waiting. */
  tablesVerified: number;
  /** Keys written since their table's last verification, waiting to be re-verified. */
  keysWaiting: number;
  /** Keys found different at their last re-verification (a write in flight, or a real difference). */
  keysDiffering: number;
  /** Keys written in PostgreSQL by something else than the follower, not yet found equal again. */
  keysOutside: number;
  /** Keys re-verified per second, measured. */
  recheckKeysPerSecond: number;
  /** Rows compared per second by the whole-table comparisons, measured. */
  compareRowsPerSecond: number;
  /** Rows of the tables not verified yet (their last whole comparison's count; 0 before the first). */
  rowsUnverified: number;
  /**
   * A pass over every table's logged keys (what the freeze repeats), s, measured: a moving average
   * of the passes without a whole comparison. Absent before the first (and from older workers).
   */
  passSeconds?: number;
  /** Keys such a pass re-verified, on the same moving average. */
  keysPerPass?: number;
}

/** What verification while following has done since it started, for its rates. */
export interface LiveRates {
  rechecked: number;
  recheckMs: number;
  compared: number;
  compareMs: number;
  /** Moving averages of the passes without a whole comparison (see notePass); null before the first. */
  pass: { ms: number; keys: number } | null;
}

/** A pass's weight in the moving average: the last few passes count, one slow pass does not decide. */
const PASS_WEIGHT = 0.3;

/** Adds a pass that re-verified `keys` logged keys in `ms` (no whole comparison in it) to the moving averages. */
export function notePass(rates: LiveRates, ms: number, keys: number): void {
  rates.pass = rates.pass
    ? {
        ms: rates.pass.ms + PASS_WEIGHT * (ms - rates.pass.ms),
        keys: rates.pass.keys + PASS_WEIGHT * (keys - rates.pass.keys),
      }
    : { ms, keys };
}

/** The figures of a run's verification while following, from its state (a count of the change log). */
export async function measureLiveFigures(
  target: DataSource,
  runId: string,
  tables: readonly { table: string; estimatedRows: number }[],
  rates: LiveRates,
): Promise<LiveFigures> {
  const lives = await listLiveTables(
    target,
    runId,
    tables.map((t) => t.table),
  );
  const backlog = await countRecheckBacklog(target, runId);
  const sum = (f: (b: (typeof backlog)[number]) => number): number => backlog.reduce((n, b) => n + f(b), 0);
  return {
    tables: lives.length,
    tablesVerified: lives.filter((l) => l.status === 'verified').length,
    keysWaiting: sum((b) => b.waiting),
    keysDiffering: sum((b) => b.differing),
    keysOutside: sum((b) => b.outside),
    recheckKeysPerSecond: rate(rates.rechecked, rates.recheckMs),
    compareRowsPerSecond: rate(rates.compared, rates.compareMs),
    rowsUnverified: lives
      .filter((l) => l.status !== 'verified')
      .reduce((n, l) => n + (Number(l.rows) || (tables.find((t) => t.table === l.tableName)?.estimatedRows ?? 0)), 0),
    ...(rates.pass ? { passSeconds: Math.round(rates.pass.ms) / 1000, keysPerPass: Math.round(rates.pass.keys) } : {}),
  };
}

function rate(count: number, ms: number): number {
  return ms > 0 ? Math.round((count * 1000) / ms) : 0;
}
