/**
 * What `run`, `start` and `plan` turn their flags, the environment and `.env` into: the
 * configuration of each run and the options its planner takes. One function for all three
 * commands, so that `plan` shows exactly what `run` would do.
 */
import { UsageError } from '../core/errors.js';
import { readMigrationFile, type MigrationFile } from '../config/migration-file.js';
import {
  loadConfig,
  must,
  readEnvironment,
  redactUrl,
  type Config,
  type ConfigOverrides,
  type Service,
} from '../config/config.js';
import type { RunOptions } from '../run/plan-run.js';
import { loadEntitySelections } from '../schema/entity-schemas.js';
import { parseColumnTypeOverrides, parseTypeOverrides } from '../schema/type-overrides.js';
import { splitNames } from '../vocabulary/table-selection.js';
import { withDatabase } from './command-config.js';
import type { VerifyMethod } from '../verify/verify-method.js';

/** Rows per COPY write unless `--batch-size` or the file says otherwise. */
const DEFAULT_BATCH_SIZE = 5000;

/** Options shared by `run`, `start` and `plan`. */
export interface PlanFlags {
  tables?: string[];
  exclude?: string[];
  entities?: string;
  /** `--config FILE`: the migration file (default: my2pg.yaml in the working directory, when there is one). */
  config?: string;
  /** The demo's run: a migration file in the working directory is not for it. */
  ignoreFile?: boolean;
  /** `--batch-size`; default 5000. */
  batchSize?: number;
  /** How finalize verifies: checksum (default), count or none. */
  verify?: VerifyMethod;
  /** A run with rejected rows still counts as verified. */
  allowRejects?: boolean;
  /** `--follow`: follow the source's binary log after the copy, until `my2pg cutover`. */
  follow?: boolean;
  /** `--fallback` (with --follow): arm the way back from PostgreSQL to MySQL at cutover. */
  fallback?: boolean;
  /** `--on-ddl apply|hold|stop` (commander checked the choice). */
  onDdl?: 'apply' | 'hold' | 'stop';
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
  /** `--partitions keep|flatten` (commander checked the choice). */
  partitions?: 'keep' | 'flatten';
  /** `--fulltext-config NAME`: text search configuration of FULLTEXT's GIN indexes. */
  fulltextConfig?: string;
  /** `--exclude-view NAME`, repeatable: views finalize neither creates nor verifies. */
  excludeView?: string[];
}

/** What the planner of one run takes, apart from the queues (known once Redis is asked). */
type RunInput = Omit<RunOptions, 'queues'>;

/** One run to plan: its configuration (source, target schema) and its planner options. */
export interface RunSettings {
  config: Config;
  input: RunInput;
  /** The source database when the migration file lists `databases`: its schema is then created when missing. */
  database?: string | undefined;
  /** The migration file it came from, for messages. */
  file?: string | undefined;
}

/** Entries of a per-table record for one database of a multi-database file (`db.table` keys, prefix taken off). */
function forDatabase<T>(
  record: Record<string, T> | undefined,
  database: string | undefined,
): Record<string, T> | undefined {
  if (!record || database === undefined) return record;
  const prefix = `${database}.`;
  return Object.fromEntries(
    Object.entries(record).flatMap(([key, value]) =>
      key.startsWith(prefix) ? [[key.slice(prefix.length), value]] : [],
    ),
  );
}

/**
 * Names of a list for one database: `db.name` entries (prefix taken off) and unqualified ones,
 * which apply to every database. A list with no entry for this database leaves it unfiltered.
 */
function namesForDatabase(
  list: readonly string[] | undefined,
  database: string | undefined,
  databases: readonly string[],
): string[] | undefined {
  if (!list || database === undefined) return list ? [...list] : undefined;
  const names = list.flatMap((name) => {
    const owner = databases.find((db) => name.startsWith(`${db}.`));
    if (owner === undefined) return [name];
    return owner === database ? [name.slice(owner.length + 1)] : [];
  });
  return names.length > 0 ? names : undefined;
}

/** Where a list came from, for messages: the flag, or the file's key (and the database it was taken for). */
function originOf(flag: string, fromFlags: boolean, fileKey: string, database: string | undefined): string {
  if (fromFlags) return flag;
  return database === undefined ? fileKey : `${fileKey} (database ${database})`;
}

/** In a file with `databases`, per-table keys name their database: each unqualified one is a problem. */
function unqualifiedKeys(file: MigrationFile, databases: readonly string[]): string[] {
  const problems: string[] = [];
  const check = (section: string, record: Record<string, unknown> | undefined): void => {
    for (const key of Object.keys(record ?? {})) {
      if (!databases.some((db) => key.startsWith(`${db}.`)))
        problems.push(
          `${section}.${key}: in a file with databases, name the table as DATABASE.TABLE (one of ${databases.join(', ')})`,
        );
    }
  };
  check('where', file.where);
  check('rename.tables', file.rename?.tables);
  check('rename.columns', file.rename?.columns);
  check('columnTypes', file.columnTypes);
  return problems;
}

/**
 * Resolves the runs a `run`/`start`/`plan` command plans: one, or one per source database of
 * the migration file's `databases`. Flags win over the migration file, which wins over the
 * environment and `.env`. Everything a user can get wrong without a connection (a type
 * override, a URL, a key of the file) is checked here: exit 2, nothing touched.
 */
export async function resolveRunSettings(
  overrides: ConfigOverrides,
  flags: PlanFlags,
  options: { need?: readonly Service[]; env?: Record<string, string | undefined>; cwd?: string } = {},
): Promise<RunSettings[]> {
  const baseEnv = options.env ?? readEnvironment(options.cwd);
  const file = flags.ignoreFile ? undefined : readMigrationFile(flags.config, baseEnv, options.cwd);
  // The file's policies stand where the environment's would: flags still win below.
  const env: Record<string, string | undefined> = {
    ...baseEnv,
    ...(file?.enum ? { MY2PG_ENUM: file.enum } : {}),
    ...(file?.nul ? { MY2PG_NUL: file.nul } : {}),
    ...(file?.zeroDate ? { MY2PG_ZERO_DATE: file.zeroDate } : {}),
    ...(file?.fulltextConfig ? { MY2PG_FULLTEXT_CONFIG: file.fulltextConfig } : {}),
  };
  const databases = Object.entries(file?.databases ?? {});
  const source = overrides.source ?? file?.source;
  const merged: ConfigOverrides = {
    ...overrides,
    // With databases, the URL may name none (each run names its own): the first stands in for the checks.
    source: source !== undefined && databases.length > 0 ? withDatabase(source, databases[0]![0]) : source,
    target: overrides.target ?? file?.target,
    redis: overrides.redis ?? file?.redis,
    schema: overrides.schema ?? file?.schema,
  };
  if (file && databases.length > 0) {
    const problems = unqualifiedKeys(
      file,
      databases.map(([db]) => db),
    );
    if (overrides.schema !== undefined)
      problems.push(`--schema: the file gives each database its schema (databases), so --schema cannot choose one`);
    if (problems.length > 0) throw new UsageError(`migration file ${file.path}: ${problems.join('; ')}`);
  }
  // In a terminal, log lines are noise unless asked for: warn unless MY2PG_LOG_LEVEL or --log-level says otherwise.
  const config = loadConfig(merged, options.need ?? ['source', 'target', 'queue'], env, { logLevel: 'warn' });
  if (flags.fallback && !flags.follow)
    throw new UsageError('--fallback arms the way back at cutover: it goes with --follow');
  if (flags.onDdl && !flags.follow)
    throw new UsageError('--on-ddl says what the follower does at a schema change: it goes with --follow');
  // Checked before any connection, so a typo is exit 2 with nothing touched. Later entries win.
  const typeOverrides = parseTypeOverrides([
    ...config.typeOverrides,
    ...Object.entries(file?.types ?? {}).map(([k, v]) => ({ value: `${k}=${v}`, label: `types.${k}` })),
    ...(flags.type ?? []),
  ]);
  const entities = flags.entities
    ? await loadEntitySelections(flags.entities, must(config.databaseUrl, 'target'))
    : undefined;
  const runs: { database: string | undefined; schema: string }[] =
    databases.length > 0
      ? databases.map(([database, schema]) => ({ database, schema }))
      : [{ database: undefined, schema: config.schema }];
  const databaseNames = databases.map(([db]) => db);
  return runs.map(({ database, schema }) => {
    const mysqlUrl =
      database === undefined ? config.mysqlUrl : withDatabase(must(config.mysqlUrl, 'the MySQL source'), database);
    const columnTypes = forDatabase(file?.columnTypes, database);
    const columnTypeOverrides = parseColumnTypeOverrides([
      ...config.columnTypeOverrides,
      ...Object.entries(columnTypes ?? {}).map(([k, v]) => ({
        value: `${k}=${v}`,
        label: `columnTypes.${database === undefined ? '' : `${database}.`}${k}`,
      })),
      ...(flags.columnType ?? []),
    ]);
    const flagTables = splitNames(flags.tables);
    const flagExclude = splitNames(flags.exclude);
    const fileViews = namesForDatabase(file?.views?.exclude, database, databaseNames);
    const renamedTables = forDatabase(file?.rename?.tables, database);
    const renamedColumns = forDatabase(file?.rename?.columns, database);
    return {
      config: { ...config, mysqlUrl, schema },
      database,
      file: file?.path,
      input: {
        // A flag replaces the file's list (even where it names none of this database's tables).
        tables: namesForDatabase(flagTables ?? file?.tables?.include, database, databaseNames),
        exclude: namesForDatabase(flagExclude ?? file?.tables?.exclude, database, databaseNames),
        origins: {
          tables: originOf('--tables', flagTables !== undefined, 'tables.include', database),
          exclude: originOf('--exclude', flagExclude !== undefined, 'tables.exclude', database),
          excludeViews:
            [
              ...(config.excludeViews.length > 0 ? ['MY2PG_EXCLUDE_VIEWS'] : []),
              ...(fileViews ? [originOf('', false, 'views.exclude', database)] : []),
              ...(flags.excludeView ? ['--exclude-view'] : []),
            ].join(' or ') || '--exclude-view',
        },
        entities,
        batchSize: flags.batchSize ?? file?.batchSize ?? DEFAULT_BATCH_SIZE,
        rangeRows: flags.rangeRows ?? file?.rangeRows,
        sourceLabel: redactUrl(must(mysqlUrl, 'source')),
        targetSchema: schema,
        verify: flags.verify ?? file?.verify,
        allowRejects: flags.allowRejects ?? file?.allowRejects,
        follow: Boolean(flags.follow),
        fallback: Boolean(flags.fallback),
        onDdl: flags.onDdl ?? file?.onDdl,
        typeOverrides,
        columnTypeOverrides,
        enumMode: flags.enum ?? config.enumMode,
        nul: flags.nul ?? config.nulPolicy,
        zeroDate: flags.zeroDate ?? config.zeroDatePolicy,
        partitions: flags.partitions ?? file?.partitions,
        fulltextConfig: flags.fulltextConfig ?? config.fulltextConfig,
        excludeViews: splitNames([...config.excludeViews, ...(fileViews ?? []), ...(flags.excludeView ?? [])]),
        where: forDatabase(file?.where, database),
        naming: {
          case: file?.identifierCase ?? 'keep',
          tables: renamedTables ?? {},
          columns: renamedColumns ?? {},
        },
      },
    };
  });
}
