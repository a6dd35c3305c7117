import type { DataSource } from 'typeorm';
import { loadConfig, must, readEnvironment, redactUrl, secretsOf, type Config, type ConfigOverrides } from '../config.js';
import { describeError, UsageError } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { splitNames } from '../plan.js';
import { pingRedis } from '../queue/connection.js';
import { enqueueRun, openQueues, readTableJobs, retryFailedJobs, waitForRun, type QueueHandles, type RunSettlement, type TableJobRef } from '../queue/run-queue.js';
import { prepareRun, tableJobIds, type PreparedRun, type RangeCounts } from '../run/prepare-run.js';
import { guardRunStart } from '../run/run-guard.js';
import { loadEntitySelections } from '../schema/entity-schemas.js';
import { parseColumnTypeOverrides, parseTypeOverrides } from '../schema/type-overrides.js';
import { closeAll, openSource, openTarget } from '../services.js';
import type { RunRow } from '../state/entities.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import { getLatestRun, getRun, listRejectedRows, listRunTables, stateSchemaExists, updateRun, updateRunTable } from '../state/store.js';
import { describeOutcome, reverifyRun } from '../finalize/finalize-run.js';
import type { Output } from './output.js';
import { createProgressView } from './progress.js';
import { buildReportRows, formatFailures, formatRunReport } from './report.js';

/** Starts workers in this process (`run`, `demo`); injected by the process entry point. */
export type StartWorkers = (config: Config, options: { concurrency: number; logger: Logger }) => Promise<{ close(graceMs?: number): Promise<void> }>;

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

/** withDatabases plus the queues in Redis (checked first). */
async function withServices<T>(
  config: Config,
  need: { source: boolean },
  fn: (s: { source: DataSource | undefined; target: DataSource; queues: QueueHandles }) => Promise<T>,
): Promise<T> {
  await pingRedis(config.redisUrl);
  return withDatabases(config, need, async (databases) => {
    const queues = openQueues(config.redisUrl, config.queuePrefix);
    try {
      return await fn({ ...databases, queues });
    } finally {
      await queues.close();
    }
  });
}

function jobRefs(run: RunRow, tables: { tableName: string; jobId: string }[]): TableJobRef[] {
  const ranges = (run.options as { ranges?: RangeCounts }).ranges;
  return tables.map((t) => {
    const ids = tableJobIds(t, ranges);
    return { table: t.tableName, jobId: t.jobId, ...(ids.length > 1 ? { rangeJobIds: ids } : {}) };
  });
}

/** Waits for a run, printing progress lines on stderr, then prints the report; returns the exit code. */
async function waitAndReport(target: DataSource, queues: QueueHandles, runId: string, output: Output, config: Config): Promise<number> {
  const tables = await listRunTables(target, runId);
  const started = (await getRun(target, runId)) as RunRow;
  const progress = createProgressView({ tty: output.tty, err: output.err });
  let troubled = false;
  let settlement: RunSettlement;
  try {
    settlement = await waitForRun(queues, runId, jobRefs(started, tables), {
      outageMs: config.redisOutageMs,
      onRedisTrouble: (error) => {
        if (error && !troubled) output.err(`Redis is unreachable (${error.message}); still waiting, up to ${Math.round(config.redisOutageMs / 1000)} s`);
        else if (!error && troubled) output.err('Redis answers again; waiting');
        troubled = error !== null;
      },
      onTick: (states) => progress.update(states),
    });
  } finally {
    progress.stop();
  }
  const run = (await getRun(target, runId)) as RunRow;
  const finalTables = await listRunTables(target, runId);
  output.out(formatRunReport(run, finalTables, settlement.tables));
  const rejected = finalTables.reduce((n, t) => n + (t.rejectedRows ?? 0), 0);
  for (const line of await describeRejectedRows(target, runId, rejected)) output.out(line);
  if (settlement.outcome === 'finished' && run.status === 'verified') {
    output.out(`run ${runId}: every table copied and verified`);
    return 0;
  }
  if (settlement.outcome === 'finished' && run.status === 'unverified') {
    output.out(`run ${runId}: every table copied; not verified (--verify none)`);
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
  // Checked before any connection, so a typo is exit 2 with nothing touched.
  const typeOverrides = parseTypeOverrides([...config.typeOverrides, ...(flags.type ?? [])]);
  const columnTypeOverrides = parseColumnTypeOverrides([...config.columnTypeOverrides, ...(flags.columnType ?? [])]);
  return withServices(config, { source: true }, async ({ source, target, queues }) => {
    let prepared: PreparedRun;
    // Held until the flow is enqueued, so that two starts on one schema cannot both pass.
    const guard = await guardRunStart(target, queues, config.schema);
    // In-process workers start while the run is prepared (their connections take a moment);
    // they find jobs once the flow is enqueued.
    const starting = inProcess ? inProcess.startWorkers(config, { concurrency: flags.concurrency ?? 2, logger }) : undefined;
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
      });
      await enqueueRun(queues, prepared);
    } catch (error) {
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
    const pool = await starting;
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
    const jobs = await readTableJobs(queues, jobRefs(run, tables));
    if (flags.json) {
      const byTable = new Map(jobs.map((j) => [j.table, j]));
      const reportRows = new Map(buildReportRows(tables, run.summary).map((r) => [r.table, r]));
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
                rejected: reportRows.get(t.tableName)?.rejected ?? null,
                lastError: job?.failedReason ?? t.lastError,
                verification: t.verification,
                adjustments: t.adjustments,
              };
            }),
            rejectedRows: await listRejectedRows(target, run.id),
            summary: run.summary,
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
    const { retried, skipped } = await retryFailedJobs(queues, run.id, jobRefs(run, tables), only).finally(() => guard.release());
    for (const s of skipped) output.err(`table ${s.table} is not failed (job ${s.state}); not retried`);
    if (retried.length === 0) throw new UsageError(`nothing to retry in run ${run.id}: no failed job${only ? ' among the named tables' : ''}`);
    for (const name of retried) if (name !== '(finalize)') await updateRunTable(target, run.id, name, { status: 'pending', lastError: null });
    await updateRun(target, run.id, { status: 'running', finishedAt: null });
    output.err(`run ${run.id}: retried ${retried.join(', ')}`);
    if (!flags.wait) return 0;
    return waitAndReport(target, queues, run.id, output, config);
  });
}

/** `verify`: checks a finished run again, on both sides; exit 0 when equal, 1 when not. */
export async function verifyCommand(overrides: ConfigOverrides, runId: string | undefined, flags: { method: VerifyMethod; json?: boolean }, output: Output): Promise<number> {
  const config = loadConfig(overrides, ['source', 'target']);
  return withDatabases(config, { source: true }, async ({ source, target }) => {
    const run = await resolveRun(target, runId, config.schema);
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

/** Lines listing a run's rejected rows (the first `limit`). */
async function describeRejectedRows(target: DataSource, runId: string, total: number, limit = 20): Promise<string[]> {
  if (total === 0) return [];
  const rows = await listRejectedRows(target, runId, undefined, limit);
  const lines = rows.map((r) => `rejected: table ${r.tableName}, row ${JSON.stringify(r.key)}${r.columnName ? `, column ${r.columnName}` : ''}: ${r.reason}`);
  if (total > rows.length) lines.push(`rejected: ${total - rows.length} more rows; all are in table my2pg.rejected_rows (run_id = '${runId}'), with the source row as JSON`);
  return lines;
}
