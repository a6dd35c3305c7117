import { PermanentError, TransientError } from '../core/errors.js';
import { compareBinlogPositions, readBinlogPosition } from '../dialect/mysql/binlog.js';
import { FollowAfterCutover, getFollow, type FollowPosition } from '../state/follow-state.js';
import { getRunStatus } from '../state/runs.js';
import { RunCancelledError } from '../state/run-cancellation.js';
import { ChangeApplier } from './apply-changes.js';
import { BatchApplier, shapeChangedTable } from './batch-applier.js';
import { BinlogStream, type BinlogEvent } from './binlog-stream.js';
import { cascadingKeysOf, type CascadingKey } from './cascades.js';
import { ChangeBatcher, type ChangeBatch, type PreparedXa } from './change-batcher.js';
import { ddlContextOf, meetDdl, type DdlContext } from './ddl-handler.js';
import { withFollowLock } from './follow-lock.js';
import { FollowedCatalog } from './followed-catalog.js';
import { enterFollowing } from './resume-held.js';
import type { FollowInput } from './follow-input.js';
import { FollowMeter } from './follow-progress.js';

/** How a follower ends without an error: cutover went, or the run's tables changed (a table joined or was renamed: the caller follows again with them). */
export type FollowEnd = 'cutover' | 'tables-changed';
export type { FollowInput } from './follow-input.js';

/** Row changes that trigger a batch at once; fewer wait at most BATCH_WAIT_MS. */
const BATCH_EVENTS = 20_000;
const BATCH_WAIT_MS = 100;
/** Committed keys held before reading the binary log pauses until a batch commits (memory bound: keys, not rows). */
const MAX_PENDING_KEYS = 100_000;
/** How often the follower reports and looks at its state (cutover, stop). */
const TICK_MS = 1000;

/**
 * Follows a run's source from its recorded position until cutover marks it done: reads the
 * binary log (BinlogStream), gathers committed changes into batches (ChangeBatcher) and applies
 * each in one PostgreSQL transaction that records the position the next read starts at
 * (BatchApplier). A statement that changes a followed table's shape is applied, held or stops
 * it for good, as `--on-ddl` says (see meetDdl and docs/schema-changes.md).
 */
export async function followRun(input: FollowInput): Promise<FollowEnd> {
  const { runId, target } = input;
  return withFollowLock(target, runId, async () => {
    const state = await getFollow(target, runId);
    if (!state) throw new PermanentError(`run ${runId} does not follow the binary log (started without --follow)`);
    if (state.status === 'done') return 'cutover';
    if (state.status === 'stopped') throw new PermanentError(state.error ?? `run ${runId}: its follower stopped`);
    const resolved = await enterFollowing(input, state);
    const start = { file: state.binlogFile, position: Number(state.binlogPosition) };
    return new Follower(
      input,
      start,
      Number(state.eventsApplied),
      (state.prepared ?? {}) as PreparedXa,
      resolved,
    ).run();
  });
}

class Follower {
  private readonly applier: ChangeApplier;
  private readonly followed: Set<string>;
  private cascades = new Map<string, CascadingKey[]>();
  private readonly batcher: ChangeBatcher;
  private readonly batches: BatchApplier;
  private stream: BinlogStream | null = null;
  /** The batch being applied: its events and the source time of its oldest. */
  private inFlight: { events: number; oldestAt: number | null } | null = null;
  private applied: FollowPosition;
  private flushing: Promise<void> | null = null;
  private cutOver = false; // a batch found that cutover went (nextBatchSeq): nothing more is applied
  private timer: NodeJS.Timeout | null = null;
  private paused = false;
  private failure: ((error: Error) => void) | null = null;
  private finish: ((end: FollowEnd) => void) | null = null;
  private readonly meter = new FollowMeter();
  /** What a schema change goes through (see meetDdl). */
  private readonly ddl: DdlContext;
  /** Set from a DDL statement until its change committed: nothing read after it is taken. */
  private ddlUnderWay = false;

  constructor(
    private readonly input: FollowInput,
    start: FollowPosition,
    private eventsApplied: number,
    prepared: PreparedXa,
    resolved: FollowPosition | null,
  ) {
    const { source, target, runId, onLog, database, tables } = input;
    const catalog = input.catalog instanceof FollowedCatalog ? input.catalog : new FollowedCatalog(input.catalog);
    this.applier = new ChangeApplier(
      source,
      target,
      catalog,
      (t) => tables.get(t)!.input,
      (t) => tables.get(t)!.key,
    );
    this.followed = new Set(tables.keys());
    this.applied = { ...start };
    const cascadesOf = (t: string): CascadingKey[] => this.cascades.get(t) ?? [];
    this.batcher = new ChangeBatcher((t) => tables.get(t)!.key, cascadesOf, prepared);
    this.batches = new BatchApplier(source, target, runId, this.applier, cascadesOf, database, onLog);
    this.ddl = ddlContextOf(input, catalog, this.batches, this.applier, resolved);
  }

  async run(): Promise<FollowEnd> {
    const { input } = this;
    // The target matches the recorded definitions, which MySQL's catalog may be past already.
    await this.ddl.catalog.useRecorded(input.target, input.runId, this.followed);
    await this.applier.prepare(this.followed);
    this.cascades = cascadingKeysOf((await input.catalog.sourceCatalog()).tables, this.followed);
    await input.onLog?.(
      `following the binary log from ${this.applied.file}:${this.applied.position} (${this.followed.size} tables)`,
    );
    let tick: NodeJS.Timeout | undefined;
    const ended = new Promise<FollowEnd>((resolve, reject) => {
      this.failure = reject;
      this.finish = resolve;
      let ticking = false;
      tick = setInterval(() => {
        if (ticking) return;
        ticking = true;
        this.tick().then((end) => {
          ticking = false;
          if (end) resolve(end);
        }, reject);
      }, TICK_MS);
      const abort = (): void =>
        reject(input.signal!.reason instanceof Error ? input.signal!.reason : new TransientError('follow stopped'));
      // A stop that came while the follower was getting ready counts too.
      if (input.signal?.aborted) abort();
      input.signal?.addEventListener('abort', abort, { once: true });
    });
    try {
      this.openStream();
      input.verifier?.watchFollower(() => this.batcher.readEvents + (this.inFlight?.events ?? 0));
      input.verifier?.start();
      return await ended;
    } finally {
      clearInterval(tick);
      if (this.timer) clearTimeout(this.timer);
      this.stream?.stop();
      await input.verifier?.stop();
      // A batch under way commits or rolls back on its own; its position is recorded with it.
      await this.flushing?.catch(() => undefined);
    }
  }

  /** Reads the binary log from the last commit; events of an earlier stream are not taken. */
  private openStream(): void {
    const stream: BinlogStream = new BinlogStream(this.input.sourceConnection, this.input.database, this.followed, {
      onEvent: (event) => {
        if (stream === this.stream) this.onEvent(event);
      },
      onError: (error) => {
        if (stream === this.stream) this.failure?.(error);
      },
    });
    this.stream = stream;
    stream.start(this.applied);
  }

  private onEvent(event: BinlogEvent): void {
    if (this.ddlUnderWay) return;
    if (event.kind === 'ddl') {
      this.onDdl(event);
      return;
    }
    this.batcher.add(event);
    if (this.batcher.pendingKeys >= MAX_PENDING_KEYS && !this.paused) {
      this.stream?.pause();
      this.paused = true;
    }
    this.scheduleFlush();
  }

  /** A batch now when it is big, else within BATCH_WAIT_MS; one batch at a time. */
  private scheduleFlush(): void {
    if (this.flushing) return;
    if (this.batcher.pendingEvents >= BATCH_EVENTS) {
      this.startFlush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (!this.flushing) this.startFlush();
    }, BATCH_WAIT_MS);
  }

  private startFlush(): void {
    if (this.cutOver || this.ddlUnderWay) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // ZongJi's resume point: a transaction boundary at or before the last event read; every
    // transaction committed before it is in the batcher's committed changes.
    const next = this.stream?.resumePoint() ?? null;
    const moved = next !== null && compareBinlogPositions(next, this.applied) > 0;
    if (this.batcher.pendingEvents === 0 && !moved) return;
    const batch = this.batcher.take();
    const at = next ?? this.applied;
    this.inFlight = { events: batch.events, oldestAt: batch.oldestAt };
    this.flushing = this.batches
      .apply(batch, at)
      .catch((error: Error) => this.syncShape(error, batch, at))
      .then(
        () => {
          this.flushing = null;
          this.inFlight = null;
          this.applied = at;
          this.eventsApplied += batch.events;
          if (this.paused && this.batcher.pendingKeys < MAX_PENDING_KEYS) {
            this.paused = false;
            this.stream?.resume();
          }
          if (this.batcher.pendingEvents > 0) this.scheduleFlush();
        },
        (error: Error) => {
          this.flushing = null;
          // After a go the follower only waits for its next look at its state, which ends it.
          this.cutOver = error instanceof FollowAfterCutover;
          if (this.cutOver) this.stream?.stop();
          else this.failure?.(error);
        },
      );
  }

  /**
   * A batch whose rows MySQL now holds in a newer definition (its catalog changed by a statement
   * the stream has not reached: a column renamed or dropped) fails on the first SELECT: the change
   * is applied with the batch, at its position, as if met there (see docs/schema-changes.md).
   */
  private async syncShape(error: Error, batch: ChangeBatch, at: FollowPosition): Promise<void> {
    const table = shapeChangedTable(error);
    if (table === null) throw error;
    const statement = "(the batch's rows met a newer definition in MySQL's catalog)";
    const ddl = { kind: 'ddl' as const, verb: 'ALTER TABLE', table, statement, ...at, before: at };
    await meetDdl(ddl, this.ddl, { flushing: null, take: () => batch, unchanged: error });
  }

  /** Stops reading at the statement; goes on past it once its change committed (see meetDdl). */
  private onDdl(ddl: Extract<BinlogEvent, { kind: 'ddl' }>): void {
    this.ddlUnderWay = true;
    this.stream?.stop();
    this.stream = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    meetDdl(ddl, this.ddl, { flushing: this.flushing, take: () => this.batcher.take() }).then(
      ({ at, events, tablesChanged }) => {
        this.applied = at;
        this.eventsApplied += events;
        // The run's tables changed: the caller reads them again and follows on from here.
        if (tablesChanged) return this.finish?.('tables-changed');
        this.ddlUnderWay = false;
        this.openStream();
      },
      (error: Error) => this.failure?.(error),
    );
  }

  /** Reports progress and reads the state: cutover marks it done. */
  private async tick(): Promise<FollowEnd | null> {
    const { input } = this;
    const state = await getFollow(input.target, input.runId);
    if (state?.status === 'done') {
      await this.flushing;
      return 'cutover';
    }
    if (state?.status === 'stopped') throw new PermanentError(state.error ?? 'the follower was stopped');
    if ((await getRunStatus(input.target, input.runId)) === 'cancelled') throw new RunCancelledError(input.runId);
    const eventsPerSecond = this.meter.rate(this.eventsApplied);
    // Transactions of tables not followed (other databases too) move the position without a row
    // event here: the position alone is committed, so that cutover's drain sees it arrive.
    if (!this.flushing && this.batcher.pendingEvents === 0) this.startFlush();
    const readTo = this.stream?.resumePoint() ?? this.applied;
    let bytesBehind = -1;
    try {
      const end = await readBinlogPosition(input.source, { gtid: false });
      bytesBehind = end.file === readTo.file ? Math.max(0, end.position - readTo.position) : -1;
    } catch {
      // The figure is a courtesy: a source that does not answer shows as unknown (-1).
    }
    const lagSeconds = this.meter.lag([this.inFlight?.oldestAt ?? null, this.batcher.oldestPendingAt], bytesBehind);
    input.verifier?.noteFollowerLag(lagSeconds);
    const verification = input.verifier?.figures();
    const verified = verification
      ? `; verified ${verification.tablesVerified}/${verification.tables} tables, ${verification.keysWaiting} keys to re-verify`
      : '';
    await input.onProgress?.({
      status: 'following',
      eventsApplied: this.eventsApplied,
      eventsPerSecond,
      eventsPending: this.batcher.pendingEvents + (this.inFlight?.events ?? 0),
      bytesBehind,
      lagSeconds,
      file: this.applied.file,
      position: this.applied.position,
      ...(verification ? { verification } : {}),
      step: `following: ${this.eventsApplied} events applied (${eventsPerSecond}/s), lag ${lagSeconds} s, at ${this.applied.file}:${this.applied.position}${verified}`,
    });
    return null;
  }
}
