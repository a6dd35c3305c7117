import { must, type Config, type ConfigOverrides } from '../config/config.js';
import { resolveCommandConfig } from './command-config.js';
import { UsageError } from '../core/errors.js';
import { splitNames } from '../vocabulary/table-selection.js';
import { countWorkers } from '../queue/job-states.js';
import { retryFailedJobs, type QueueHandles } from '../queue/run-queue.js';
import { queuesOfRun } from '../queue/target-scope.js';
import { describeQueueLocation } from '../queue/open-queue-backend.js';
import { guardRunStart } from '../run/run-guard.js';
import type { RunRow } from '../state/entities.js';
import { getRun, reopenRun } from '../state/runs.js';
import { listRunTables, markTablePending } from '../state/run-tables.js';
import { finalizeJobId, followJobId } from '../queue/contract.js';
import type { Output } from './output.js';
import { createStderrLane } from './progress.js';
import { workerCommandLine } from './wait-run.js';
import { commandLogger, jobRefs, resolveRun, waitWith, withServices, type InProcessDeps } from './command-services.js';
import { copyStatusOf } from '../state/table-status.js';
import type { DataSource } from 'typeorm';
import { getFollow } from '../state/follow-state.js';
import type { HeldChange } from '../state/follow-definitions.js';
import { dropTableFromRun } from '../state/skip-table.js';

/** `--work` / `--no-work` and what the wait does by default. */
export interface WorkFlags {
  /** true: work the jobs in this process; false: leave them to workers; undefined: decide. */
  work?: boolean | undefined;
  /** Tables copied at once when the jobs are worked here. */
  concurrency?: number | undefined;
}

/**
 * Whether this process works the run's jobs: as `--work`/`--no-work` say, else when no worker
 * is connected to the run's queue (then nobody else would); and the line that says so, printed
 * once the jobs are queued.
 */
async function decideWork(queues: QueueHandles, flags: WorkFlags): Promise<{ work: boolean; line: string }> {
  const concurrency = flags.concurrency ?? 2;
  const workers = await countWorkers(queues);
  const queue = queues.names.copy;
  const connected = workers === null ? 'an unknown number of workers' : `${workers} worker${workers === 1 ? '' : 's'}`;
  if (flags.work === true) {
    return {
      work: true,
      line: `--work: processing the run's jobs in this process (concurrency ${concurrency}), beside ${connected} connected to queue ${queue}`,
    };
  }
  if (flags.work === false)
    return {
      work: false,
      line: `--no-work: leaving the run's jobs to the workers of queue ${queue} (${connected} connected)`,
    };
  if (workers === 0)
    return {
      work: true,
      line: `no worker is connected to queue ${queue}: processing the run's jobs in this process (concurrency ${concurrency})`,
    };
  if (workers === null) {
    return {
      work: false,
      line: `this Redis does not tell which workers are connected (CLIENT LIST): leaving the run's jobs to workers; add --work to process them in this process`,
    };
  }
  return {
    work: false,
    line: `${connected} connected to queue ${queue}: leaving the run's jobs to them (--work processes them here too)`,
  };
}

/** Loads what a command needs to work jobs itself: the source as well, checked before anything changes. */
function requireSourceForWork(config: Config): void {
  must(
    config.mysqlUrl,
    'the MySQL source (to copy in this process; set MYSQL_URL or --source, or leave the jobs to a worker with --no-work)',
  );
}

/** `retry`: re-queue a run's failed table jobs (all or the named ones); with --wait, see them through. */
export async function retryCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { table?: string[]; wait?: boolean; config?: string } & WorkFlags,
  output: Output,
  inProcess?: InProcessDeps,
): Promise<number> {
  const { config, forRun } = resolveCommandConfig(overrides, ['target', 'queue'], {
    config: flags.config,
    runId,
    logLevel: 'warn',
    mayWork: true,
  });
  const lane = createStderrLane(output.err);
  // --work means staying until the jobs are done.
  const wait = flags.wait === true || flags.work === true;
  return withServices(config, { source: false }, async ({ target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema, 'retried');
    const queues = queuesFor(queuesOfRun(run.options));
    const tables = await listRunTables(target, run.id);
    const only = splitNames(flags.table);
    const unknown = (only ?? []).filter((name) => !tables.some((t) => t.tableName === name));
    if (unknown.length > 0) throw new UsageError(`run ${run.id} has no table ${unknown.join(', ')}`);
    const decision = wait && inProcess ? await decideWork(queues, flags) : undefined;
    const runConfig = forRun(run);
    if (decision?.work) requireSourceForWork(runConfig);
    // A retried table is truncated again: not while another run fills the same schema.
    const guard = await guardRunStart(target, queuesFor, run.targetSchema, { of: run.id, action: 'retry' });
    const { retried, skipped } = await retryFailedJobs(queues, run.id, jobRefs(run, tables), only).finally(() =>
      guard.release(),
    );
    for (const s of skipped) output.err(`table ${s.table} is not failed (job ${s.state}); not retried`);
    if (retried.length === 0)
      throw new UsageError(`nothing to retry in run ${run.id}: no failed job${only ? ' among the named tables' : ''}`);
    for (const name of retried)
      if (name !== '(finalize)' && name !== '(follow-back)') await markTablePending(target, run.id, name);
    // The way back runs after cutover: the run itself stays as cutover left it.
    if (retried.some((name) => name !== '(follow-back)')) await reopenRun(target, run.id);
    output.err(`run ${run.id}: retried ${retried.join(', ')}`);
    if (!decision) {
      if ((await countWorkers(queues)) === 0) {
        output.err(
          `no worker is connected to queue ${queues.names.copy}, so the jobs wait: process them here with: npx my2pg resume ${run.id}; or start a worker: ${workerCommandLine(run)}`,
        );
      }
      return 0;
    }
    output.err(decision.line);
    const logger = commandLogger(config, output, lane);
    const pool =
      decision.work && inProcess
        ? await inProcess.startWorkers(runConfig, { concurrency: flags.concurrency ?? 2, logger, queues: queues.names })
        : undefined;
    const current = (await getRun(target, run.id)) as RunRow;
    return waitWith(
      { target, queues, run: current, tables: await listRunTables(target, run.id), output, config, lane },
      pool,
    );
  });
}

/** `resume --skip-table T`: the follower is held at T; T leaves the run and the follower goes on without it. */
async function skipHeldTable(target: DataSource, run: RunRow, table: string, output: Output): Promise<void> {
  const follow = run.options.follow ? await getFollow(target, run.id) : null;
  const held = follow?.status === 'held' ? (follow.held as HeldChange | null) : null;
  if (!held)
    throw new UsageError(
      `--skip-table: run ${run.id} is not held at a schema change${follow ? ` (its follower is ${follow.status})` : ' (it does not follow the binary log)'}; only the table a follower is held at can be dropped from a run`,
    );
  if (held.table !== table)
    throw new UsageError(`--skip-table: run ${run.id} is held at table ${held.table}, not ${table}`);
  const row = (await listRunTables(target, run.id)).find((t) => t.tableName === table);
  await dropTableFromRun(target, run.id, table);
  output.err(
    `run ${run.id}: table ${table} dropped from the run: no longer followed, verified or counted at cutover; the target table ${run.targetSchema}.${row?.targetTable ?? table} is left as it is (drop it by hand if it should go)`,
  );
}

/**
 * `resume`: carries an interrupted run on to its end. Its failed jobs are re-queued, and its
 * jobs are processed here when no worker is connected (or with --work), else left to the
 * workers; then the report, as `run` prints it.
 */
export async function resumeCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: WorkFlags & { config?: string; skipTable?: string },
  output: Output,
  inProcess: InProcessDeps,
): Promise<number> {
  const { config, forRun } = resolveCommandConfig(overrides, ['target', 'queue'], {
    config: flags.config,
    runId,
    logLevel: 'warn',
    mayWork: true,
  });
  const lane = createStderrLane(output.err);
  return withServices(config, { source: false }, async ({ target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema, 'resumed');
    if (run.status !== 'running') {
      throw new UsageError(
        `run ${run.id} has finished (${run.status}); there is nothing to resume; see it with: npx my2pg status ${run.id}`,
      );
    }
    const queues = queuesFor(queuesOfRun(run.options));
    // A --follow run's follow job stands where finalize does.
    const parent = run.options.follow
      ? await queues.copy.getJob(followJobId(run.id))
      : await queues.finalize.getJob(finalizeJobId(run.id));
    if (!parent) {
      throw new UsageError(
        `the jobs of run ${run.id} are not in the queue (queue ${queues.names.finalize} in ${describeQueueLocation(config)}): was the queue emptied, or is REDIS_URL, MY2PG_QUEUE_PREFIX or MY2PG_QUEUE_SCHEMA different? Nothing to resume; restore its constraints with: npx my2pg cancel ${run.id}, then start a new run`,
      );
    }
    if (flags.skipTable !== undefined) await skipHeldTable(target, run, flags.skipTable, output);
    const tables = await listRunTables(target, run.id);
    const decision = await decideWork(queues, flags);
    const runConfig = forRun(run);
    if (decision.work) requireSourceForWork(runConfig);
    const guard = await guardRunStart(target, queuesFor, run.targetSchema, { of: run.id, action: 'resume' });
    const { retried } = await retryFailedJobs(queues, run.id, jobRefs(run, tables)).finally(() => guard.release());
    for (const name of retried) if (name !== '(finalize)') await markTablePending(target, run.id, name);
    const done = tables.filter((t) => copyStatusOf(t) === 'copied').length;
    output.err(
      `run ${run.id}: resuming, ${done}/${tables.length} tables copied${retried.length > 0 ? `; failed jobs re-queued: ${retried.join(', ')}` : ''}`,
    );
    output.err(decision.line);
    const logger = commandLogger(config, output, lane);
    const pool = decision.work
      ? await inProcess.startWorkers(runConfig, { concurrency: flags.concurrency ?? 2, logger, queues: queues.names })
      : undefined;
    return waitWith({ target, queues, run, tables: await listRunTables(target, run.id), output, config, lane }, pool);
  });
}
