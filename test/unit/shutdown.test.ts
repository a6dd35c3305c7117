import { describe, expect, it } from 'vitest';
import { createShutdown, listenForStop, settleWithin, type StopSteps } from '../../src/core/shutdown.js';

/** Steps that record their calls; `drain` finishes when `finishDrain` is called. */
function recordingSteps(
  options: { releaseHangs?: boolean } = {},
): StopSteps & { calls: string[]; finishDrain(): void } {
  const calls: string[] = [];
  let finishDrain: () => void = () => undefined;
  const drained = new Promise<void>((resolve) => (finishDrain = resolve));
  return {
    calls,
    finishDrain: () => finishDrain(),
    drain: async () => {
      calls.push('drain');
      await drained;
    },
    abort: async () => {
      calls.push('abort');
    },
    release: async () => {
      calls.push('release');
      if (options.releaseHangs) await new Promise(() => undefined);
    },
  };
}

describe('createShutdown', () => {
  it('a graceful close drains, then releases; a second call is the same close', async () => {
    const steps = recordingSteps();
    const shutdown = createShutdown(steps);
    const first = shutdown.close(10_000);
    const second = shutdown.close(10_000);
    expect(second).toBe(first);
    steps.finishDrain();
    await first;
    expect(steps.calls).toEqual(['drain', 'release']);
  });

  it('once the grace period passes, the close is forced', async () => {
    const steps = recordingSteps();
    await createShutdown(steps).close(20);
    expect(steps.calls).toEqual(['drain', 'abort', 'release']);
  });

  it('force() during a graceful close ends it; each step runs once', async () => {
    const steps = recordingSteps();
    const shutdown = createShutdown(steps);
    const closing = shutdown.close(10_000);
    await Promise.all([shutdown.force(), shutdown.force(), closing]);
    steps.finishDrain();
    expect(steps.calls).toEqual(['drain', 'abort', 'release']);
  });

  it('a close after a forced stop resolves without draining again', async () => {
    const steps = recordingSteps();
    const shutdown = createShutdown(steps);
    await shutdown.force();
    await shutdown.close(10_000);
    expect(steps.calls.filter((c) => c !== 'drain')).toEqual(['abort', 'release']);
  });

  it('a forced stop waits for the release at most releaseMs', async () => {
    const started = Date.now();
    await createShutdown(recordingSteps({ releaseHangs: true }), { releaseMs: 30 }).force();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('settleWithin', () => {
  it('never rejects, and returns when the time is up', async () => {
    await expect(settleWithin([Promise.reject(new Error('no'))], 1000)).resolves.toBeUndefined();
    const started = Date.now();
    await settleWithin([new Promise(() => undefined)], 20);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('listenForStop', () => {
  it('the first signal resolves `first`, a later one forces; dispose before any signal stops listening', async () => {
    const idle = listenForStop(() => undefined);
    const before = process.listenerCount('SIGTERM');
    idle.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before - 1);

    const forcedBy: string[] = [];
    const stop = listenForStop((signal) => forcedBy.push(signal));
    // Emitted, not sent: only the listeners run.
    process.emit('SIGTERM', 'SIGTERM');
    expect(await stop.first).toBe('SIGTERM');
    expect(stop.forced).toBe(false);
    stop.dispose();
    process.emit('SIGINT', 'SIGINT');
    expect(stop.forced).toBe(true);
    expect(forcedBy).toEqual(['SIGINT']);
  });
});
