import type { DataSource } from 'typeorm';
import type { Config } from '../config/config.js';
import { countWorkers, waitForRun, type RunSettlement, type TableJobState } from '../queue/job-states.js';
import type { QueueHandles, TableJobRef } from '../queue/run-queue.js';
import type { RunRow } from '../state/entities.js';
import { getRun } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import { listRejectedRows } from '../state/rejected-rows.js';
import { createProgressView, type StderrLane } from './progress.js';
import { countAdjustedTables } from './fidelity-report.js';
import { formatFailures, formatRunReport, shellWord } from './report.js';
import { INTERRUPTED_EXIT_CODE, type StopRequests } from '../core/shutdown.js';
import type { InProcessPool } from '../queue/in-process-pool.js';
import type { Output } from './output.js';
import { copyStatusOf } from '../state/table-status.js';

/** How long no worker may be connected before a wait says so, ms. */
const NO_WORKER_NOTICE_MS = 30_000;
/** How often a wait asks Redis which workers are connected, ms. */
const WORKER_CHECK_MS = 5_000;

/** What a wait works with. */
export interface WaitContext {
  target: DataSource;
  queues: QueueHandles;
  run: RunRow;
  refs: TableJobRef[];
  output: Output;
  config: Config;
  /** Every line printed during the wait goes here (the in-process workers' logs too). */
  lane: StderrLane;
  /** Workers of this process working the run; absent: the run is left to other workers. */
  pool?: InProcessPool | undefined;
  /** Ctrl-C; with a pool, its first signal hands the run back to the queue (exit 130). */
  interruption?: StopRequests | undefined;
}

/** `--schema X` when a command must name the run's schema (not the default). */
function schemaFlag(run: RunRow): string {
  return run.targetSchema === 'public' ? '' : ` --schema ${shellWord(run.targetSchema)}`;
}

/** The command that starts a worker for a run's target, as a person would type it. */
export function workerCommandLine(run: RunRow): string {
  return `npx my2pg worker${schemaFlag(run)}`;
}

/**
 * Watches the workers connected to a run's queue while nobody in this process works it: after
 * 30 s without one, one line says so and how to start one (and again after each new absence),
 * so a wait never hangs silently. Where Redis does not list its clients, the same line comes
 * after 30 s in which no table moved.
 */
function watchWorkers(ctx: WaitContext, lastChange: () => number): { stop(): void } {
  let absentSince: number | undefined;
  let told = false;
  const check = async (): Promise<void> => {
    const count = await countWorkers(ctx.queues);
    const now = Date.now();
    if (count !== null && count > 0) {
      absentSince = undefined;
      told = false;
      return;
    }
    absentSince ??= count === null ? lastChange() : now;
    if (told || now - absentSince < NO_WORKER_NOTICE_MS) return;
    told = true;
    const seconds = Math.round((now - absentSince) / 1000);
    const settings =
      ctx.config.queueBackend === 'redis'
        ? 'MYSQL_URL, DATABASE_URL, REDIS_URL and MY2PG_QUEUE_PREFIX'
        : 'MYSQL_URL and DATABASE_URL (the queue is in the target)';
    const start = `start one with the same ${settings}: ${workerCommandLine(ctx.run)}; or press Ctrl-C and process the jobs here with: npx my2pg resume ${ctx.run.id} --work`;
    ctx.lane.write(
      count === null
        ? `nothing has moved for ${seconds} s and this Redis does not tell which workers are connected (CLIENT LIST); if no worker runs, ${start}`
        : `no worker has been connected to queue ${ctx.queues.names.copy} for ${seconds} s, so the run's jobs wait; ${start}`,
    );
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    check()
      // A notice that could not be checked now is checked again at the next tick.
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, WORKER_CHECK_MS);
  return { stop: () => clearInterval(timer) };
}

/** Lines listing a run's rejected rows (the first `limit`). */
export async function describeRejectedRows(
  target: DataSource,
  runId: string,
  total: number,
  limit = 20,
): Promise<string[]> {
  if (total === 0) return [];
  const rows = await listRejectedRows(target, runId, undefined, limit);
  const lines = rows.map(
    (r) =>
      `rejected: table ${r.tableName}, row ${JSON.stringify(r.key)}${r.columnName ? `, column ${r.columnName}` : ''}: ${r.reason}`,
  );
  if (total > rows.length)
    lines.push(
      `rejected: ${total - rows.length} more rows; all are in table my2pg.rejected_rows (run_id = '${runId}'), with the source row as JSON`,
    );
  return lines;
}

/**
 * Waits for a run with progress on stderr, then prints the report; returns the exit code (0
 * verified, 1 not, 130 interrupted). Interrupted with workers of its own, the run's active
 * jobs go back to the queue at once and the line names both ways on: resume and cancel.
 */
export async function waitAndReport(ctx: WaitContext): Promise<number> {
  const { target, queues, run, output, lane } = ctx;
  const runId = run.id;
  const progress = createProgressView({ tty: output.tty, err: output.err });
  lane.route((line) => progress.log(line));
  let troubled = false;
  let changedAt = Date.now();
  let lastKey = '';
  const watcher = ctx.pool ? undefined : watchWorkers(ctx, () => changedAt);
  const stopWaiting = new AbortController();
  let settlement: RunSettlement | 'interrupted';
  try {
    let followShownAt = 0;
    const waiting = waitForRun(queues, runId, ctx.refs, {
      outageMs: ctx.config.redisOutageMs,
      follow: Boolean(run.options.follow),
      // Every 10 s while it follows: where the follower stands (cutover from another terminal ends the wait).
      onFollow: (f) => {
        if (Date.now() - followShownAt < 10_000) return;
        followShownAt = Date.now();
        lane.write(
          `following: ${f.eventsApplied} events applied (${f.eventsPerSecond}/s), ${f.eventsPending} pending, lag ${f.lagSeconds} s; switch with: npx my2pg cutover ${runId}${schemaFlag(run)} --wait`,
        );
      },
      signal: stopWaiting.signal,
      onRedisTrouble: (error) => {
        const queueServer = ctx.config.queueBackend === 'redis' ? 'Redis' : 'the queue (in the PostgreSQL target)';
        if (error && !troubled)
          lane.write(
            `${queueServer} is unreachable (${error.message}); still waiting, up to ${Math.round(ctx.config.redisOutageMs / 1000)} s`,
          );
        else if (!error && troubled) lane.write(`${queueServer} answers again; waiting`);
        troubled = error !== null;
      },
      onTick: (states: TableJobState[], finalize) => {
        const key = `${states.map((s) => `${s.state}:${s.progress?.rows ?? ''}`).join(',')};${JSON.stringify(finalize.progress)}`;
        if (key !== lastKey) {
          lastKey = key;
          changedAt = Date.now();
        }
        progress.update(states, finalize);
      },
    });
    const interrupted =
      ctx.pool && ctx.interruption
        ? ctx.interruption.first.then(() => 'interrupted' as const)
        : new Promise<never>(() => undefined);
    settlement = await Promise.race([waiting, interrupted]);
    if (settlement === 'interrupted') {
      stopWaiting.abort(new Error('interrupted'));
      // Aborted just above: its rejection only says so.
      waiting.catch(() => undefined);
    }
  } finally {
    watcher?.stop();
    progress.stop();
    lane.route(undefined);
  }
  if (settlement === 'interrupted') {
    output.err(
      `interrupted: run ${runId} stops here and its running tables go back to the queue (their transactions roll back)`,
    );
    await ctx.pool?.forceClose();
    // The count is a courtesy: a target gone away must not hide the way on, nor the exit 130.
    const tables = await listRunTables(target, runId).catch(() => []);
    const copied = tables.filter((t) => copyStatusOf(t) === 'copied').length;
    output.err(
      `run ${runId}: ${copied}/${tables.length} tables copied; finish it with: npx my2pg resume ${runId}; or stop it and restore its constraints with: npx my2pg cancel ${runId}`,
    );
    return INTERRUPTED_EXIT_CODE;
  }
  const after = (await getRun(target, runId)) as RunRow;
  const finalTables = await listRunTables(target, runId);
  output.out(formatRunReport(after, finalTables, settlement.tables));
  const rejected = finalTables.reduce((n, t) => n + (t.rejectedRows ?? 0), 0);
  for (const line of await describeRejectedRows(target, runId, rejected)) output.out(line);
  if (settlement.outcome === 'finished' && after.status === 'verified') {
    const adjusted = countAdjustedTables(finalTables);
    output.out(
      `run ${runId}: every table copied and verified${adjusted > 0 ? ` (${adjusted} with values adjusted by a policy, listed above)` : ''}`,
    );
    return 0;
  }
  if (settlement.outcome === 'finished' && after.status === 'unverified') {
    output.out(`run ${runId}: every table copied; not verified (--verify none)`);
    return 0;
  }
  if (settlement.outcome === 'tables-failed') {
    for (const line of formatFailures(runId, finalTables, settlement.tables)) output.out(line);
    output.out(
      `run ${runId}: not verified; finalize waits until the failed tables are retried and complete (or stop the run and restore its constraints: npx my2pg cancel ${runId})`,
    );
  } else if (settlement.outcome === 'finalize-failed' && run.options.follow) {
    output.out(`run ${runId}: the follower stopped: ${settlement.finalizeReason ?? 'unknown error'}`);
  } else if (settlement.outcome === 'finalize-failed') {
    output.out(
      `run ${runId}: finalize failed: ${settlement.finalizeReason ?? 'unknown error'}; after fixing it: npx my2pg retry ${runId} --wait`,
    );
  } else {
    output.out(`run ${runId}: not verified`);
  }
  return 1;
}
