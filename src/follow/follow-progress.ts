import type { LiveFigures } from '../verify/live-figures.js';

/** The follower's rate over the last few ticks, and its lag. */
export class FollowMeter {
  private readonly history: { at: number; events: number }[] = [];
  /** Since when the source's log has been ahead of what was read, with nothing pending. */
  private behindSince: number | null = null;

  /** Row changes applied per second over the last six ticks. */
  rate(eventsApplied: number, now = Date.now()): number {
    this.history.push({ at: now, events: eventsApplied });
    while (this.history.length > 6) this.history.shift();
    const first = this.history[0]!;
    return now > first.at ? Math.round(((eventsApplied - first.events) * 1000) / (now - first.at)) : 0;
  }

  /**
   * Behind by the oldest change read and not applied yet; with none, since the source's log has
   * stood ahead of what was read (an idle source's last event is no measure); else not behind.
   */
  lag(oldestUnapplied: readonly (number | null)[], bytesBehind: number, now = Date.now()): number {
    const oldest = oldestUnapplied.filter((t): t is number => t !== null);
    if (oldest.length > 0 || bytesBehind === 0) this.behindSince = null;
    else this.behindSince ??= now;
    const since = oldest.length > 0 ? Math.min(...oldest) : (this.behindSince ?? now);
    return Math.max(0, Math.round((now - since) / 100) / 10);
  }
}

/** Verification while following, run beside the follower (see LiveVerification). */
export interface FollowVerifier {
  start(): void;
  /** The follower's lag each second: verification gives way while it is behind. */
  noteFollowerLag(seconds: number): void;
  /** The follower's unapplied row events now, read while comparisons run: they pause while it has a backlog. */
  watchFollower(backlog: () => number): void;
  stop(): Promise<void>;
  figures(): LiveFigures | undefined;
}
