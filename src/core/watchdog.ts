import { AsyncLocalStorage } from 'node:async_hooks';
import { TransientError } from './errors.js';

/**
 * A job's watchdog: it fails an attempt whose progress has not moved for `timeoutMs`, naming
 * where the job waited, and destroys the connections the attempt holds so that nothing it
 * started can go on. BullMQ renews a job's lock as long as its process lives, so its own
 * stalled-job check never sees a job that waits forever inside a live worker: this does.
 *
 * Progress is anything that proves the job moves: a row read from MySQL, a chunk read from
 * PostgreSQL, a progress report that changed, a log line, a new phase. A statement the server
 * is busy with (an index build, a constraint check) is declared with `serverWork`, and the
 * clock does not run during it: slow but moving is never stalled.
 */

/** The attempt was ended by the watchdog; BullMQ retries it like any transient failure. */
export class StallError extends TransientError {}

/** What a watchdog tells its job: quiet since (ms epoch) and where, or moving again (null). */
type QuietListener = (quiet: { since: number; where: string } | null) => void;

export interface WatchdogOptions {
  /** No progress for this long fails the attempt. */
  timeoutMs: number;
  onQuiet?: QuietListener;
}

export class Watchdog {
  private count = 0;
  private seen = 0;
  private movedAt = Date.now();
  private where = 'starting';
  private busy = 0;
  private quiet = false;
  private readonly held = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private fire: (error: StallError) => void = () => undefined;
  /** Rejects with a StallError when the watchdog acts; never resolves. */
  readonly stalled: Promise<never>;
  /** Set once the watchdog acted. */
  error: StallError | undefined;

  constructor(private readonly options: WatchdogOptions) {
    this.stalled = new Promise<never>((_resolve, reject) => {
      this.fire = reject;
    });
    this.stalled.catch(() => undefined);
    // Progress is looked at every min(1 s, timeout / 4).
    const tick = Math.max(50, Math.min(1000, options.timeoutMs / 4));
    this.timer = setInterval(() => this.check(), tick);
    this.timer.unref();
  }

  /** Progress moved (`n` rows, chunks, events). */
  moved(n = 1): void {
    this.count += n;
  }

  /** The job now waits here (named in the stall message); a new phase is progress too. */
  at(where: string): void {
    this.where = where;
    this.count += 1;
  }

  /** Runs a statement the server works on for a while without sending anything: the clock stops meanwhile. */
  async serverWork<T>(where: string, fn: () => Promise<T>): Promise<T> {
    this.at(where);
    this.busy += 1;
    try {
      return await fn();
    } finally {
      this.busy -= 1;
      this.count += 1;
    }
  }

  /** Registers a connection of the attempt; the watchdog destroys it when it acts. Returns the release. */
  hold(destroy: () => void): () => void {
    if (this.error) {
      destroy();
      throw this.error;
    }
    this.held.add(destroy);
    return () => this.held.delete(destroy);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    if (this.error) return;
    const now = Date.now();
    if (this.count !== this.seen || this.busy > 0) {
      this.seen = this.count;
      this.movedAt = now;
      if (this.quiet) {
        this.quiet = false;
        this.options.onQuiet?.(null);
      }
      return;
    }
    const idle = now - this.movedAt;
    // Quiet this long is shown (status, board) before the watchdog acts.
    const notice = Math.min(10_000, this.options.timeoutMs / 2);
    if (!this.quiet && idle >= notice) {
      this.quiet = true;
      this.options.onQuiet?.({ since: this.movedAt, where: this.where });
    }
    if (idle < this.options.timeoutMs) return;
    this.error = new StallError(
      `stalled: no progress for ${formatSeconds(this.options.timeoutMs)} s (--stall-timeout) while ${this.where}; the attempt was ended and its connections closed`,
    );
    this.stop();
    for (const destroy of this.held) {
      try {
        destroy();
      } catch {
        // a connection that cannot be destroyed is gone already
      }
    }
    this.held.clear();
    this.fire(this.error);
  }
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? String(s) : s.toFixed(1);
}

const current = new AsyncLocalStorage<Watchdog>();

/** Runs `fn` under `watchdog`: the code it calls reports progress and connections to it. */
export function runWatched<T>(watchdog: Watchdog, fn: () => Promise<T>): Promise<T> {
  return current.run(watchdog, fn);
}

/** The watchdog of the job this code runs for, if any (capture it where a socket's callbacks will need it). */
export function currentWatchdog(): Watchdog | undefined {
  return current.getStore();
}

/** Names where the current job waits now. */
export function waitingAt(where: string): void {
  current.getStore()?.at(where);
}

/** Runs a long server statement without the stall clock (outside a job: just runs it). */
export function asServerWork<T>(where: string, fn: () => Promise<T>): Promise<T> {
  const watchdog = current.getStore();
  return watchdog ? watchdog.serverWork(where, fn) : fn();
}
