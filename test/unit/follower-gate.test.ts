import { describe, expect, it } from 'vitest';
import { FollowerGate } from '../../src/verify/follower-gate.js';

const timing = { backlogEvents: 1_000, pollMs: 1, maxPauseMs: 5_000, minReadMs: 1_000 };

/** A clock the test moves. */
function clock(): { now: () => number; at: number } {
  const c = { at: 0, now: () => c.at };
  return c;
}

describe('FollowerGate: verification gives way to the follower', () => {
  it.each([
    [0, false],
    [999, false],
    [1_000, true],
    [200_000, true],
  ])('with %i unapplied events the gate is closed: %s', (backlog, closed) => {
    const gate = new FollowerGate(timing, clock().now);
    gate.watch(() => backlog);
    expect(gate.closed()).toBe(closed);
  });

  it('is open before the follower is watched', () => {
    expect(new FollowerGate(timing).closed()).toBe(false);
  });

  it('opens as soon as the backlog is under the threshold, then reads a fifth of the pause before it may close again', async () => {
    const c = clock();
    const gate = new FollowerGate(timing, c.now);
    // The follower applies its backlog while the read waits: 100 ms between looks.
    const during = [20_000, 15_000, 10_000, 5_000, 0];
    let backlog = 0;
    gate.watch(() => {
      const next = during.shift();
      if (next === undefined) return backlog;
      c.at += 100;
      return next;
    });
    await gate.opened();
    expect(during).toEqual([]);
    expect(gate.paused()).toEqual({ pauses: 1, ms: 500 });
    // A new burst at once: the read goes on 100 ms (a fifth of the 500 ms pause) first.
    backlog = 5_000;
    const resumedAt = c.at;
    expect(gate.closed()).toBe(false);
    c.at = resumedAt + 99;
    expect(gate.closed()).toBe(false);
    c.at = resumedAt + 100;
    expect(gate.closed()).toBe(true);
  });

  it('never pauses longer than maxPauseMs, then reads minReadMs before it may close again (no starvation)', async () => {
    const c = clock();
    const gate = new FollowerGate(timing, c.now);
    // A follower that never catches up.
    gate.watch(() => {
      c.at += 250;
      return 50_000;
    });
    const started = c.at;
    await gate.opened();
    const paused = c.at - started;
    expect(paused).toBeGreaterThanOrEqual(timing.maxPauseMs);
    expect(paused).toBeLessThan(timing.maxPauseMs + 1_000);
    const resumedAt = c.at;
    expect(gate.closed()).toBe(false);
    c.at = resumedAt + timing.minReadMs - 1;
    expect(gate.closed()).toBe(false);
    c.at = resumedAt + timing.minReadMs;
    expect(gate.closed()).toBe(true);
  });
});
