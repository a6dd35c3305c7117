import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatBoardProgress } from '../../src/board/board-progress.js';
import { formatTableBar } from '../../src/cli/progress.js';
import { formatRunReport } from '../../src/cli/report.js';
import { StallError, Watchdog } from '../../src/core/watchdog.js';
import type { TableJobState } from '../../src/queue/job-states.js';
import type { RunRow } from '../../src/state/entities.js';

// The clock is Vitest's: each case says exactly how much time passes.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the watchdog', () => {
  it('never fails a job that keeps moving, however slowly', () => {
    const quiet = vi.fn();
    const w = new Watchdog({ timeoutMs: 1000, onQuiet: quiet });
    for (let i = 0; i < 50; i += 1) {
      w.moved();
      vi.advanceTimersByTime(400);
    }
    expect(w.error).toBeUndefined();
    expect(quiet).not.toHaveBeenCalled();
    w.stop();
  });

  it('shows a quiet job first, then ends it naming where it waited and destroys what it holds', async () => {
    const quiet = vi.fn();
    const w = new Watchdog({ timeoutMs: 1000, onQuiet: quiet });
    const destroy = vi.fn();
    w.hold(destroy);
    w.at('reading the rows of t: no row from MySQL since the SELECT was sent');
    vi.advanceTimersByTime(250);
    expect(quiet).not.toHaveBeenCalled();
    vi.advanceTimersByTime(500);
    expect(quiet).toHaveBeenCalledWith({
      since: expect.any(Number),
      where: 'reading the rows of t: no row from MySQL since the SELECT was sent',
    });
    expect(w.error).toBeUndefined();
    vi.advanceTimersByTime(600);
    expect(w.error).toBeInstanceOf(StallError);
    await expect(w.stalled).rejects.toThrow(
      'stalled: no progress for 1 s (--stall-timeout) while reading the rows of t: no row from MySQL since the SELECT was sent; the attempt was ended and its connections closed',
    );
    expect(destroy).toHaveBeenCalledTimes(1);
    // A connection taken after it acted is destroyed at once.
    const late = vi.fn();
    expect(() => w.hold(late)).toThrow(StallError);
    expect(late).toHaveBeenCalledTimes(1);
  });

  it('a moving job after a quiet spell is shown moving again', () => {
    const quiet = vi.fn();
    const w = new Watchdog({ timeoutMs: 1000, onQuiet: quiet });
    vi.advanceTimersByTime(750);
    w.moved();
    vi.advanceTimersByTime(250);
    expect(quiet).toHaveBeenLastCalledWith(null);
    expect(w.error).toBeUndefined();
    w.stop();
  });

  it('does not run its clock while the server works on a statement', async () => {
    const w = new Watchdog({ timeoutMs: 1000 });
    let finish: () => void = () => undefined;
    const building = w.serverWork('building index i of t in PostgreSQL', () => new Promise<void>((r) => (finish = r)));
    vi.advanceTimersByTime(5000);
    expect(w.error).toBeUndefined();
    finish();
    await building;
    vi.advanceTimersByTime(1250);
    expect(w.error?.message).toContain('while building index i of t in PostgreSQL');
  });

  it('a released connection is not destroyed', () => {
    const w = new Watchdog({ timeoutMs: 1000 });
    const destroy = vi.fn();
    const release = w.hold(destroy);
    release();
    vi.advanceTimersByTime(1500);
    expect(w.error).toBeInstanceOf(StallError);
    expect(destroy).not.toHaveBeenCalled();
  });
});

describe('a stalled job as people see it', () => {
  const stalled: TableJobState = {
    table: 'scores',
    jobId: 'run-1.scores',
    state: 'active',
    progress: { rows: 10, total: 100, rowsPerSecond: 0 },
    attemptsMade: 0,
    failedReason: null,
    stalled: {
      since: new Date(Date.now() - 12_000).toISOString(),
      where: 'committing "public"."scores" in PostgreSQL',
    },
    watchdogAttempts: 2,
  };

  it('the live bar says since when and where', () => {
    vi.setSystemTime(Date.parse(stalled.stalled!.since) + 12_000);
    expect(formatTableBar(stalled, 6)).toMatch(/STALLED 12 s: committing "public"."scores" in PostgreSQL$/);
  });

  it('Bull Board keeps the mark', () => {
    expect(formatBoardProgress({ ...stalled.progress, stalled: stalled.stalled })).toMatchObject({
      stalled: stalled.stalled,
    });
  });

  it('the report counts the attempts the watchdog ended', () => {
    const run = {
      id: 'run-1',
      status: 'running',
      source: 'mysql://h/db',
      targetSchema: 'public',
      createdAt: new Date(),
      finishedAt: null,
      options: {},
      summary: null,
    } as unknown as RunRow;
    const text = formatRunReport(run, [], [stalled], { jobColumns: true });
    expect(text).toContain('stalled: scores: no progress since');
    expect(text).toContain('watchdog: 2 attempts ended for lack of progress (scores 2), retried');
  });
});

describe('--stall-timeout and MY2PG_STALL_TIMEOUT', () => {
  it('default 60 s; the flag wins over the variable; seconds, at least 1', async () => {
    const { loadConfig } = await import('../../src/config/config.js');
    expect(loadConfig({}, [], {}).stallTimeoutMs).toBe(60_000);
    expect(loadConfig({}, [], { MY2PG_STALL_TIMEOUT: '2.5' }).stallTimeoutMs).toBe(2500);
    expect(loadConfig({ stallTimeout: '3' }, [], { MY2PG_STALL_TIMEOUT: '90' }).stallTimeoutMs).toBe(3000);
    expect(() => loadConfig({ stallTimeout: 'soon' }, [], {})).toThrow(/stall timeout .* must be a number of seconds/);
    expect(() => loadConfig({}, [], { MY2PG_STALL_TIMEOUT: '0.5' })).toThrow(/must be at least 1 s/);
  });
});
