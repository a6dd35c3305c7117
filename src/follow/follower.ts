import ZongJi from '@vlasky/zongji';
import type { DataSource } from 'typeorm';
import { PermanentError, TransientError } from '../core/errors.js';
import { isPermanentError } from '../dialect/driver-errors.js';
import { compareBinlogPositions, readBinlogPosition } from '../dialect/mysql/binlog.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import type { CopyTableInput } from '../copy/copy-plan.js';
import {
  addFollowAdjustments,
  recordAppliedBatch,
  getFollow,
  setFollowStatus,
  type FollowPosition,
} from '../state/follow-state.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { getRunStatus } from '../state/runs.js';
import { RunCancelledError } from '../run/run-cancellation.js';
import { ChangeApplier, type ChangedKey } from './apply-changes.js';
import { cascadingKeysOf, type CascadingKey } from './cascades.js';
import { ddlOnFollowedTable } from './ddl-statement.js';

/** What the follow job reports (Bull Board shows it as is; status reads it). */
export interface FollowProgress {
  status: 'following';
  /** Row changes applied since the run began following. */
  eventsApplied: number;
  /** Row changes applied per second over the last few seconds. */
  eventsPerSecond: number;
  /** Row changes read from the binary log and not applied yet. */
  eventsPending: number;
  /** Bytes of binary log the source has written past what the follower has read (same file only; -1 across files). */
  bytesBehind: number;
  /** Seconds (to a tenth) between the source committing the oldest change not yet applied and now; 0 when caught up. */
  lagSeconds: number;
  /** Where the next read would start (the last batch's commit). */
  file: string;
  position: number;
  /** The same in one line, as Bull Board and the logs show it. */
  step: string;
}

/** How a follower ends without an error: cutover went (every other end is an error). */
export type FollowEnd = 'cutover';

/** A follower's input: the run's databases, catalog, how to reach the source's binary log, and each followed table. */
export interface FollowInput {
  runId: string;
  source: DataSource;
  target: DataSource;
  catalog: RunCatalog;
  /** The source's mysql2 connection options (host, port, user, password, database). */
  sourceConnection: Record<string, unknown>;
  database: string;
  /** Source table → its copy input and the key its rows are matched by. */
  tables: ReadonlyMap<string, { input: CopyTableInput; key: readonly string[] }>;
  signal?: AbortSignal | undefined;
  onProgress?: (progress: FollowProgress) => void | Promise<void>;
  onLog?: (line: string) => void | Promise<void>;
}

/** Row changes that trigger a batch at once; fewer wait at most BATCH_WAIT_MS. */
const BATCH_EVENTS = 20_000;
const BATCH_WAIT_MS = 100;
/** Changed keys held before reading the binary log pauses until a batch commits (memory bound: keys, not rows). */
const MAX_PENDING_KEYS = 100_000;
/** How long after its first reading a batch's keys are read again (see Follower.applyBatch). */
const RECHECK_MS = 300;
/** How often the follower reports and looks at its state (cutover, stop). */
const TICK_MS = 1000;

// Any constant works; it only has to be the same in every my2pg process (see state/schema.ts).
const FOLLOW_LOCK_CLASS = 0x6d793266; // "my2f"

interface ZongJiEvent {
  getEventName(): string;
  timestamp: number;
  nextPosition: number;
  tableId?: number;
  tableMap?: Record<number, { parentSchema: string; tableName: string }>;
  rows?: (Record<string, unknown> | { before: Record<string, unknown>; after: Record<string, unknown> })[];
  query?: string;
  schema?: string;
}

interface ZongJiLike {
  on(event: string, handler: (arg: never) => void): void;
  start(options: Record<string, unknown>): void;
  stop(): void;
  options: { filename?: string; position?: number };
  connection?: { pause(): void; resume(): void };
}

/**
 * Follows a run's source from its recorded position until cutover marks it done: reads row
 * events with ZongJi, gathers the changed keys, and applies each batch (see ChangeApplier) in
 * one PostgreSQL transaction that also records the position the next read starts at. Holds a
 * per-run advisory lock, so two workers never follow one run at once. A statement that changes
 * a followed table's shape stops it for good, naming the statement; nothing past it is applied.
 */
export async function followRun(input: FollowInput): Promise<FollowEnd> {
  const { runId, target } = input;
  return withPgClient(target, async (lockClient) => {
    const locked = await lockClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [
      FOLLOW_LOCK_CLASS,
      runId,
    ]);
    if (!locked.rows[0]?.ok)
      throw new TransientError(
        `run ${runId}: another worker is following its binary log; this attempt waits for it to stop`,
      );
    try {
      const state = await getFollow(target, runId);
      if (!state) throw new PermanentError(`run ${runId} does not follow the binary log (started without --follow)`);
      if (state.status === 'done') return 'cutover';
      if (state.status === 'stopped') throw new PermanentError(state.error ?? `run ${runId}: its follower stopped`);
      await setFollowStatus(target, runId, 'following');
      return await new Follower(
        input,
        { file: state.binlogFile, position: Number(state.binlogPosition) },
        Number(state.eventsApplied),
      ).run();
    } finally {
      await lockClient
        .query('SELECT pg_advisory_unlock($1, hashtext($2))', [FOLLOW_LOCK_CLASS, runId])
        .catch(() => undefined);
    }
  });
}

/** Keys by table, each once (the JSON of its values). */
type KeysByTable = Map<string, Map<string, ChangedKey>>;

/** A batch applied once, waiting for its second reading; its position is recorded with it. */
interface Recheck {
  tables: KeysByTable;
  next: FollowPosition;
  events: number;
  lastEventAt: number | null;
  dueAt: number;
}

/** What one transaction applies. */
interface Batch {
  tables: KeysByTable;
  cascades: { key: CascadingKey; values: Map<string, ChangedKey> }[];
  events: number;
  lastEventAt: number | null;
  /** Where the next read starts once this batch is applied. */
  next: FollowPosition;
  /** Earlier batches read again now. */
  due: Recheck[];
}

class Follower {
  private readonly applier: ChangeApplier;
  private readonly followed: Set<string>;
  /** Changed keys by table, each once (the JSON of its values). */
  private pending = new Map<string, Map<string, ChangedKey>>();
  /** Rows MySQL changed through a foreign key's action (not in the binary log): the referencing table and columns, and the old values. */
  private pendingCascades = new Map<string, { key: CascadingKey; values: Map<string, ChangedKey> }>();
  /** Per followed table, the foreign keys of followed tables that reference it with an action that changes rows. */
  private cascades = new Map<string, CascadingKey[]>();
  private pendingEvents = 0;
  private pendingKeys = 0;
  /** When the oldest change not yet applied happened (see onEvent), and the source time of the newest. */
  private oldestPendingAt: number | null = null;
  private newestPendingAt: number | null = null;
  /** Batches applied once, oldest first, waiting for their second reading. */
  private rechecks: Recheck[] = [];
  /** The batch being applied: its events and the source time of its oldest. */
  private inFlight: { events: number; oldestAt: number | null } | null = null;
  /** Since when the source's log has been ahead of what was read, with nothing pending. */
  private behindSince: number | null = null;
  private applied: FollowPosition;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private paused = false;
  private zongji: ZongJiLike | null = null;
  private failure: ((error: Error) => void) | null = null;
  /** Events applied per tick, for the rate. */
  private readonly history: { at: number; events: number }[] = [];

  constructor(
    private readonly input: FollowInput,
    start: FollowPosition,
    private eventsApplied: number,
  ) {
    this.applier = new ChangeApplier(
      input.source,
      input.target,
      input.catalog,
      (t) => input.tables.get(t)!.input,
      (t) => input.tables.get(t)!.key,
    );
    this.followed = new Set(input.tables.keys());
    this.applied = { ...start };
  }

  async run(): Promise<FollowEnd> {
    const { input } = this;
    await this.applier.prepare(this.followed);
    this.cascades = cascadingKeysOf((await input.catalog.sourceCatalog()).tables, this.followed);
    await input.onLog?.(
      `following the binary log from ${this.applied.file}:${this.applied.position} (${this.followed.size} tables)`,
    );
    let tick: NodeJS.Timeout | undefined;
    const ended = new Promise<FollowEnd>((resolve, reject) => {
      this.failure = reject;
      let ticking = false;
      tick = setInterval(() => {
        if (ticking) return;
        ticking = true;
        this.tick().then((end) => {
          ticking = false;
          if (end) resolve(end);
        }, reject);
      }, TICK_MS);
      input.signal?.addEventListener(
        'abort',
        () =>
          reject(input.signal!.reason instanceof Error ? input.signal!.reason : new TransientError('follow stopped')),
        { once: true },
      );
    });
    try {
      this.startStream();
      return await ended;
    } finally {
      clearInterval(tick);
      if (this.timer) clearTimeout(this.timer);
      this.zongji?.stop();
      // A batch under way commits or rolls back on its own; its position is recorded with it.
      await this.flushing?.catch(() => undefined);
    }
  }

  private startStream(): void {
    const { input } = this;
    const zongji = new ZongJi({
      ...input.sourceConnection,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      jsonStrings: true,
    }) as unknown as ZongJiLike;
    this.zongji = zongji;
    zongji.on('error', (error: Error) =>
      this.failure?.(new TransientError(`binary log stream: ${error.message}`, { cause: error })),
    );
    zongji.on('binlog', (event: ZongJiEvent) => {
      try {
        this.onEvent(event);
      } catch (error) {
        this.failure?.(error as Error);
      }
    });
    zongji.start({
      filename: this.applied.file,
      position: this.applied.position,
      // A server id of its own per process: two streams with one id would cut each other off.
      serverId: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'query', 'xid'],
      includeSchema: { [input.database]: [...this.followed] },
    });
  }

  private onEvent(event: ZongJiEvent): void {
    const name = event.getEventName();
    if (name === 'query') {
      const ddl = ddlOnFollowedTable(event.query ?? '', this.input.database, event.schema || null, this.followed);
      if (ddl) this.stopForDdl(ddl, event);
      return;
    }
    if (name !== 'writerows' && name !== 'updaterows' && name !== 'deleterows') {
      this.scheduleFlush();
      return;
    }
    const table = event.tableMap?.[event.tableId ?? -1];
    if (!table || table.parentSchema !== this.input.database || !this.followed.has(table.tableName)) return;
    const key = this.input.tables.get(table.tableName)!.key;
    let keys = this.pending.get(table.tableName);
    if (!keys) this.pending.set(table.tableName, (keys = new Map()));
    const add = (row: Record<string, unknown>): void => {
      const values = key.map((column) => row[column] as string | number | Buffer);
      const text = keyText(values);
      if (!keys.has(text)) {
        keys.set(text, values);
        this.pendingKeys += 1;
      }
    };
    const cascades = this.cascades.get(table.tableName) ?? [];
    for (const row of event.rows ?? []) {
      if (name === 'updaterows') {
        const change = row as { before: Record<string, unknown>; after: Record<string, unknown> };
        // A key that changed: the old key's row goes, the new one's is written.
        add(change.before);
        add(change.after);
        for (const fk of cascades)
          if (fk.onUpdate && fk.parentColumns.some((c) => !sameValue(change.before[c], change.after[c])))
            this.addCascade(fk, change.before);
      } else {
        add(row as Record<string, unknown>);
        if (name === 'deleterows')
          for (const fk of cascades) if (fk.onDelete) this.addCascade(fk, row as Record<string, unknown>);
      }
      this.pendingEvents += 1;
    }
    // When the change happened, as near as can be told: the binary log's time is in whole
    // seconds (the commit was within the second after it), and it was no later than now.
    this.oldestPendingAt ??= Math.min(Date.now(), event.timestamp + 999);
    this.newestPendingAt = event.timestamp;
    if (this.pendingKeys >= MAX_PENDING_KEYS && !this.paused && this.zongji?.connection) {
      this.zongji.connection.pause();
      this.paused = true;
    }
    this.scheduleFlush();
  }

  /** The rows of `fk.child` that referenced this parent row's old values: MySQL changed them without a row event. */
  private addCascade(fk: CascadingKey, parent: Record<string, unknown>): void {
    const values = fk.parentColumns.map((c) => parent[c] as string | number | Buffer);
    if (values.some((v) => v === null || v === undefined)) return;
    const id = `${fk.child}\u0000${fk.childColumns.join('\u0000')}`;
    let entry = this.pendingCascades.get(id);
    if (!entry) this.pendingCascades.set(id, (entry = { key: fk, values: new Map() }));
    entry.values.set(keyText(values), values);
  }

  /**
   * ZongJi's resume point: the transaction boundary at or before the last event read (it follows
   * rotations, and moves with transactions of tables not followed too); null before it has one.
   */
  private resumePoint(): FollowPosition | null {
    const options = this.zongji?.options;
    return options?.filename && options.position ? { file: options.filename, position: options.position } : null;
  }

  /** A batch now when it is big, else within BATCH_WAIT_MS; one batch at a time. */
  private scheduleFlush(): void {
    if (this.flushing) return;
    if (this.pendingEvents >= BATCH_EVENTS) {
      this.startFlush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (!this.flushing) this.startFlush();
    }, BATCH_WAIT_MS);
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const now = Date.now();
    // ZongJi's resume point: a transaction boundary at or before the last event read, so every
    // row event before it is in this batch (a replay from it re-applies a few keys, harmlessly).
    const next = this.resumePoint();
    const moved = next !== null && compareBinlogPositions(next, this.applied) > 0;
    const due = this.rechecks.filter((r) => r.dueAt <= now);
    if (this.pendingEvents === 0 && !moved && due.length === 0) return;
    this.rechecks = this.rechecks.filter((r) => r.dueAt > now);
    const batch: Batch = {
      tables: this.pending,
      cascades: [...this.pendingCascades.values()],
      events: this.pendingEvents,
      lastEventAt: this.newestPendingAt,
      next: next ?? this.applied,
      due,
    };
    this.inFlight = { events: this.pendingEvents, oldestAt: this.oldestPendingAt };
    this.pending = new Map();
    this.pendingCascades = new Map();
    this.pendingEvents = 0;
    this.pendingKeys = 0;
    this.oldestPendingAt = null;
    this.newestPendingAt = null;
    this.flushing = this.applyBatch(batch).then(
      () => {
        this.flushing = null;
        this.inFlight = null;
        if (this.paused) {
          this.paused = false;
          this.zongji?.connection?.resume();
        }
        // This batch's keys are read once more a moment later, and only then is its position recorded.
        if (batch.events > 0 || moved)
          this.rechecks.push({
            tables: batch.tables,
            next: batch.next,
            events: batch.events,
            lastEventAt: batch.lastEventAt,
            dueAt: Date.now() + RECHECK_MS,
          });
        if (this.pendingEvents > 0) this.scheduleFlush();
        else this.scheduleRecheck();
      },
      (error: Error) => {
        this.flushing = null;
        this.failure?.(error);
      },
    );
  }

  /** A flush when the first recheck is due, unless one comes sooner. */
  private scheduleRecheck(): void {
    const first = this.rechecks[0];
    if (!first || this.timer || this.flushing) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        if (!this.flushing) this.startFlush();
      },
      Math.max(0, first.dueAt - Date.now()),
    );
  }

  /**
   * One PostgreSQL transaction: the rows foreign key actions changed, this batch's keys and the
   * keys of earlier batches due for their second reading, each read from MySQL as it is now;
   * then the position of the last batch read twice. MySQL sends a transaction's events once
   * it is in the binary log, which can be a moment before its rows can be read: the second
   * reading, RECHECK_MS later, is what makes the recorded position a promise that every change
   * before it is in the target.
   */
  private async applyBatch(batch: Batch): Promise<void> {
    await withPgClient(this.input.target, async (pg: PoolClient) => {
      await pg.query("BEGIN; SET LOCAL timezone = 'UTC'; SET LOCAL lock_timeout = '60s'");
      try {
        await this.applyCascades(pg, batch.cascades, batch.tables);
        // This batch's keys first, counting what a policy changed in them; then the keys read a
        // second time that this batch does not hold (already counted at their first reading).
        const again = new Map<string, Map<string, ChangedKey>>();
        for (const due of batch.due) {
          for (const [table, keys] of due.tables) {
            const fresh = batch.tables.get(table);
            let merged = again.get(table);
            if (!merged) again.set(table, (merged = new Map()));
            for (const [text, key] of keys) if (!fresh?.has(text)) merged.set(text, key);
          }
        }
        for (const [tables, counted] of [
          [batch.tables, true],
          [again, false],
        ] as const) {
          for (const [table, keys] of tables) {
            if (keys.size === 0) continue;
            try {
              const { adjustments } = await this.applier.apply(pg, table, [...keys.values()]);
              if (counted && Object.keys(adjustments).length > 0)
                await addFollowAdjustments(pg, this.input.runId, table, adjustments);
            } catch (error) {
              throw describeApplyFailure(error, table);
            }
          }
        }
        const recorded = batch.due.at(-1);
        if (recorded) {
          await recordAppliedBatch(pg, this.input.runId, {
            next: recorded.next,
            events: batch.due.reduce((n, d) => n + d.events, 0),
            lastEventAt: recorded.lastEventAt === null ? null : new Date(recorded.lastEventAt),
          });
        }
        await pg.query('COMMIT');
      } catch (error) {
        await pg.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
    this.applied = batch.next;
    this.eventsApplied += batch.events;
  }

  /**
   * First, the rows foreign key actions changed: the target rows that referenced the old values
   * go, and their keys join the batch, so that each is read again from MySQL (gone after ON
   * DELETE CASCADE, with its new values after ON UPDATE CASCADE or SET NULL). Their own
   * referencing rows follow, level by level.
   */
  private async applyCascades(
    pg: PoolClient,
    cascades: { key: CascadingKey; values: Map<string, ChangedKey> }[],
    tables: Map<string, Map<string, ChangedKey>>,
  ): Promise<void> {
    let level = cascades.map((c) => ({ key: c.key, values: [...c.values.values()] }));
    for (let depth = 0; level.length > 0 && depth < 16; depth++) {
      const next: { key: CascadingKey; values: ChangedKey[] }[] = [];
      for (const { key, values } of level) {
        const below = this.cascades.get(key.child) ?? [];
        const returning = [...new Set(below.flatMap((fk) => fk.parentColumns))];
        const removed = await this.applier.removeReferencing(pg, key.child, key.childColumns, values, returning);
        let keys = tables.get(key.child);
        if (!keys) tables.set(key.child, (keys = new Map()));
        for (const row of removed) keys.set(keyText(row.key), row.key);
        for (const fk of below) {
          const columns = fk.parentColumns.map((c) => returning.indexOf(c));
          next.push({ key: fk, values: removed.map((row) => columns.map((i) => row.returned[i]!)) });
        }
      }
      level = next.filter((n) => n.values.length > 0);
    }
  }

  private stopForDdl(ddl: { verb: string; table: string }, event: ZongJiEvent): void {
    const statement = (event.query ?? '').replace(/\s+/g, ' ').trim();
    const message = `${ddl.verb} on followed table ${ddl.table} at ${this.resumePoint()?.file ?? this.applied.file}:${event.nextPosition} (${statement.length > 200 ? `${statement.slice(0, 200)}…` : statement}): the follower stopped for good; nothing past it was applied. Start a new run to migrate the table as it is now`;
    // Nothing more is read; changes read before it and not applied yet stay unapplied, since
    // applying them would read rows as they are after the statement.
    this.zongji?.stop();
    const stop = async (): Promise<never> => {
      await this.flushing?.catch(() => undefined);
      await setFollowStatus(this.input.target, this.input.runId, 'stopped', message);
      throw new PermanentError(message, { table: ddl.table });
    };
    stop().catch((error: Error) => this.failure?.(error));
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
    const now = Date.now();
    this.history.push({ at: now, events: this.eventsApplied });
    while (this.history.length > 6) this.history.shift();
    const first = this.history[0]!;
    const eventsPerSecond =
      now > first.at ? Math.round(((this.eventsApplied - first.events) * 1000) / (now - first.at)) : 0;
    // Transactions of tables not followed (other databases too) move the position without a row
    // event here: the position alone is committed, so that cutover's drain sees it arrive.
    if (!this.flushing && this.pendingEvents === 0) this.startFlush();
    // ZongJi's resume point moves with every transaction read, followed or not.
    const readTo = this.resumePoint() ?? this.applied;
    let bytesBehind = -1;
    try {
      const end = await readBinlogPosition(input.source, { gtid: false });
      bytesBehind = end.file === readTo.file ? Math.max(0, end.position - readTo.position) : -1;
    } catch {
      // The figure is a courtesy: a source that does not answer shows as unknown (-1).
    }
    // Behind by the oldest change read and not applied yet; with none, since the source's log
    // has stood ahead of what was read (an idle source's last event is no measure); else not behind.
    const oldest = [this.inFlight?.oldestAt ?? null, this.oldestPendingAt].filter((t): t is number => t !== null);
    if (oldest.length > 0 || bytesBehind === 0) this.behindSince = null;
    else this.behindSince ??= now;
    const since = oldest.length > 0 ? Math.min(...oldest) : (this.behindSince ?? now);
    const lagSeconds = Math.max(0, Math.round((now - since) / 100) / 10);
    await input.onProgress?.({
      status: 'following',
      eventsApplied: this.eventsApplied,
      eventsPerSecond,
      eventsPending: this.pendingEvents + (this.inFlight?.events ?? 0),
      bytesBehind,
      lagSeconds,
      file: this.applied.file,
      position: this.applied.position,
      step: `following: ${this.eventsApplied} events applied (${eventsPerSecond}/s), lag ${lagSeconds} s, at ${this.applied.file}:${this.applied.position}`,
    });
    return null;
  }
}

/** A key's values as one string, to hold each key once. */
function keyText(values: ChangedKey): string {
  return JSON.stringify(
    values.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : typeof v === 'object' ? `pg:${v.text}` : v)),
  );
}

/** Whether two values of a row image are equal (bytes by content). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

/** A batch that failed on one table: a table changed under the follower is named as such. */
function describeApplyFailure(error: unknown, table: string): Error {
  const code = (error as { errno?: number }).errno;
  // ER_BAD_FIELD_ERROR, ER_NO_SUCH_TABLE: the table's shape changed on the source since the copy.
  if (code === 1054 || code === 1146) {
    return new PermanentError(
      `table ${table} changed on the source while it was followed (${(error as Error).message}); the follower stopped for good. Start a new run to migrate the table as it is now`,
      { table, cause: error },
    );
  }
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  // A value PostgreSQL refuses (out of range, too long, a constraint) stays refused however often it is tried.
  if (isPermanentError(error)) {
    return new PermanentError(
      `table ${table}: PostgreSQL refused a changed row (${(error as Error).message}); the follower stopped for good rather than skip it. Fix the row in MySQL or start a new run with a column type that holds it`,
      { table, cause: error },
    );
  }
  return new TransientError(`table ${table}: applying changes failed: ${(error as Error).message}`, {
    table,
    cause: error,
  });
}
