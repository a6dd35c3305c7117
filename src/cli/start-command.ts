import { withPgClient } from '../dialect/postgres/connection.js';
import { describeError, UsageError } from '../core/errors.js';
import { checkQueueReachable } from '../queue/open-queue-backend.js';
import { refuseEvictingRedis } from '../queue/redis-policy.js';
import { enqueueRun } from '../queue/run-queue.js';
import { readTargetScope } from '../queue/target-scope.js';
import { prepareRun, type PreparedRun } from '../run/prepare-run.js';
import { planRun } from '../run/plan-run.js';
import { must, type ConfigOverrides } from '../config/config.js';
import { listSourceDatabases } from '../dialect/mysql/catalog.js';
import { createSchemaIfMissing } from '../dialect/postgres/catalog.js';
import { closeAll, openSource } from '../run/open-databases.js';
import { guardRunStart } from '../run/run-guard.js';
import type { RunRow } from '../state/entities.js';
import { getRun } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import type { Output } from './output.js';
import { createStderrLane } from './progress.js';
import { formatPlanSummary } from './plan-output.js';
import { resolveRunSettings, type PlanFlags, type RunSettings } from './run-settings.js';
import { commandLogger, waitWith, withDatabases, withServices, type InProcessDeps } from './command-services.js';

/** `start` (and the first half of `run`): plan, prepare the target, enqueue the flow. */
export async function startCommand(
  overrides: ConfigOverrides,
  flags: PlanFlags & { wait?: boolean },
  output: Output,
  inProcess?: InProcessDeps,
): Promise<number> {
  const settings = await resolveRunSettings(overrides, flags);
  // Before anything is written: a Redis that may evict the queue's keys is refused (exit 2).
  const notice = await refuseEvictingRedis(settings[0]!.config);
  if (notice !== undefined) output.err(`warning: ${notice}`);
  if (settings.some((one) => one.database !== undefined)) {
    await checkDatabases(settings);
    // The queue too is checked before the schemas are made: a refused start leaves the target as it was.
    await checkQueueReachable(settings[0]!.config);
    await createSchemas(settings, output);
  }
  let exitCode = 0;
  for (const one of settings) exitCode = Math.max(exitCode, await startOne(one, flags, output, inProcess));
  return exitCode;
}

/**
 * The runs of a migration file's `databases`, before any starts: each database must exist on
 * the source server and each run's input (tables, views, overrides) be good, so that a typo in
 * the last database changes nothing in the first. Reads only.
 */
async function checkDatabases(settings: readonly RunSettings[]): Promise<void> {
  const first = settings[0]!;
  const label = `migration file ${first.file ?? ''}`;
  const serverUrl = new URL(must(first.config.mysqlUrl, 'the MySQL source'));
  serverUrl.pathname = '/';
  const server = await openSource(serverUrl.toString(), 1);
  let present: string[];
  try {
    present = await listSourceDatabases(server);
  } finally {
    await closeAll(server);
  }
  const missing = settings.filter((one) => !present.includes(one.database!));
  if (missing.length > 0) {
    const shown = present.filter((db) => !['information_schema', 'mysql', 'performance_schema', 'sys'].includes(db));
    throw new UsageError(
      `${label}: ${missing.map((one) => `databases.${one.database}: the MySQL server has no database ${one.database}`).join('; ')} (it has: ${shown.join(', ') || 'none'})`,
    );
  }
  const problems: string[] = [];
  for (const { config, input, database } of settings) {
    await withDatabases(config, { source: true }, async ({ source, target }) => {
      try {
        // The planner reads and checks everything and writes nothing: every database is checked before any is touched.
        await planRun(source!, target, input, 'quick');
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        problems.push(`database ${database}: ${error.message}`);
      }
    });
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
}

/** Creates the schemas a migration file's `databases` name where missing (after {@link checkDatabases}); each run goes into its own. */
async function createSchemas(settings: readonly RunSettings[], output: Output): Promise<void> {
  const first = settings[0]!;
  const label = `migration file ${first.file ?? ''}`;
  await withDatabases(first.config, { source: false }, ({ target }) =>
    withPgClient(target, async (client) => {
      for (const { config } of settings) {
        try {
          if (await createSchemaIfMissing(client, config.schema))
            output.err(`schema ${config.schema} created in the target (${label} names it)`);
        } catch (error) {
          throw new UsageError(
            `cannot create schema ${JSON.stringify(config.schema)} in the target: ${describeError(error)}; create it, or grant CREATE on the database`,
          );
        }
      }
    }),
  );
}

/** Plans, prepares and enqueues one run; waits for it when asked to or when working its jobs here. */
async function startOne(
  { config, input }: RunSettings,
  flags: PlanFlags & { wait?: boolean },
  output: Output,
  inProcess?: InProcessDeps,
): Promise<number> {
  const lane = createStderrLane(output.err);
  const logger = commandLogger(config, output, lane);
  return withServices(config, { source: true }, async ({ source, target, queuesFor }) => {
    let prepared: PreparedRun;
    const scope = await withPgClient(target, (client) => readTargetScope(client, config.schema));
    const queues = queuesFor(scope.queues);
    // Held until the flow is enqueued, so that two starts on one schema cannot both pass.
    const guard = await guardRunStart(target, queuesFor, config.schema);
    // In-process workers start while the run is prepared (their connections take a moment);
    // they find jobs once the flow is enqueued.
    const starting = inProcess
      ? inProcess.startWorkers(config, { concurrency: flags.concurrency ?? 2, logger, queues: scope.queues })
      : undefined;
    // Its failure is reported where it is awaited (below, or by the close on a refused start);
    // until then it must not count as an unhandled rejection.
    starting?.catch(() => undefined);
    try {
      prepared = await prepareRun(source!, target, { ...input, queues: scope.queues });
      const { tables, hazards } = prepared;
      for (const line of formatPlanSummary(tables.map((t) => ({ ...t, hazards: hazards.get(t.table) ?? [] }))))
        output.err(line);
      await enqueueRun(queues, prepared);
      // Listed for the board, which finds every target's queues there.
      await queues.backend.registerTarget(scope);
    } catch (error) {
      // The refusal below is what the operator must see; workers that could not even start
      // have nothing to close.
      await starting?.then((pool) => pool.close()).catch(() => undefined);
      // No job exists yet, so nothing was started: exit 2, whatever the cause.
      if (error instanceof UsageError) throw error;
      throw new UsageError(`nothing was enqueued: ${describeError(error)}`);
    } finally {
      await guard.release();
    }
    if (prepared.droppedGuards.size > 0)
      output.err(
        `dropped the write guards of ${[...prepared.droppedGuards].map(([run, tables]) => `run ${run} from ${tables.length} table${tables.length === 1 ? '' : 's'}: ${tables.join(', ')}`).join('; ')} (that run neither cut over nor was cancelled)`,
      );
    for (const warning of prepared.warnings) output.err(`warning: ${warning}`);
    for (const item of prepared.notMigrated) output.err(`not migrated: ${item}`);
    const created = prepared.tables.filter((t) => t.action === 'create').length;
    output.err(
      `run ${prepared.runId}: ${prepared.tables.length} tables enqueued (${created} to create, ${prepared.tables.length - created} to fill), ${prepared.droppedForeignKeys} foreign keys and ${prepared.droppedIndexes} indexes dropped for the load${
        prepared.tables.some((t) => t.ranges)
          ? `, split into key ranges: ${prepared.tables
              .filter((t) => t.ranges)
              .map((t) => `${t.table} ×${t.ranges!.length}`)
              .join(', ')}`
          : ''
      }${prepared.syncAlembic ? ', alembic_version to sync' : ''}`,
    );
    if (!inProcess && !flags.wait) {
      output.out(prepared.runId);
      return 0;
    }
    const run = (await getRun(target, prepared.runId)) as RunRow;
    const pool = await starting;
    return waitWith({ target, queues, run, tables: await listRunTables(target, run.id), output, config, lane }, pool);
  });
}
