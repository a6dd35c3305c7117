import { loadConfig, must, readEnvironment, redactUrl, type ConfigOverrides } from '../config/config.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { describeError, UsageError } from '../core/errors.js';
import { splitNames } from '../vocabulary/table-selection.js';
import { enqueueRun } from '../queue/run-queue.js';
import { readTargetScope, registerTarget } from '../queue/target-scope.js';
import { prepareRun, type PreparedRun } from '../run/prepare-run.js';
import { guardRunStart } from '../run/run-guard.js';
import { loadEntitySelections } from '../schema/entity-schemas.js';
import { parseColumnTypeOverrides, parseTypeOverrides } from '../schema/type-overrides.js';
import type { RunRow } from '../state/entities.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import { getRun } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import type { Output } from './output.js';
import { createStderrLane } from './progress.js';
import { commandLogger, waitWith, withServices, type InProcessDeps } from './command-services.js';

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
  /** `--zero-date null|reject` (commander checked the choice). */
  zeroDate?: 'null' | 'reject';
  /** `--fulltext-config NAME`: text search configuration of FULLTEXT's GIN indexes. */
  fulltextConfig?: string;
  /** `--exclude-view NAME`, repeatable: views finalize neither creates nor verifies. */
  excludeView?: string[];
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
    // Its failure is reported where it is awaited (below, or by the close on a refused start);
    // until then it must not count as an unhandled rejection.
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
        zeroDate: flags.zeroDate ?? config.zeroDatePolicy,
        fulltextConfig: flags.fulltextConfig ?? config.fulltextConfig,
        excludeViews: splitNames([...config.excludeViews, ...(flags.excludeView ?? [])]),
      });
      await enqueueRun(queues, prepared);
      // Listed for the board, which finds every target's queues there.
      await registerTarget(queues.redis, config.queuePrefix, scope);
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
    return waitWith({ target, queues, run, tables: await listRunTables(target, run.id), output, config, lane }, pool);
  });
}
