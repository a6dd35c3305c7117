/**
 * What the commands share: opening the databases and the queues (closed after), finding the
 * run a command is about, the logger of a command that works jobs, and the wait with this
 * process's own workers.
 */
import type { DataSource } from 'typeorm';
import { must, secretsOf, type Config } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { createLogger, resolveLogFormat, type Logger } from '../core/log.js';
import { listenForStop } from '../core/shutdown.js';
import { checkQueueReachable, openQueueBackend } from '../queue/open-queue-backend.js';
import { openQueues, type QueueHandles, type TableJobRef } from '../queue/run-queue.js';
import type { QueueNames } from '../queue/target-scope.js';
import { closeAll, openSource, openTarget } from '../run/open-databases.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import { tableJobRefs } from '../state/job-ids.js';
import { getLatestRun, getRun } from '../state/runs.js';
import { stateSchemaExists } from '../state/schema.js';
import type { Output } from './output.js';
import type { StderrLane } from './progress.js';
import type { InProcessPool } from '../queue/in-process-pool.js';
import { waitAndReport } from './wait-run.js';

/** Starts workers in this process (`run`, `demo`, `retry`/`resume` without a worker, `worker`); injected by the process entry point. */
export type StartWorkers = (
  config: Config,
  options: { concurrency: number; logger: Logger; queues?: QueueNames },
) => Promise<InProcessPool>;

/** What a command needs to work a run's jobs itself: the worker pool. */
export interface InProcessDeps {
  startWorkers: StartWorkers;
}

/** Opens the target (and the source when needed), runs `fn`, closes them. */
export async function withDatabases<T>(
  config: Config,
  need: { source: boolean },
  fn: (s: { source: DataSource | undefined; target: DataSource }) => Promise<T>,
): Promise<T> {
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

/** The databases plus a way to open the queues of any target on the queue backend (checked first); all closed after. */
export async function withServices<T>(
  config: Config,
  need: { source: boolean },
  fn: (s: {
    source: DataSource | undefined;
    target: DataSource;
    queuesFor: (names: QueueNames) => QueueHandles;
  }) => Promise<T>,
): Promise<T> {
  await checkQueueReachable(config);
  return withDatabases(config, need, async (databases) => {
    // Failures reach the command that sent them as rejections; the events only repeat them.
    const backend = openQueueBackend(config, { role: 'producer', onError: () => undefined });
    const opened = new Map<string, QueueHandles>();
    const queuesFor = (names: QueueNames): QueueHandles => {
      const key = `${names.copy}\u0000${names.finalize}`;
      let queues = opened.get(key);
      if (!queues) {
        queues = openQueues(backend, names);
        opened.set(key, queues);
      }
      return queues;
    };
    try {
      return await fn({ ...databases, queuesFor });
    } finally {
      await Promise.allSettled([...opened.values()].map((q) => q.close()));
      await backend.close();
    }
  });
}

/** The queue's jobs of a run's tables (a split table's key-range jobs too). */
export function jobRefs(run: RunRow, tables: { tableName: string; jobId: string }[]): TableJobRef[] {
  return tableJobRefs(tables, run.options.ranges);
}

/**
 * The logger of a command that may work jobs itself: human sentences on a terminal, JSON
 * otherwise (`--log-format`), written through `lane` so that a line never tears the bars.
 */
export function commandLogger(config: Config, output: Output, lane: StderrLane): Logger {
  return createLogger(config.logLevel, secretsOf(config), {
    format: resolveLogFormat(config.logFormat, output.tty !== undefined),
    write: (line) => lane.write(line),
  });
}

/**
 * Runs the wait with this process's own workers when `pool` is given, closes them after.
 * While they work, the first SIGINT/SIGTERM hands the run's jobs back (exit 130) and a second
 * one exits at once; without them, a signal ends the process as it always does.
 */
export async function waitWith(
  context: {
    target: DataSource;
    queues: QueueHandles;
    run: RunRow;
    tables: RunTableRow[];
    output: Output;
    config: Config;
    lane: StderrLane;
  },
  pool: InProcessPool | undefined,
): Promise<number> {
  const interruption = pool ? listenForStop() : undefined;
  try {
    return await waitAndReport({ ...context, refs: jobRefs(context.run, context.tables), pool, interruption });
  } finally {
    interruption?.dispose();
    await pool?.close();
  }
}

/**
 * A run, by id or the latest of the schema; refused (exit 2) when it was cancelled, since
 * its constraints are back and its jobs gone: only a new run goes on from there.
 */
export async function resolveRun(
  target: DataSource,
  runId: string | undefined,
  schema: string,
  forWork?: 'retried' | 'resumed' | 'verified',
): Promise<RunRow> {
  if (!(await stateSchemaExists(target)))
    throw new UsageError('no my2pg run in this target yet (no my2pg schema); start one with: npx my2pg run');
  const run = runId ? await getRun(target, runId) : await getLatestRun(target, schema);
  if (!run)
    throw new UsageError(runId ? `no run ${runId} in this target` : `no my2pg run for schema ${schema} in this target`);
  if (forWork && run.status === 'cancelled') {
    const why = forWork === 'verified' ? ': its tables were not all copied' : '';
    throw new UsageError(
      `run ${run.id} was cancelled${why}, so it cannot be ${forWork}; start a new run with: npx my2pg run`,
    );
  }
  return run;
}

/**
 * `verify` and `verify --receipt`: the run to verify (by id or the latest; a cancelled one is
 * refused) with its own source database opened; both are closed after `fn`.
 */
export async function withVerifiableRun<T>(
  config: Config,
  forRun: (run: RunRow) => Config,
  runId: string | undefined,
  fn: (s: { run: RunRow; source: DataSource; target: DataSource; mysqlUrl: string }) => Promise<T>,
): Promise<T> {
  return withDatabases(config, { source: false }, async ({ target }) => {
    const run = await resolveRun(target, runId, config.schema, 'verified');
    // Opened once the run is known: with the migration file's databases, it says which source database.
    const mysqlUrl = must(forRun(run).mysqlUrl, 'the MySQL source');
    const source = await openSource(mysqlUrl);
    try {
      return await fn({ run, source, target, mysqlUrl });
    } finally {
      await closeAll(source);
    }
  });
}
