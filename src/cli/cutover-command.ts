import type { DataSource } from 'typeorm';
import type { ConfigOverrides } from '../config/config.js';
import { describeError, UsageError } from '../core/errors.js';
import { checkReceiptTarget, cutoverReceipt } from './cutover-receipt.js';
import { cutover } from '../follow/cutover.js';
import { predictFreeze, type FreezePrediction } from '../follow/freeze-prediction.js';
import { followedTablesOf, guardsOf, liveTablesOf } from '../follow/prepare-cutover.js';
import { runCatalogOf } from '../state/run-catalog.js';
import { listUnrestoredConstraints } from '../state/saved-constraints.js';
import { LiveVerification } from '../verify/live-verification.js';
import { EarlyForeignKeys } from '../follow/early-foreign-keys.js';
import { readTableJobs, type TableJobState } from '../queue/job-states.js';
import { enqueueFollowBack, type QueueHandles } from '../queue/run-queue.js';
import { publishedTablesOf } from '../fallback/back-tables.js';
import { queuesOfRun } from '../queue/target-scope.js';
import { getFollow } from '../state/follow-state.js';
import { getFallback } from '../state/fallback-state.js';
import type { RunRow } from '../state/entities.js';
import { getRun } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import type { Output } from './output.js';
import { readFollowStatus } from './follow-status.js';
import { formatRunReport } from './report.js';
import { resolveCommandConfig } from './command-config.js';
import { jobRefs, resolveRun, withServices } from './command-services.js';

/** Lag under which cutover freezes writes: the drain then lasts about this long. */
const READY_LAG_SECONDS = 5;

/** Why a `--follow` run is not ready to switch yet, or null when it is. */
async function notReady(
  target: DataSource,
  queues: QueueHandles,
  run: RunRow,
  tables: TableJobState[],
): Promise<string | null> {
  const copying = tables.filter((t) => t.state !== 'completed');
  if (copying.length > 0) {
    const failed = copying.filter((t) => t.state === 'failed');
    if (failed.length > 0)
      throw new UsageError(
        `tables failed to copy: ${failed.map((t) => t.table).join(', ')}; retry them first (npx my2pg retry ${run.id}); nothing was done`,
      );
    return `${copying.length} of ${tables.length} tables still copying (${copying
      .map((t) => t.table)
      .slice(0, 5)
      .join(', ')}${copying.length > 5 ? ', …' : ''})`;
  }
  const follow = await readFollowStatus(target, queues, run);
  if (!follow) throw new UsageError(`run ${run.id} has no follower recorded`);
  if (follow.jobState === 'failed')
    throw new UsageError(`the follow job failed: ${follow.error ?? 'unknown'}; nothing was done`);
  if (follow.jobState !== 'active') return `the follow job is ${follow.jobState} (is a worker running?)`;
  if (follow.lagSeconds === null) return 'the follower has not reported yet';
  if (follow.lagSeconds > READY_LAG_SECONDS)
    return `the follower is ${follow.lagSeconds} s behind (${follow.eventsPending} events pending)`;
  if (!follow.verification) return 'verification while following has not reported yet';
  return null;
}

/** The freeze predicted from the follower's last report and the foreign keys finalize will validate; null while it does not report. */
async function predictedFreeze(
  target: DataSource,
  queues: QueueHandles,
  run: RunRow,
): Promise<FreezePrediction | null> {
  const follow = await readFollowStatus(target, queues, run);
  if (!follow?.verification || follow.lagSeconds === null) return null;
  return predictFreeze(
    {
      eventsPending: follow.eventsPending ?? 0,
      eventsPerSecond: follow.eventsPerSecond ?? 0,
      lagSeconds: follow.lagSeconds,
    },
    follow.verification,
    await estimateFinalizeSeconds(target, run.id),
  );
}

/** Foreign keys and CHECKs left to add and validate, from their tables' row estimates (a low rate: errs long). */
async function estimateFinalizeSeconds(target: DataSource, runId: string): Promise<number> {
  const saved = (await listUnrestoredConstraints(target, runId)).filter((c) => c.kind !== 'index');
  if (saved.length === 0) return 0.1;
  const rows: { n: string | null }[] = await target.query(
    'SELECT sum(GREATEST(c.reltuples, 0))::text AS n FROM unnest($1::text[], $2::text[]) AS u(s, t) JOIN pg_namespace ns ON ns.nspname = u.s JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = u.t',
    [saved.map((c) => c.schemaName), saved.map((c) => c.tableName)],
  );
  return 0.1 + saved.length * 0.02 + Number(rows[0]?.n ?? 0) / 5_000_000;
}

function describePrediction(p: FreezePrediction): string {
  return `${p.seconds} s (drain ${p.drainSeconds} s, re-verification ${p.verifySeconds} s, finalize ${p.finalizeSeconds} s)`;
}

/** `cutover [RUN_ID] [--wait] [--lock]`: freeze, drain, finalize, verify; exit 0 go, 1 no-go, 2 nothing done. */
export async function cutoverCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { wait?: boolean; lock?: boolean; config?: string; maxFreeze?: number; receipt?: string },
  output: Output,
): Promise<number> {
  if (flags.receipt !== undefined) await checkReceiptTarget(flags.receipt);
  const { config } = resolveCommandConfig(overrides, ['source', 'target', 'queue'], {
    config: flags.config,
    runId,
    logLevel: 'warn',
  });
  return withServices(config, { source: true }, async ({ source, target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema);
    if (!run.options.follow)
      throw new UsageError(
        `run ${run.id} does not follow the binary log (it was started without --follow); its finalize verifies it`,
      );
    const follow = await getFollow(target, run.id);
    if (!follow) throw new UsageError(`run ${run.id} has no follower recorded`);
    if (follow.status === 'done') {
      // A go whose way back's job was not enqueued (the command died after the go): enqueued now, a no-op otherwise.
      if (run.options.fallback && (await getFallback(target, run.id)))
        await enqueueFollowBack(queuesFor(queuesOfRun(run.options)), run.id, run.targetSchema);
      output.err(`run ${run.id} was already cut over (${JSON.stringify(follow.cutover)})`);
      return 0;
    }
    if (follow.status === 'held')
      throw new UsageError(`the follower of run ${run.id} is ${follow.error ?? 'held'}; nothing was done`);
    if (follow.status === 'stopped')
      throw new UsageError(
        `the follower of run ${run.id} stopped for good: ${follow.error ?? 'no reason recorded'}; nothing was done`,
      );
    const queues = queuesFor(queuesOfRun(run.options));
    const tables = await listRunTables(target, run.id);
    const refs = jobRefs(run, tables);
    let shownAt = 0;
    const maxFreeze = flags.maxFreeze ?? 10;
    let prediction: FreezePrediction | null = null;
    for (;;) {
      const why = await notReady(target, queues, run, await readTableJobs(queues, refs));
      prediction = why === null ? await predictedFreeze(target, queues, run) : null;
      if (prediction && prediction.exactSeconds <= maxFreeze) break;
      const waiting = prediction
        ? `predicted freeze ${describePrediction(prediction)} is over ${maxFreeze} s (${prediction.waitingFor})`
        : (why ?? 'the follower has not reported');
      if (!flags.wait)
        throw new UsageError(
          prediction
            ? `the freeze would last about ${describePrediction(prediction)}, over --max-freeze ${maxFreeze} s; wait for ${prediction.waitingFor} (cutover --wait waits), or allow more with --max-freeze; nothing was frozen`
            : `run ${run.id} is not ready to cut over: ${waiting}; run again later or with --wait; nothing was done`,
        );
      if (Date.now() - shownAt > 10_000) {
        output.err(`waiting: ${waiting}`);
        shownAt = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    output.err(`predicted freeze: ${describePrediction(prediction)}, within --max-freeze ${maxFreeze} s`);
    const catalog = await runCatalogOf(source!, target, run.id);
    if (!catalog) throw new UsageError(`run ${run.id} is not recorded in this target`);
    const followed = await followedTablesOf(target, run);
    const log = (line: string): void => output.err(line);
    const receipt =
      flags.receipt === undefined
        ? undefined
        : cutoverReceipt(source!, target, flags.receipt, { mysql: config.mysqlUrl!, pg: config.databaseUrl! });
    const outcome = await cutover(source!, target, run.id, {
      ...(receipt ? { atGo: receipt.atGo } : {}),
      ...(run.options.fallback ? { fallback: await publishedTablesOf(target, run) } : {}),
      lock: flags.lock === true,
      log,
      live: {
        verification: new LiveVerification(source!, target, run, catalog, await liveTablesOf(catalog, followed), log),
        guards: guardsOf(run, followed),
        foreignKeys: new EarlyForeignKeys(target, run, followed, log),
      },
    }).catch(async (error: unknown) => {
      // Snapshots opened at the go are given back before the databases close.
      await receipt?.release();
      throw error;
    });
    const after = (await getRun(target, run.id)) as RunRow;
    output.out(formatRunReport(after, await listRunTables(target, run.id), await readTableJobs(queues, refs)));
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    const freeze = `writes frozen for ${seconds(outcome.frozenMs)} (predicted ${prediction.seconds} s; drain ${seconds(outcome.drainMs)}, verification ${seconds(outcome.verifyMs)}, finalize ${seconds(outcome.finalizeMs)}), ${outcome.beforeFreeze.checks} CHECKs and ${outcome.beforeFreeze.views} views in place before it, at ${outcome.position.file}:${outcome.position.position}`;
    if (outcome.go) {
      // The way back's job, from the slot cutover made (one per run; enqueued again on a rerun, a no-op).
      if (run.options.fallback) await enqueueFollowBack(queues, run.id, run.targetSchema);
      const after =
        outcome.freeze === 'checked-still'
          ? 'keep the application stopped until it points at PostgreSQL: writes to MySQL are not followed any more'
          : outcome.leftReadOnly
            ? 'MySQL is left read-only (SET GLOBAL read_only = ON; users with SUPER or READ_ONLY ADMIN can still write), so a late write fails instead of being lost; undo with SET GLOBAL read_only = OFF'
            : 'MySQL accepts writes again (the source user may not set read_only), and they are not followed any more';
      output.out(
        `cutover: GO, run ${run.id}: every table verified equal to MySQL; ${freeze}. Point the application at PostgreSQL now; ${after}`,
      );
      if (receipt)
        output.out(await receipt.write(run, outcome.position).catch((e) => `no receipt written: ${describeError(e)}`));
      return 0;
    }
    for (const problem of outcome.summary.problems) output.out(`  ${problem}`);
    output.out(
      `cutover: NO-GO, run ${run.id}: the differences are above; ${freeze}. The follower goes on following; fix them and run cutover again`,
    );
    if (flags.receipt !== undefined) output.out(`no receipt written: a receipt is of a go's frozen position`);
    return 1;
  });
}
