import type { DataSource } from 'typeorm';
import type { ConfigOverrides } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { cutover } from '../follow/cutover.js';
import { readTableJobs, type TableJobState } from '../queue/run-jobs.js';
import type { QueueHandles } from '../queue/run-queue.js';
import { queuesOfRun } from '../queue/target-scope.js';
import { getFollow } from '../state/follow-state.js';
import type { RunRow } from '../state/entities.js';
import { getRun } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import type { Output } from './output.js';
import { readFollowStatus } from './follow-status.js';
import { formatRunReport } from './report.js';
import { resolveCommandConfig } from './run-settings.js';
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
  return null;
}

/** `cutover [RUN_ID] [--wait] [--lock]`: freeze, drain, finalize, verify; exit 0 go, 1 no-go, 2 nothing done. */
export async function cutoverCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { wait?: boolean; lock?: boolean; config?: string },
  output: Output,
): Promise<number> {
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
      output.err(`run ${run.id} was already cut over (${JSON.stringify(follow.cutover)})`);
      return 0;
    }
    if (follow.status === 'stopped')
      throw new UsageError(
        `the follower of run ${run.id} stopped for good: ${follow.error ?? 'no reason recorded'}; nothing was done`,
      );
    const queues = queuesFor(queuesOfRun(run.options));
    const tables = await listRunTables(target, run.id);
    const refs = jobRefs(run, tables);
    let shownAt = 0;
    for (;;) {
      const why = await notReady(target, queues, run, await readTableJobs(queues, refs));
      if (why === null) break;
      if (!flags.wait)
        throw new UsageError(
          `run ${run.id} is not ready to cut over: ${why}; run again later or with --wait; nothing was done`,
        );
      if (Date.now() - shownAt > 10_000) {
        output.err(`waiting: ${why}`);
        shownAt = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const outcome = await cutover(source!, target, run.id, {
      lock: flags.lock === true,
      log: (line) => output.err(line),
    });
    const after = (await getRun(target, run.id)) as RunRow;
    output.out(formatRunReport(after, await listRunTables(target, run.id), await readTableJobs(queues, refs)));
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    const freeze = `writes frozen for ${seconds(outcome.frozenMs)} (drain ${seconds(outcome.drainMs)}, finalize and verification ${seconds(outcome.finalizeMs)}), at ${outcome.position.file}:${outcome.position.position}`;
    if (outcome.go) {
      const after =
        outcome.freeze === 'checked-still'
          ? 'keep the application stopped until it points at PostgreSQL: writes to MySQL are not followed any more'
          : outcome.leftReadOnly
            ? 'MySQL is left read-only (SET GLOBAL read_only = ON; users with SUPER or READ_ONLY ADMIN can still write), so a late write fails instead of being lost; undo with SET GLOBAL read_only = OFF'
            : 'MySQL accepts writes again (the source user may not set read_only), and they are not followed any more';
      output.out(
        `cutover: GO, run ${run.id}: every table verified equal to MySQL; ${freeze}. Point the application at PostgreSQL now; ${after}`,
      );
      return 0;
    }
    for (const problem of outcome.summary.problems) output.out(`  ${problem}`);
    output.out(
      `cutover: NO-GO, run ${run.id}: the differences are above; ${freeze}. The follower goes on following; fix them and run cutover again`,
    );
    return 1;
  });
}
