import type { DataSource } from 'typeorm';
import { loadConfig, must, readEnvironment, redactUrl, secretsOf, type Config, type ConfigOverrides } from '../config.js';
import { describeError, UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { splitNames } from '../plan.js';
import { pingRedis } from '../queue/connection.js';
import { enqueueRun, openQueues, readTableJobs, retryFailedJobs, waitForRun, type QueueHandles, type TableJobRef, type TableJobState } from '../queue/run-queue.js';
import { prepareRun, type PreparedRun } from '../run/prepare-run.js';
import { guardRunStart } from '../run/run-guard.js';
import { loadEntitySelections } from '../schema/entity-schemas.js';
import { closeAll, openSource, openTarget } from '../services.js';
import type { RunRow } from '../state/entities.js';
import { getLatestRun, getRun, listRunTables, stateSchemaExists, updateRun, updateRunTable } from '../state/store.js';
import { formatFailures, formatProgressLine, formatRunReport } from './report.js';

/** Starts workers in this process (`run`, `demo`); injected by the process entry point. */
export type StartWorkers = (config: Config, options: { concurrency: number; logger: Logger }) => Promise<{ close(graceMs?: number): Promise<void> }>;

/** Where a command writes: stdout for reports, stderr for progress. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/** Options shared by `run` and `start`. */
export interface PlanFlags {
  tables?: string[];
  exclude?: string[];
  entities?: string;
  batchSize: number;
  /** Tables copied at once by in-process workers (`run`, `demo`). */
  concurrency?: number;
}

async function withServices<T>(
  config: Config,
  need: { source: boolean },
  fn: (s: { source: DataSource | undefined; target: DataSource; queues: QueueHandles }) => Promise<T>,
): Promise<T> {
  await pingRedis(config.redisUrl);
  let source: DataSource | undefined;
  let target: DataSource | undefined;
  let queues: QueueHandles | undefined;
  try {
    if (need.source) source = await openSource(must(config.mysqlUrl, 'the MySQL source'));
    target = await openTarget(must(config.databaseUrl, 'the PostgreSQL target'));
    queues = openQueues(config.redisUrl, config.queuePrefix);
    return await fn({ source, target, queues });
  } finally {
    await queues?.close();
    await closeAll(source, target);
  }
}

function jobRefs(tables: { tableName: string; jobId: string }[]): TableJobRef[] {
  return tables.map((t) => ({ table: t.tableName, jobId: t.jobId }));
}

/** Waits for a run, printing progress lines on stderr, then prints the report; returns the exit code. */
async function waitAndReport(target: DataSource, queues: QueueHandles, runId: string, output: Output, config: Config): Promise<number> {
  const tables = await listRunTables(target, runId);
  let lastLine = '';
  let lastAt = 0;
  let troubled = false;
  const settlement = await waitForRun(queues, runId, jobRefs(tables), {
    outageMs: config.redisOutageMs,
    onRedisTrouble: (error) => {
      if (error && !troubled) output.err(`Redis is unreachable (${error.message}); still waiting, up to ${Math.round(config.redisOutageMs / 1000)} s`);
      else if (!error && troubled) output.err('Redis answers again; waiting');
      troubled = error !== null;
    },
    onTick: (states) => {
      const line = formatProgressLine(states);
      const now = Date.now();
      if (line && (line !== lastLine || now - lastAt > 5000) && now - lastAt > 1000) {
        output.err(line);
        lastLine = line;
        lastAt = now;
      }
    },
  });
  const run = (await getRun(target, runId)) as RunRow;
  const finalTables = await listRunTables(target, runId);
  output.out(formatRunReport(run, finalTables, settlement.tables));
  if (settlement.outcome === 'finished' && run.status === 'verified') {
    output.out(`run ${runId}: every table copied and verified`);
    return 0;
  }
  if (settlement.outcome === 'tables-failed') {
    for (const line of formatFailures(runId, finalTables, settlement.tables)) output.out(line);
    output.out(`run ${runId}: not verified; finalize waits until the failed tables are retried and complete`);
  } else if (settlement.outcome === 'finalize-failed') {
    output.out(`run ${runId}: finalize failed: ${settlement.finalizeReason ?? 'unknown error'}; after fixing it: npx my2pg retry ${runId} --wait`);
  } else {
    output.out(`run ${runId}: not verified`);
  }
  return 1;
}

/** `start` (and the first half of `run`): plan, prepare the target, enqueue the flow. */
export async function startCommand(
  overrides: ConfigOverrides,
  flags: PlanFlags & { wait?: boolean },
  output: Output,
  inProcess?: { startWorkers: StartWorkers },
): Promise<number> {
  // In a terminal, pino's JSON lines are noise unless asked for: warn unless MY2PG_LOG_LEVEL or --log-level says otherwise.
  const config = loadConfig(overrides, ['source', 'target', 'redis'], readEnvironment(), { logLevel: 'warn' });
  const logger = createLogger(config.logLevel, secretsOf(config));
  return withServices(config, { source: true }, async ({ source, target, queues }) => {
    let prepared: PreparedRun;
    // Held until the flow is enqueued, so that two starts on one schema cannot both pass.
    const guard = await guardRunStart(target, queues, config.schema);
    try {
      const entities = flags.entities ? await loadEntitySelections(flags.entities, must(config.databaseUrl, 'target')) : undefined;
      prepared = await prepareRun(source!, target, {
        tables: splitNames(flags.tables),
        exclude: splitNames(flags.exclude),
        entities,
        batchSize: flags.batchSize,
        sourceLabel: redactUrl(must(config.mysqlUrl, 'source')),
        targetSchema: config.schema,
      });
      await enqueueRun(queues, prepared);
    } catch (error) {
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
      `run ${prepared.runId}: ${prepared.tables.length} tables enqueued (${created} to create, ${prepared.tables.length - created} to fill), ${prepared.droppedForeignKeys} foreign keys dropped for the load${prepared.syncAlembic ? ', alembic_version to sync' : ''}`,
    );
    if (!inProcess && !flags.wait) {
      output.out(prepared.runId);
      return 0;
    }
    const pool = inProcess ? await inProcess.startWorkers(config, { concurrency: flags.concurrency ?? 2, logger }) : undefined;
    try {
      return await waitAndReport(target, queues, prepared.runId, output, config);
    } finally {
      await pool?.close();
    }
  });
}

async function resolveRun(target: DataSource, runId: string | undefined, schema: string): Promise<RunRow> {
  if (!(await stateSchemaExists(target))) throw new UsageError('no my2pg run in this target yet (no my2pg schema); start one with: npx my2pg start');
  const run = runId ? await getRun(target, runId) : await getLatestRun(target, schema);
  if (!run) throw new UsageError(runId ? `no run ${runId} in this target` : `no my2pg run for schema ${schema} in this target`);
  return run;
}

/** `status`: per-table state from PostgreSQL and Redis. */
export async function statusCommand(overrides: ConfigOverrides, runId: string | undefined, flags: { json?: boolean }, output: Output): Promise<number> {
  const config = loadConfig(overrides, ['target', 'redis']);
  return withServices(config, { source: false }, async ({ target, queues }) => {
    const run = await resolveRun(target, runId, config.schema);
    const tables = await listRunTables(target, run.id);
    const jobs = await readTableJobs(queues, jobRefs(tables));
    if (flags.json) {
      const byTable = new Map(jobs.map((j) => [j.table, j]));
      output.out(
        JSON.stringify(
          {
            run: { id: run.id, status: run.status, createdAt: run.createdAt, finishedAt: run.finishedAt, source: run.source, targetSchema: run.targetSchema },
            tables: tables.map((t) => {
              const job = byTable.get(t.tableName);
              return {
                table: t.tableName,
                targetTable: t.targetTable,
                action: t.action,
                status: t.status,
                jobState: job?.state ?? null,
                progress: job?.progress ?? null,
                attempts: t.attempts,
                rowsCopied: t.rowsCopied === null ? null : Number(t.rowsCopied),
                sourceRows: t.sourceRows === null ? null : Number(t.sourceRows),
                targetRows: t.targetRows === null ? null : Number(t.targetRows),
                lastError: job?.failedReason ?? t.lastError,
                verification: t.verification,
                adjustments: t.adjustments,
              };
            }),
            summary: run.summary,
          },
          null,
          2,
        ),
      );
    } else {
      output.out(formatRunReport(run, tables, jobs));
      for (const line of formatFailures(run.id, tables, jobs)) output.out(line);
    }
    return 0;
  });
}

/** `retry`: re-queue a run's failed table jobs (all or the named ones). */
export async function retryCommand(overrides: ConfigOverrides, runId: string | undefined, flags: { table?: string[]; wait?: boolean }, output: Output): Promise<number> {
  const config = loadConfig(overrides, ['target', 'redis']);
  return withServices(config, { source: false }, async ({ target, queues }) => {
    const run = await resolveRun(target, runId, config.schema);
    const tables = await listRunTables(target, run.id);
    const only = splitNames(flags.table);
    const unknown = (only ?? []).filter((name) => !tables.some((t) => t.tableName === name));
    if (unknown.length > 0) throw new UsageError(`run ${run.id} has no table ${unknown.join(', ')}`);
    // A retried table is truncated again: not while another run fills the same schema.
    const guard = await guardRunStart(target, queues, run.targetSchema, { retryOf: run.id });
    const { retried, skipped } = await retryFailedJobs(queues, run.id, jobRefs(tables), only).finally(() => guard.release());
    for (const s of skipped) output.err(`table ${s.table} is not failed (job ${s.state}); not retried`);
    if (retried.length === 0) throw new UsageError(`nothing to retry in run ${run.id}: no failed job${only ? ' among the named tables' : ''}`);
    for (const name of retried) if (name !== '(finalize)') await updateRunTable(target, run.id, name, { status: 'pending', lastError: null });
    await updateRun(target, run.id, { status: 'running', finishedAt: null });
    output.err(`run ${run.id}: retried ${retried.join(', ')}`);
    if (!flags.wait) return 0;
    return waitAndReport(target, queues, run.id, output, config);
  });
}
