import { UsageError } from '../core/errors.js';
import { readMigrationFile, type MigrationFile } from '../config/migration-file.js';
import { loadConfig, readEnvironment, type Config, type ConfigOverrides, type Service } from '../config/config.js';

/** The MySQL URL with another database; text that is no URL comes back as it is, for loadConfig to report. */
export function withDatabase(url: string, database: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** What a command on existing runs resolves: its configuration, and the one of a given run. */
export interface CommandConfig {
  config: Config;
  /** The configuration to work a run with: with the file's `databases`, its source URL names the run's database. */
  forRun(run: { sourceDatabase: string; targetSchema: string }): Config;
}

/**
 * The configuration of the commands that work on a target's runs (status, retry, resume,
 * cancel, verify, worker, board): flags, then the migration file's `source`, `target`,
 * `redis` and `schema`, then the environment. With `databases`, `--schema` picks one of them
 * (and so its source database); a command given a run id finds the run's database itself.
 */
export function resolveCommandConfig(
  overrides: ConfigOverrides,
  need: readonly Service[],
  options: {
    config?: string | undefined;
    runId?: string | undefined;
    logLevel?: Config['logLevel'];
    env?: Record<string, string | undefined>;
    cwd?: string;
    /** false: the command works on every schema (board). */
    pickSchema?: boolean;
    /** The command may copy in this process (retry, resume), so it reads the file's source too. */
    mayWork?: boolean;
  } = {},
): CommandConfig {
  const env = options.env ?? readEnvironment(options.cwd);
  const readsSource = need.includes('source') || options.mayWork === true;
  const used: (keyof MigrationFile)[] = [
    'target',
    'redis',
    'schema',
    'databases',
    ...(readsSource ? (['source'] as const) : []),
  ];
  const file = readMigrationFile(options.config, env, options.cwd, used);
  const databases = Object.entries(file?.databases ?? {});
  let source = overrides.source ?? (readsSource ? file?.source : undefined);
  if (file && databases.length > 0) {
    const schemas = databases.map(([db, schema]) => `${db} → ${schema}`).join(', ');
    const picked = overrides.schema ?? (databases.length === 1 ? databases[0]![1] : undefined);
    if (picked === undefined && options.pickSchema !== false && options.runId === undefined) {
      throw new UsageError(
        `migration file ${file.path} lists several databases (${schemas}): pass --schema SCHEMA or a run id to pick one`,
      );
    }
    const entry = databases.find(([, schema]) => schema === picked);
    if (picked !== undefined && !entry)
      throw new UsageError(`--schema ${picked} is none of the schemas of migration file ${file.path} (${schemas})`);
    // Until the run is known (forRun), the first database stands in: the URL may name none.
    if (source !== undefined && overrides.source === undefined)
      source = withDatabase(source, (entry ?? databases[0]!)[0]);
  }
  const schema = overrides.schema ?? file?.schema ?? (databases.length === 1 ? databases[0]![1] : undefined);
  const config = loadConfig(
    { ...overrides, source, target: overrides.target ?? file?.target, redis: overrides.redis ?? file?.redis, schema },
    need,
    env,
    options.logLevel ? { logLevel: options.logLevel } : undefined,
  );
  return {
    config,
    forRun: (run) => {
      // Only the file's databases map a run to its source database; a flag or variable names its own.
      if (!file || databases.length === 0 || overrides.source !== undefined || config.mysqlUrl === undefined)
        return config;
      return { ...config, mysqlUrl: withDatabase(config.mysqlUrl, run.sourceDatabase), schema: run.targetSchema };
    },
  };
}
