import type { ReadGate } from '../core/read-gate.js';

/** Timing of a FollowerGate, ms (tests shorten them). */
export interface FollowerGateTiming {
  /** Row events read and not yet committed by the follower at which verification gives way. */
  backlogEvents: number;
  /** How often a paused read looks at the follower again. */
  pollMs: number;
  /** The longest a read stays paused at a stretch (a follower that never catches up does not starve it). */
  maxPauseMs: number;
  /** After a pause of maxPauseMs, the read goes on at least this long before it may pause again (after a shorter pause, in proportion). */
  minReadMs: number;
}

const DEFAULT_TIMING: FollowerGateTiming = { backlogEvents: 1_000, pollMs: 20, maxPauseMs: 5_000, minReadMs: 1_000 };

/**
 * Closed while the follower has more unapplied row events than `backlogEvents` (a burst; about
 * a second of a 1,000 writes/s source, which the follower otherwise keeps well under): the
 * comparisons of verification while following pause their reads, and the two cores go to the
 * follower's apply. Opens as soon as the backlog is under the threshold, or after `maxPauseMs`
 * at most; then reads go on for minReadMs / maxPauseMs of the pause's length (1 s after 5 s)
 * before it may close again, so that a comparison reads at least minReadMs of every
 * maxPauseMs + minReadMs (a sixth of the time) whatever the follower does.
 */
export class FollowerGate implements ReadGate {
  private backlog: () => number = () => 0;
  /** Until when the gate stays open whatever the backlog (after a pause that ran out). */
  private openUntil = 0;
  private pauses = 0;
  private pausedMs = 0;

  constructor(
    private readonly timing: FollowerGateTiming = DEFAULT_TIMING,
    private readonly now: () => number = Date.now,
  ) {}

  /** Where the follower's backlog is read from (unapplied row events, now). */
  watch(backlog: () => number): void {
    this.backlog = backlog;
  }

  closed(): boolean {
    return this.now() >= this.openUntil && this.backlog() >= this.timing.backlogEvents;
  }

  async opened(): Promise<void> {
    const started = this.now();
    this.pauses += 1;
    const { backlogEvents, maxPauseMs, minReadMs, pollMs } = this.timing;
    while (this.backlog() >= backlogEvents && this.now() - started < maxPauseMs)
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    const pausedMs = this.now() - started;
    this.openUntil = this.now() + (Math.min(pausedMs, maxPauseMs) * minReadMs) / maxPauseMs;
    this.pausedMs += pausedMs;
  }

  /** Pauses so far and their time, ms (for the log and the tests). */
  paused(): { pauses: number; ms: number } {
    return { pauses: this.pauses, ms: this.pausedMs };
  }
}
