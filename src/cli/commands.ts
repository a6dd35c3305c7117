import type { DataSource } from 'typeorm';
import { loadConfig, must, readEnvironment, redactUrl, secretsOf, type Config, type ConfigOverrides } from '../config/config.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { describeError, UsageError } from '../core/errors.js';
import { createLogger, resolveLogFormat, type Logger } from '../core/log.js';
import { splitNames } from '../vocabulary/table-selection.js';
import { pingRedis } from '../queue/connection.js';
import { countWorkers, enqueueRun, openQueues, readTableJobs, retryFailedJobs, type QueueHandles, type TableJobRef } from '../queue/run-queue.js';
import { queuesOfRun, readTargetScope, registerTarget, type QueueNames } from '../queue/target-scope.js';
import { prepareRun, type PreparedRun } from '../run/prepare-run.js';
import { tableJobRefs } from '../state/job-ids.js';
import { guardRunStart } from '../run/run-guard.js';
import { loadEntitySelections } from '../schema/entity-schemas.js';
import { parseColumnTypeOverrides, parseTypeOverrides } from '../schema/type-overrides.js';
import { closeAll, openSource, openTarget } from '../run/open-databases.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import { getLatestRun, getRun, reopenRun } from '../state/runs.js';
import { listRunTables, markTablePending } from '../state/run-tables.js';
import { stateSchemaExists } from '../state/schema.js';
import { listRejectedRows } from '../state/store.js';
import { summaryWithTables, tableStatusOf } from '../state/table-status.js';
import { describeOutcome, reverifyRun } from '../finalize/finalize-run.js';
import { finalizeJobId } from '../queue/contract.js';
import { cancelRun, describeCancelOutcome, type CancelOutcome } from '../run/cancel-run.js';
import type { Output } from './output.js';
import { createStderrLane, type StderrLane } from './progress.js';
import { buildReportRows, formatFailures, formatRunReport } from './report.js';
import { describeRejectedRows, waitAndReport, workerCommand, type InProcessPool, type Interruption } from './wait-run.js';
import { schemaObjectsOf } from './schema-objects-report.js';

/** Starts workers in this process (`run`, `demo`, `retry`/`resume` without a worker); injected by the process entry point. */
export type StartWorkers = (config: Config, options: { concurrency: number; logger: Logger; queues: QueueNames }) => Promise<InProcessPool>;

/** What a command needs to work a run's jobs itself: the worker pool, and Ctrl-C. */
export interface InProcessDeps {
  startWorkers: StartWorkers;
  /** Listens for the first SIGINT/SIGTERM while the jobs are worked here. */
  interruptions?: (() => Interruption) | undefined;
}

export { consoleOutput, type Output } from './output.js';

/** Options shared by `run` and `start`. */
export interface PlanFlags {
  tables?: string[];
  exclude?: string[];
  entities?: string;
  batchSize: number;
  /** How finalize verifies: checksum (default), count or none. */
  verify?: VerifyMethod;
  /** A run with rejected rows still counts as verified. */
  allowRejects?: boolean;
  /** `--range-rows`: estimated rows per key-range job of a big table; 0 = never split. */
  rangeRows?: number;
  /** Tables copied at once by in-process workers (`run`, `demo`). */
  concurrency?: number;
  /** `--type MYSQL=PG`, repeatable. */
  type?: string[];
  /** `--column-type TABLE.COLUMN=PG`, repeatable. */
  columnType?: string[];
  /** `--enum type|check` (commander checked the choice). */
  enum?: 'type' | 'check';
  /** `--nul reject|strip|bytea` (commander checked the choice). */
  nul?: 'reject' | 'strip' | 'bytea';
  /** `--fulltext-config NAME`: text search configuration of FULLTEXT's GIN indexes. */
  fulltextConfig?: string;
  /** `--exclude-view NAME`, repeatable: views finalize neither creates nor verifies. */
  excludeView?: string[];
}

/** Opens the target (and the source when needed), runs `fn`, closes them. */
async function withDatabases<T>(config: Config, need: { source: boolean }, fn: (s: { source: DataSource | undefined; target: DataSource }) => Promise<T>): Promise<T> {
  let source: DataSource | undefined;
  let target: DataSource | undefined;
  try {
    if (need.source) source = await openSource(must(config.mysqlUrl, 'the MySQL source'));
    target = await openTarget(must(config.databaseUrl, 'the PostgreSQL target'));
    return await fn({ source, target });
  } finally {
    await closeAll(source, target);
  }
}

/** The databases plus a way to open the queues of any target in Redis (checked first); all closed after. */
async function withServices<T>(
  config: Config,
  need: { source: boolean },
  fn: (s: { source: DataSource | undefined; target: DataSource; queuesFor: (names: QueueNames) => QueueHandles }) => Promise<T>,
): Promise<T> {
  await pingRedis(config.redisUrl);
  return withDatabases(config, need, async (databases) => {
    const opened = new Map<string, QueueHandles>();
    const queuesFor = (names: QueueNames): QueueHandles => {
      const key = `${names.copy}\u0000${names.finalize}`;
      let queues = opened.get(key);
      if (!queues) {
        queues = openQueues(config.redisUrl, config.queuePrefix, names);
        opened.set(key, queues);
      }
      return queues;
    };
    try {
      return await fn({ ...databases, queuesFor });
    } finally {
      await Promise.allSettled([...opened.values()].map((q) => q.close()));
    }
  });
}

function jobRefs(run: RunRow, tables: { tableName: string; jobId: string }[]): TableJobRef[] {
  return tableJobRefs(tables, run.options.ranges);
}

/**
 * The logger of a command that may work jobs itself: human sentences on a terminal, JSON
 * otherwise (`--log-format`), written through `lane` so that a line never tears the bars.
 */
function commandLogger(config: Config, output: Output, lane: StderrLane): Logger {
  return createLogger(config.logLevel, secretsOf(config), { format: resolveLogFormat(config.logFormat, output.tty !== undefined), write: (line) => lane.write(line) });
}

/** Runs the wait with this process's own workers when `pool` is given; closes them after. */
async function waitWith(
  context: { target: DataSource; queues: QueueHandles; run: RunRow; tables: RunTableRow[]; output: Output; config: Config; lane: StderrLane },
  pool: InProcessPool | undefined,
  inProcess: InProcessDeps | undefined,
): Promise<number> {
  const interruption = pool ? inProcess?.interruptions?.() : undefined;
  try {
    return await waitAndReport({ ...context, refs: jobRefs(context.run, context.tables), pool, interruption });
  } finally {
    interruption?.dispose();
    await pool?.close();
  }
}

/** `start` (and the first half of `run`): plan, prepare the target, enqueue the flow. */
export async function startCommand(
  overrides: ConfigOverrides,
  flags: PlanFlags & { wait?: boolean },
  output: Output,
  inProcess?: InProcessDeps,
): Promise<number> {
  // In a terminal, log lines are noise unless asked for: warn unless MY2PG_LOG_LEVEL or --log-level says otherwise.
  const config = loadConfig(overrides, ['source', 'target', 'redis'], readEnvironment(), { logLevel: 'warn' });
  const lane = createStderrLane(output.err);
  const logger = commandLogger(config, output, lane);
  // Checked before any connection, so a typo is exit 2 with nothing touched.
  const typeOverrides = parseTypeOverrides([...config.typeOverrides, ...(flags.type ?? [])]);
  const columnTypeOverrides = parseColumnTypeOverrides([...config.columnTypeOverrides, ...(flags.columnType ?? [])]);
  return withServices(config, { source: true }, async ({ source, target, queuesFor }) => {
    let prepared: PreparedRun;
    const scope = await withPgClient(target, (client) => readTargetScope(client, config.schema));
    const queues = queuesFor(scope.queues);
    // Held until the flow is enqueued, so that two starts on one schema cannot both pass.
    const guard = await guardRunStart(target, queuesFor, config.schema);
    // In-process workers start while the run is prepared (their connections take a moment);
    // they find jobs once the flow is enqueued.
    const starting = inProcess ? inProcess.startWorkers(config, { concurrency: flags.concurrency ?? 2, logger, queues: scope.queues }) : undefined;
    // Awaited (and its failure reported) below; this only keeps an early failure from being an unhandled rejection.
    starting?.catch(() => undefined);
    try {
      const entities = flags.entities ? await loadEntitySelections(flags.entities, must(config.databaseUrl, 'target')) : undefined;
      prepared = await prepareRun(source!, target, {
        tables: splitNames(flags.tables),
        exclude: splitNames(flags.exclude),
        entities,
        batchSize: flags.batchSize,
        rangeRows: flags.rangeRows,
        sourceLabel: redactUrl(must(config.mysqlUrl, 'source')),
        targetSchema: config.schema,
        verify: flags.verify,
        allowRejects: flags.allowRejects,
        typeOverrides,
        columnTypeOverrides,
        enumMode: flags.enum ?? config.enumMode,
        queues: scope.queues,
        nul: flags.nul ?? config.nulPolicy,
        fulltextConfig: flags.fulltextConfig ?? config.fulltextConfig,
        excludeViews: splitNames([...config.excludeViews, ...(flags.excludeView ?? [])]),
      });
      await enqueueRun(queues, prepared);
      // Listed for the board, which finds every target's queues there.
      await registerTarget(queues.redis, config.queuePrefix, scope);
    } catch (error) {
      // Nothing was enqueued, so the workers had nothing to do; the error that matters is the one thrown below.
      await starting?.then((pool) => pool.close()).catch(() => undefined);
      // No job exists yet, so nothing was started: exit 2, whatever the cause.
      if (error instanceof UsageError) throw error;
      throw new UsageError(`nothing was enqueued: ${describeError(error)}`);
    } finally {
      await guard.release();
    }
    for (const warning of prepared.warnings) output.err(`warning: ${warning}`);
    for (const item of prepared.notMigrated) output.err(`not migrated: ${item}`);
    const created = prepared.tables.filter((t) => t.action === 'create').length;
    output.err(
      `run ${prepared.runId}: ${prepared.tables.length} tables enqueued (${created} to create, ${prepared.tables.length - created} to fill), ${prepared.droppedForeignKeys} foreign keys and ${prepared.droppedIndexes} indexes dropped for the load${prepared.tables.some((t) => t.ranges) ? `, split into key ranges: ${prepared.tables.filter((t) => t.ranges).map((t) => `${t.table} ×${t.ranges!.length}`).join(', ')}` : ''}${prepared.syncAlembic ? ', alembic_version to sync' : ''}`,
    );
    if (!inProcess && !flags.wait) {
      output.out(prepared.runId);
      return 0;
    }
    const run = (await getRun(target, prepared.runId)) as RunRow;
    const pool = await starting;
    return waitWith({ target, queues, run, tables: await listRunTables(target, run.id), output, config, lane }, pool, inProcess);
  });
}

/**
 * A run, by id or the latest of the schema; refused (exit 2) when it was cancelled, since
 * its constraints are back and its jobs gone: only a new run goes on from there.
 */
async function resolveRun(target: DataSource, runId: string | undefined, schema: string, forWork?: 'retried' | 'resumed'): Promise<RunRow> {
  if (!(await stateSchemaExists(target))) throw new UsageError('no my2pg run in this target yet (no my2pg schema); start one with: npx my2pg run');
  const run = runId ? await getRun(target, runId) : await getLatestRun(target, schema);
  if (!run) throw new UsageError(runId ? `no run ${runId} in this target` : `no my2pg run for schema ${schema} in this target`);
  if (forWork && run.status === 'cancelled') {
    throw new UsageError(`run ${run.id} was cancelled, so it cannot be ${forWork}; start a new run with: npx my2pg run`);
  }
  return run;
}

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
    return { work: true, line: `--work: processing the run's jobs in this process (concurrency ${concurrency}), beside ${connected} connected to queue ${queue}` };
  }
  if (flags.work === false) return { work: false, line: `--no-work: leaving the run's jobs to the workers of queue ${queue} (${connected} connected)` };
  if (workers === 0) return { work: true, line: `no worker is connected to queue ${queue}: processing the run's jobs in this process (concurrency ${concurrency})` };
  if (workers === null) {
    return { work: false, line: `this Redis does not tell which workers are connected (CLIENT LIST): leaving the run's jobs to workers; add --work to process them in this process` };
  }
  return { work: false, line: `${connected} connected to queue ${queue}: leaving the run's jobs to them (--work processes them here too)` };
}

/** Loads what a command needs to work jobs itself: the source as well, checked before anything changes. */
function requireSourceForWork(config: Config): void {
  must(config.mysqlUrl, 'the MySQL source (to copy in this process; set MYSQL_URL or --source, or leave the jobs to a worker with --no-work)');
}

/** `retry`: re-queue a run's failed table jobs (all or the named ones); with --wait, see them through. */
export async function retryCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { table?: string[]; wait?: boolean } & WorkFlags,
  output: Output,
  inProcess?: InProcessDeps,
): Promise<number> {
  const config = loadConfig(overrides, ['target', 'redis'], readEnvironment(), { logLevel: 'warn' });
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
    if (decision?.work) requireSourceForWork(config);
    // A retried table is truncated again: not while another run fills the same schema.
    const guard = await guardRunStart(target, queuesFor, run.targetSchema, { of: run.id, action: 'retry' });
    const { retried, skipped } = await retryFailedJobs(queues, run.id, jobRefs(run, tables), only).finally(() => guard.release());
    for (const s of skipped) output.err(`table ${s.table} is not failed (job ${s.state}); not retried`);
    if (retried.length === 0) throw new UsageError(`nothing to retry in run ${run.id}: no failed job${only ? ' among the named tables' : ''}`);
    for (const name of retried) if (name !== '(finalize)') await markTablePending(target, run.id, name);
    await reopenRun(target, run.id);
    output.err(`run ${run.id}: retried ${retried.join(', ')}`);
    if (!decision) {
      if ((await countWorkers(queues)) === 0) {
        output.err(`no worker is connected to queue ${queues.names.copy}, so the jobs wait: process them here with: npx my2pg resume ${run.id}; or start a worker: ${workerCommand(run)}`);
      }
      return 0;
    }
    output.err(decision.line);
    const logger = commandLogger(config, output, lane);
    const pool = decision.work && inProcess ? await inProcess.startWorkers(config, { concurrency: flags.concurrency ?? 2, logger, queues: queues.names }) : undefined;
    const current = (await getRun(target, run.id)) as RunRow;
    return waitWith({ target, queues, run: current, tables: await listRunTables(target, run.id), output, config, lane }, pool, inProcess);
  });
}

/**
 * `resume`: carries an interrupted run on to its end. Its failed jobs are re-queued, and its
 * jobs are processed here when no worker is connected (or with --work), else left to the
 * workers; then the report, as `run` prints it.
 */
export async function resumeCommand(overrides: ConfigOverrides, runId: string | undefined, flags: WorkFlags, output: Output, inProcess: InProcessDeps): Promise<number> {
  const config = loadConfig(overrides, ['target', 'redis'], readEnvironment(), { logLevel: 'warn' });
  const lane = createStderrLane(output.err);
  return withServices(config, { source: false }, async ({ target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema, 'resumed');
    if (run.status !== 'running') {
      throw new UsageError(`run ${run.id} has finished (${run.status}); there is nothing to resume; see it with: npx my2pg status ${run.id}`);
    }
    const queues = queuesFor(queuesOfRun(run.options));
    if (!(await queues.finalize.getJob(finalizeJobId(run.id)))) {
      throw new UsageError(
        `the jobs of run ${run.id} are not in Redis (queue ${queues.names.finalize}, prefix ${config.queuePrefix}): was Redis emptied, or is MY2PG_QUEUE_PREFIX different? Nothing to resume; restore its constraints with: npx my2pg cancel ${run.id}, then start a new run`,
      );
    }
    const tables = await listRunTables(target, run.id);
    const decision = await decideWork(queues, flags);
    if (decision.work) requireSourceForWork(config);
    const guard = await guardRunStart(target, queuesFor, run.targetSchema, { of: run.id, action: 'resume' });
    const { retried } = await retryFailedJobs(queues, run.id, jobRefs(run, tables)).finally(() => guard.release());
    for (const name of retried) if (name !== '(finalize)') await markTablePending(target, run.id, name);
    const done = tables.filter((t) => t.status === 'copied').length;
    output.err(`run ${run.id}: resuming, ${done}/${tables.length} tables copied${retried.length > 0 ? `; failed jobs re-queued: ${retried.join(', ')}` : ''}`);
    output.err(decision.line);
    const logger = commandLogger(config, output, lane);
    const pool = decision.work ? await inProcess.startWorkers(config, { concurrency: flags.concurrency ?? 2, logger, queues: queues.names }) : undefined;
    return waitWith({ target, queues, run, tables: await listRunTables(target, run.id), output, config, lane }, pool, inProcess);
  });
}

/** `status`: per-table state from PostgreSQL and Redis. */
export async function statusCommand(overrides: ConfigOverrides, runId: string | undefined, flags: { json?: boolean }, output: Output): Promise<number> {
  const config = loadConfig(overrides, ['target', 'redis']);
  return withServices(config, { source: false }, async ({ target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema);
    const queues = queuesFor(queuesOfRun(run.options));
    const tables = await listRunTables(target, run.id);
    const jobs = await readTableJobs(queues, jobRefs(run, tables));
    if (flags.json) {
      const byTable = new Map(jobs.map((j) => [j.table, j]));
      const reportRows = new Map(buildReportRows(tables, run.summary).map((r) => [r.table, r]));
      output.out(
        JSON.stringify(
          {
            run: { id: run.id, status: run.status, createdAt: run.createdAt, finishedAt: run.finishedAt, source: run.source, targetSchema: run.targetSchema, queues: queues.names },
            tables: tables.map((t) => {
              const job = byTable.get(t.tableName);
              return {
                table: t.tableName,
                targetTable: t.targetTable,
                action: t.action,
                status: tableStatusOf(t),
                jobState: job?.state ?? null,
                progress: job?.progress ?? null,
                attempts: t.attempts,
                rowsCopied: t.rowsCopied === null ? null : Number(t.rowsCopied),
                sourceRows: t.sourceRows === null ? null : Number(t.sourceRows),
                targetRows: t.targetRows === null ? null : Number(t.targetRows),
                rejected: reportRows.get(t.tableName)?.rejected ?? null,
                lastError: job?.failedReason ?? t.lastError,
                verification: t.verification,
                adjustments: t.adjustments,
              };
            }),
            rejectedRows: await listRejectedRows(target, run.id),
            // Views, generated columns, CHECKs, and the triggers/routines/events not migrated.
            schemaObjects: schemaObjectsOf(run),
            summary: summaryWithTables(run.summary, tables),
          },
          null,
          2,
        ),
      );
    } else {
      output.out(formatRunReport(run, tables, jobs, { jobColumns: true }));
      for (const line of formatFailures(run.id, tables, jobs)) output.out(line);
      const rejected = tables.reduce((n, t) => n + (t.rejectedRows ?? 0), 0);
      for (const line of await describeRejectedRows(target, run.id, rejected)) output.out(line);
    }
    return 0;
  });
}

/**
 * `cancel`: stops a run for good. Its jobs leave Redis (running ones are asked to stop, and
 * their transactions roll back), every index and foreign key it dropped is restored, and it
 * is marked `cancelled`. Asks first on a terminal; elsewhere it needs --yes.
 */
export async function cancelCommand(overrides: ConfigOverrides, runId: string | undefined, flags: { yes?: boolean }, output: Output): Promise<number> {
  const config = loadConfig(overrides, ['target', 'redis'], readEnvironment(), { logLevel: 'warn' });
  return withServices(config, { source: false }, async ({ target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema);
    if (run.status !== 'running' && run.status !== 'cancelled') {
      throw new UsageError(`run ${run.id} has finished (${run.status}); there is nothing to cancel; see it with: npx my2pg status ${run.id}`);
    }
    const queues = queuesFor(queuesOfRun(run.options));
    const tables = await listRunTables(target, run.id);
    const copied = tables.filter((t) => t.status === 'copied').length;
    const what = `cancel run ${run.id} (schema ${run.targetSchema}, ${copied}/${tables.length} tables copied): remove its jobs from Redis, stop the running ones, restore the indexes and foreign keys it dropped`;
    if (!flags.yes) {
      if (!output.confirm) throw new UsageError(`${what}? There is no terminal to ask on; add --yes to confirm: npx my2pg cancel ${run.id} --yes`);
      if (!(await output.confirm(`${what}?`))) {
        output.err(`run ${run.id}: not cancelled`);
        return 2;
      }
    }
    // Held throughout: a start on the schema now would adopt the constraints being restored.
    const guard = await guardRunStart(target, queuesFor, run.targetSchema, { of: run.id, action: 'cancel' });
    let outcome: CancelOutcome;
    try {
      outcome = await cancelRun(target, queues, run, jobRefs(run, tables), { stopWaitMs: config.lockDurationMs + 10_000, say: (line) => output.err(line) });
    } finally {
      await guard.release();
    }
    for (const line of describeCancelOutcome(run.id, outcome)) output.out(line);
    return outcome.stuckJobs.length > 0 || outcome.constraints.some((c) => c.status === 'failed') ? 1 : 0;
  });
}

/** `verify`: checks a finished run again, on both sides; exit 0 when equal, 1 when not. */
export async function verifyCommand(overrides: ConfigOverrides, runId: string | undefined, flags: { method: VerifyMethod; json?: boolean }, output: Output): Promise<number> {
  const config = loadConfig(overrides, ['source', 'target']);
  return withDatabases(config, { source: true }, async ({ source, target }) => {
    const run = await resolveRun(target, runId, config.schema);
    if (run.status === 'cancelled') throw new UsageError(`run ${run.id} was cancelled: its tables were not all copied, so there is nothing to verify; start a new run with: npx my2pg run`);
    const summary = await reverifyRun(source!, target, run.id, flags.method, (line) => output.err(line));
    if (flags.json) {
      output.out(JSON.stringify(summary, null, 2));
    } else {
      const after = (await getRun(target, run.id)) as RunRow;
      output.out(formatRunReport(after, await listRunTables(target, run.id)));
      output.out(`run ${run.id}: ${describeOutcome(summary)}`);
    }
    return summary.verified ? 0 : 1;
  });
}
