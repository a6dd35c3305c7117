import { describe, expect, it } from 'vitest';
import { predictFreeze } from '../../src/follow/freeze-prediction.js';
import type { LiveFigures } from '../../src/verify/live-figures.js';

/** Every table verified, nothing waiting, a measured pass of 0.12 s over 5 tables, 0.07 s of it beside its 200 keys at 4,000/s. */
const settled: LiveFigures = {
  tables: 5,
  tablesVerified: 5,
  keysWaiting: 0,
  keysDiffering: 0,
  keysOutside: 0,
  recheckKeysPerSecond: 4_000,
  compareRowsPerSecond: 200_000,
  rowsUnverified: 0,
  passSeconds: 0.12,
  keysPerPass: 200,
};
const idle = { eventsPending: 0, eventsPerSecond: 0, lagSeconds: 0 };
/** The bench's steady writer (1,000 row events/s): a batch or so not applied yet, a lag of a few tenths. */
const steady = { eventsPending: 300, eventsPerSecond: 1_000, lagSeconds: 0.4 };

describe('predictFreeze: the freeze from its measured parts', () => {
  it.each([
    // what, follower, verification, finalize → seconds, drain, verify
    ['idle source, all verified', idle, settled, 0.1, 0.2, 0, 0.1],
    // The case the old model put at 0.7–1.1 s (the lag and the pending events counted twice, plus 0.3 s fixed) for freezes of 0.2–0.4 s.
    ['steady writer, all verified', steady, settled, 0.1, 0.4, 0.3, 0.1],
    ['steady writer, the usual keys waiting', steady, { ...settled, keysWaiting: 180 }, 0.1, 0.5, 0.3, 0.1],
    // A backlog of keys at the measured rate: 4,400 at 4,000/s.
    ['steady writer, a backlog of keys', steady, { ...settled, keysWaiting: 4_400 }, 0.1, 1.5, 0.3, 1.2],
    // A rate under the floor (nothing measured) counts at the floor, 500 keys/s, which errs long:
    // 1,200 keys take 2.4 s (and the pass's 200 keys at that rate its whole 0.12 s).
    [
      'keys waiting, no rate measured',
      idle,
      { ...settled, recheckKeysPerSecond: 0, keysWaiting: 1_200 },
      0.1,
      2.5,
      0,
      2.4,
    ],
    // A burst: 200,000 events at the apply rate of the burst (20,000/s), the lag beyond it smaller.
    [
      'a burst not applied yet',
      { eventsPending: 200_000, eventsPerSecond: 20_000, lagSeconds: 8 },
      settled,
      0.1,
      10.4,
      10.2,
      0.1,
    ],
    // The same backlog with the rate of a steady writer: at the floor (5,000/s), not at 1,000/s.
    [
      'a backlog, a low measured rate',
      { eventsPending: 20_000, eventsPerSecond: 1_000, lagSeconds: 2 },
      settled,
      0.1,
      4.4,
      4.2,
      0.1,
    ],
    // Binary log not read yet (nothing pending, lagging): the lag beyond the batching latency.
    ['behind, nothing read yet', { eventsPending: 0, eventsPerSecond: 0, lagSeconds: 3 }, settled, 0.1, 2.9, 2.7, 0.1],
    // A table not compared whole yet: its rows at the measured comparison rate.
    ['a table not verified', idle, { ...settled, tablesVerified: 4, rowsUnverified: 8_000_000 }, 0.1, 40.2, 0, 40.1],
    // Before the first background pass is measured (an older worker's figures too): 0.05 s a table.
    ['no pass measured', idle, { ...settled, passSeconds: undefined, keysPerPass: undefined }, 0.1, 0.4, 0, 0.3],
    // Foreign keys left to finalize: the caller's estimate is added as it is.
    ['foreign keys for finalize', idle, settled, 1.5, 1.6, 0, 0.1],
  ] as const)('%s', (_what, follower, verification, finalize, seconds, drain, verify) => {
    const p = predictFreeze(follower, verification as LiveFigures, finalize);
    expect(p.seconds).toBeCloseTo(seconds, 5);
    expect(p.drainSeconds).toBeCloseTo(drain, 5);
    expect(p.verifySeconds).toBeCloseTo(verify, 5);
    expect(p.finalizeSeconds).toBeCloseTo(finalize, 5);
  });

  it('keeps the unrounded figure for the budget: 0.15 s is over --max-freeze 0.1', () => {
    // 0.1 s of pass, 0.05 s of it its keys: 0.05 + finalize's 0.1.
    const p = predictFreeze(idle, { ...settled, passSeconds: 0.1 }, 0.1);
    expect(p.exactSeconds).toBeCloseTo(0.15, 5);
    expect(p.exactSeconds).toBeGreaterThan(0.1);
  });

  it('says what to wait for', () => {
    const p = predictFreeze(
      { eventsPending: 12, eventsPerSecond: 0, lagSeconds: 1 },
      { ...settled, tablesVerified: 3, keysWaiting: 40 },
      0.1,
    );
    expect(p.waitingFor).toBe(
      '2 of 5 tables to verify while following, 40 changed keys to re-verify, 12 events to apply',
    );
    expect(predictFreeze(idle, settled, 0.1).waitingFor).toBe('nothing');
  });

  it('grows with every part: a worse state never predicts a shorter freeze', () => {
    const base = predictFreeze(steady, settled, 0.1).seconds;
    expect(predictFreeze({ ...steady, eventsPending: 50_000 }, settled, 0.1).seconds).toBeGreaterThan(base);
    expect(predictFreeze({ ...steady, lagSeconds: 5 }, settled, 0.1).seconds).toBeGreaterThan(base);
    expect(predictFreeze(steady, { ...settled, keysWaiting: 10_000 }, 0.1).seconds).toBeGreaterThan(base);
    expect(predictFreeze(steady, { ...settled, passSeconds: 1 }, 0.1).seconds).toBeGreaterThan(base);
    expect(predictFreeze(steady, settled, 2).seconds).toBeGreaterThan(base);
  });
});
