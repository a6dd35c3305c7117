/**
 * What `run`, `start` and `plan` turn their flags, the environment and `.env` into: the
 * configuration of each run and the options its planner takes. One function for all three
 * commands, so that `plan` shows exactly what `run` would do.
 */
import { loadConfig, must, readEnvironment, redactUrl, type Config, type ConfigOverrides, type Service } from '../config/config.js';
import type { RunOptions } from '../run/prepare-run.js';
import { loadEntitySelections } from '../schema/entity-schemas.js';
import { parseColumnTypeOverrides, parseTypeOverrides } from '../schema/type-overrides.js';
import { splitNames } from '../vocabulary/table-selection.js';
import type { VerifyMethod } from '../verify/verify-method.js';

/** Options shared by `run`, `start` and `plan`. */
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

/** What the planner of one run takes, apart from the queues (known once Redis is asked). */
export type RunInput = Omit<RunOptions, 'queues'>;

/** One run to plan: its configuration (source, target schema) and its planner options. */
export interface RunSettings {
  config: Config;
  input: RunInput;
}

/**
 * Resolves the runs a `run`/`start`/`plan` command plans. Everything a user can get wrong
 * without a connection (a type override, a URL) is checked here: exit 2, nothing touched.
 */
export async function resolveRunSettings(
  overrides: ConfigOverrides,
  flags: PlanFlags,
  options: { need?: readonly Service[]; env?: Record<string, string | undefined> } = {},
): Promise<RunSettings[]> {
  // In a terminal, log lines are noise unless asked for: warn unless MY2PG_LOG_LEVEL or --log-level says otherwise.
  const config = loadConfig(overrides, options.need ?? ['source', 'target', 'redis'], options.env ?? readEnvironment(), { logLevel: 'warn' });
  const typeOverrides = parseTypeOverrides([...config.typeOverrides, ...(flags.type ?? [])]);
  const columnTypeOverrides = parseColumnTypeOverrides([...config.columnTypeOverrides, ...(flags.columnType ?? [])]);
  const entities = flags.entities ? await loadEntitySelections(flags.entities, must(config.databaseUrl, 'target')) : undefined;
  return [
    {
      config,
      input: {
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
        nul: flags.nul ?? config.nulPolicy,
        zeroDate: flags.zeroDate ?? config.zeroDatePolicy,
        fulltextConfig: flags.fulltextConfig ?? config.fulltextConfig,
        excludeViews: splitNames([...config.excludeViews, ...(flags.excludeView ?? [])]),
      },
    },
  ];
}
