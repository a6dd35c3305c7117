/** Callbacks through which a copy reports its progress. */
export interface ProgressHooks {
  onProgress?(progress: { rows: number; total: number; rowsPerSecond: number }): void | Promise<void>;
  onLog?(line: string): void | Promise<void>;
}

/**
 * The rows a table copy has streamed, reported on a timer (onProgress) and every ten batches
 * (a log line). An attempt that starts over starts counting again; the total only grows.
 */
export class CopyProgress {
  /** Source rows read by the current attempt (written or rejected). */
  streamed = 0;
  private lastLogged = 0;
  private total: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly hooks: ProgressHooks,
    /** Rows the copy expects. */
    estimatedRows: number,
    /** A log line every ten batches of this many rows. */
    private readonly batchRows: number,
    readonly started = Date.now(),
  ) {
    this.total = estimatedRows;
  }

  /** Reports every second until stop. */
  start(): void {
    this.timer = setInterval(() => {
      // A progress update that fails (Redis busy) does not fail the copy: the next tick sends another.
      this.report().catch(() => undefined);
    }, 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** A new attempt reads every row again. */
  restart(): void {
    this.streamed = 0;
    this.lastLogged = 0;
  }

  async report(): Promise<void> {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    this.total = Math.max(this.total, this.streamed);
    await this.hooks.onProgress?.({
      rows: this.streamed,
      total: this.total,
      rowsPerSecond: Math.round(this.streamed / seconds),
    });
  }

  /** After a batch: a log line once ten batches more went by. */
  logStreamed(): void {
    if (this.streamed - this.lastLogged < this.batchRows * 10) return;
    this.lastLogged = this.streamed;
    // The log line is for people watching; one that cannot be written does not fail the copy.
    Promise.resolve(this.hooks.onLog?.(`${this.streamed} rows streamed`)).catch(() => undefined);
  }
}
