import type { DataSource } from 'typeorm';
import { describeError } from '../core/errors.js';
import {
  logDifferingKeys,
  readFlaggedKeys,
  readKeysToRecheck,
  recordRecheck,
  type LoggedKey,
} from '../state/change-log.js';
import type { RunRow } from '../state/entities.js';
import {
  advanceVerifiedSeq,
  currentBatchSeq,
  forgetVerifiedKeys,
  listLiveTables,
  recordWholeComparison,
  type LiveTableRow,
} from '../state/live-tables.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { checksumTable, type ChecksumInput, type TableChecksum } from './checksum.js';
import { measureLiveFigures, notePass, type LiveFigures, type LiveRates } from './live-figures.js';
import { describeVerificationProblem } from './verify-run.js';
import { withVerifyLock } from './verify-lock.js';
import { ComparisonStopped, compareKeysNow } from './compare-keys.js';
import { FollowerGate } from './follower-gate.js';

/** A followed table as verification while following sees it. */
export interface LiveTable {
  table: string;
  targetTable: string;
  /** The key the follower matches rows by (source column names): the change log's keys are its values. */
  key: readonly string[];
  /** Every key column an integer or a character string: a difference's key, as verification prints it, names its row exactly. */
  plainKey: boolean;
  /** The source's estimate of its rows (what a whole comparison reads, before one is done). */
  estimatedRows: number;
}

/** Keys re-verified per round trip; a differing chunk is halved until its differing keys are found. */
const RECHECK_CHUNK = 2000;
/** A whole comparison lists every write in flight (a 1 s lag at 1,000 writes/s), else it is compared whole again and again. */
const LISTED = { maxListed: 20_000, maxDrilledRanges: 1_000 };
/** A follower further behind than this, s, has the machine to itself: no verification pass starts. */
const YIELD_LAG_SECONDS = 2;

/**
 * Verification while following (see docs/live-verification.md). Each table is compared whole
 * once, against the follower's last batch when the comparison began (seq): every key it wrote
 * later is in my2pg.change_log with a later seq and is re-verified afterwards, so a comparison
 * that overlapped the follower's writes proves every other key. Then only the logged keys are
 * re-verified, again and again, and the table holds for the batch they were read after. The
 * freeze re-verifies what is left (finish).
 */
export class LiveVerification {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private last: LiveFigures | undefined;
  private followerLag = 0;
  /** Per table, how far a re-verification of the batches (after, upTo] has come: the last batch and key done. */
  private readonly cursors = new Map<string, { after: number; upTo: number; seq: number; key: string }>();
  private readonly rates: LiveRates = { rechecked: 0, recheckMs: 0, compared: 0, compareMs: 0, pass: null };
  /** Background comparisons pause while the follower has a backlog (not at the freeze: the follower is drained then). */
  private readonly gate = new FollowerGate();

  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
    private readonly run: RunRow,
    private readonly catalog: RunCatalog | undefined,
    private readonly tables: readonly LiveTable[],
    private readonly log: (line: string) => void | Promise<void> = () => undefined,
    /** Work done in each pass under the verify lock before the verified keys are forgotten (the foreign keys added while following). */
    private readonly beside?: { pass(): Promise<void> },
  ) {}

  /** Passes over every table, one after another, until stop(); each pass takes the verify lock, or waits for the next when cutover holds it. */
  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        let busy = false;
        // The follower first: no pass starts while it is behind (both share the machine).
        if (this.followerLag > YIELD_LAG_SECONDS) {
          await this.pause();
          continue;
        }
        try {
          busy = (await withVerifyLock(this.target, this.run.id, false, () => this.pass())) ?? false;
        } catch (error) {
          if (!(error instanceof ComparisonStopped))
            await this.log(`verification while following: ${describeError(error)}; trying again`);
        }
        if (this.stopped) break;
        // Another pass at once while keys are waiting; a pause when there was nothing to do.
        if (busy) continue;
        await this.pause();
      }
    })();
  }

  /** The follower's lag, s, as it last reported it. */
  noteFollowerLag(seconds: number): void {
    this.followerLag = seconds;
  }

  /** The follower's unapplied row events, read as rows are compared: a backlog pauses the comparison (see FollowerGate). */
  watchFollower(backlog: () => number): void {
    this.gate.watch(backlog);
  }

  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      setTimeout(resolve, 1000);
    });
  }

  /** Ends the passes: the one under way stops after its current comparison (a worker stopping hands its job back at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  figures(): LiveFigures | undefined {
    return this.last;
  }

  /** One pass: tables not verified yet compared whole, the others' logged keys re-verified; then the figures. Returns whether it found work. */
  async pass(): Promise<boolean> {
    const started = Date.now() - this.gate.paused().ms;
    let work = 0;
    let whole = false;
    for (const live of await listLiveTables(
      this.target,
      this.run.id,
      this.tables.map((t) => t.table),
    )) {
      if (this.stopped) return false;
      const table = this.tables.find((t) => t.table === live.tableName);
      if (!table) continue;
      if (live.status === 'verified') work += await this.recheck(table, live, RECHECK_CHUNK * 10, this.gate);
      else {
        await this.compareWhole(table, this.gate);
        work += 1;
        whole = true;
        // The figures as each whole comparison is done: status and cutover's prediction see a
        // long first pass move (a count of the change log, so not after every re-verification).
        this.last = await this.measure();
      }
    }
    if (this.beside && !this.stopped) {
      try {
        await this.beside.pass();
      } catch (error) {
        await this.log(`foreign keys while following: ${describeError(error)}; trying again`);
      }
    }
    await forgetVerifiedKeys(this.target, this.run.id);
    // What the freeze's re-verification repeats (the same reads of every table's state, the foreign
    // key check, the keys), pauses for the follower left out: cutover's prediction starts from it.
    if (!whole && !this.stopped) notePass(this.rates, Date.now() - this.gate.paused().ms - started, work);
    this.last = await this.measure();
    return work > 0;
  }

  /**
   * The freeze's part: with the follower drained to the frozen position, every table not
   * verified yet is compared whole, and every logged key re-verified, until none is left.
   */
  async finish(): Promise<void> {
    for (const live of await listLiveTables(
      this.target,
      this.run.id,
      this.tables.map((t) => t.table),
    )) {
      const table = this.tables.find((t) => t.table === live.tableName);
      if (!table) continue;
      if (live.status !== 'verified') await this.compareWhole(table, undefined);
      // Until the table holds for the drained follower's last batch (a background cursor may stop short of it).
      const last = await currentBatchSeq(this.target, this.run.id);
      for (;;) {
        const now = (await listLiveTables(this.target, this.run.id, [table.table])).find(
          (t) => t.tableName === table.table,
        );
        if (now?.status !== 'verified' || Number(now.verifiedSeq) >= last) break;
        await this.recheck(table, now, Number.POSITIVE_INFINITY);
      }
    }
    this.last = await this.measure();
  }

  /** The figures status, the board and cutover's prediction read. */
  async measure(): Promise<LiveFigures> {
    return measureLiveFigures(this.target, this.run.id, this.tables, this.rates);
  }

  private input(table: LiveTable): ChecksumInput {
    const { run } = this;
    return {
      table: table.table,
      targetSchema: run.targetSchema,
      targetTable: table.targetTable,
      columns: Array.isArray(run.options.columns?.[table.table])
        ? (run.options.columns[table.table] as string[])
        : undefined,
      where: run.options.where?.[table.table],
      naming: run.options.naming,
      catalog: this.catalog,
    };
  }

  /** With `gate` (in the background), the reads pause while the follower has a backlog: the argument holds for any pause (each side is read in one snapshot). */
  private async compareWhole(table: LiveTable, gate: FollowerGate | undefined): Promise<void> {
    const seq = await currentBatchSeq(this.target, this.run.id);
    const options = gate ? { ...LISTED, gate } : LISTED;
    const check = await checksumTable(this.source, this.target, this.input(table), options);
    this.rates.compared += check.sourceRows;
    this.rates.compareMs += check.durationMs;
    // A difference's key as printed (long values cut, bytes in hex) names its row only for plain keys.
    const listedAll =
      table.plainKey &&
      check.note === undefined &&
      check.differences.length === check.differenceCount &&
      check.differences.every((d) => table.key.every((c) => typeof d.key[c] === 'string' && !d.key[c]!.endsWith('…')));
    const equal = check.status === 'verified' || check.status === 'rejected';
    // Differences the comparison could list are re-verified like logged keys (most are writes
    // under way); a table whose differences could not all be listed is compared whole again.
    if (!equal && listedAll) await this.logDifferences(table, check, seq);
    const problem = equal || listedAll ? null : describeVerificationProblem({ ...check, rejected: 0, at: '' });
    await recordWholeComparison(this.target, this.run.id, table.table, {
      seq,
      rows: check.sourceRows,
      fullMs: check.durationMs,
      problem,
    });
    if (problem) await this.log(`verification while following: ${problem}; compared again on the next pass`);
  }

  private async logDifferences(table: LiveTable, check: TableChecksum, seq: number): Promise<void> {
    const keys = check.differences.map((d) => table.key.map((column) => d.key[column] ?? null));
    await logDifferingKeys(this.target, this.run.id, table.table, seq, keys, 'found by the whole comparison');
  }

  /**
   * Re-verifies the keys found different or written outside the follower, then the keys logged
   * after the table's verified batch up to the follower's batch now (at most `limit` a call; a
   * cursor by batch and key carries on where it stopped), and then moves that batch on.
   */
  private async recheck(table: LiveTable, live: LiveTableRow, limit: number, gate?: FollowerGate): Promise<number> {
    const after = Number(live.verifiedSeq);
    let cursor = this.cursors.get(table.table);
    if (cursor?.after !== after)
      cursor = { after, upTo: await currentBatchSeq(this.target, this.run.id), seq: after, key: '' };
    const flagged = await readFlaggedKeys(this.target, this.run.id, table.table, RECHECK_CHUNK);
    if (flagged.length > 0) await this.settle(table, flagged);
    let done = 0;
    while (done < limit && !this.stopped) {
      // Between chunks, in the background, the follower's backlog goes first.
      if (gate?.closed()) await gate.opened();
      const keys = await readKeysToRecheck(this.target, this.run.id, table.table, cursor, RECHECK_CHUNK);
      if (keys.length > 0) {
        await this.settle(table, keys);
        done += keys.length;
        cursor = { ...cursor, seq: keys.at(-1)!.seq, key: JSON.stringify(keys.at(-1)!.pgKey) };
      }
      if (keys.length < RECHECK_CHUNK) {
        await advanceVerifiedSeq(this.target, this.run.id, table.table, cursor.upTo);
        this.cursors.delete(table.table);
        return done;
      }
    }
    this.cursors.set(table.table, cursor);
    return done;
  }

  /** Compares these keys now and records which are equal and which differ, and why. */
  private async settle(table: LiveTable, keys: readonly LoggedKey[]): Promise<void> {
    const started = Date.now();
    const differing = await compareKeysNow(
      this.source,
      this.target,
      { ...this.input(table), keys: undefined },
      table.key,
      keys,
      // A stop does not wait for the halving of a list of hot keys: nothing of it is recorded.
      () => this.stopped,
    );
    const different = new Set(differing.map((d) => d.key));
    await recordRecheck(
      this.target,
      this.run.id,
      table.table,
      keys.filter((k) => !different.has(k)),
      differing,
    );
    this.rates.rechecked += keys.length;
    this.rates.recheckMs += Date.now() - started;
  }
}
