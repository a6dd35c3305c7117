import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { mysqlTlsOptions } from '../dialect/mysql/tls.js';
import { checkPgTls, withLibpqSslModes } from '../dialect/postgres/tls.js';
import {
  blankToUndefined,
  mysqlUrlFromParts,
  normalizeMysqlUrl,
  normalizePostgresUrl,
  readEnvironment,
  splitList,
} from './environment.js';
import { redactUrl } from './secrets.js';

export { CONFIG_ENV_VARS, readEnvironment } from './environment.js';
export { redactUrl, scrubSecrets } from './secrets.js';

/** Values given on the command line; each wins over the environment. */
export interface ConfigOverrides {
  /** `--source`: MySQL URL. */
  source?: string | undefined;
  /** `--target`: PostgreSQL URL. */
  target?: string | undefined;
  /** `--redis`: Redis URL. */
  redis?: string | undefined;
  /** `--schema`: target PostgreSQL schema. */
  schema?: string | undefined;
  /** `--log-level`. */
  logLevel?: string | undefined;
  /** `--log-format`. */
  logFormat?: string | undefined;
  /** `--stall-timeout`, seconds. */
  stallTimeout?: string | undefined;
}

/**
 * Which services a command talks to; the missing ones are reported together. `queue` is the
 * job queue: Redis when a Redis URL is given, else the PostgreSQL target (docs/queue-backends.md).
 */
export type Service = 'source' | 'target' | 'queue';

/** The resolved configuration of one my2pg process. */
export interface Config {
  /** MySQL/MariaDB source, normalised to `mysql://`; undefined when the command needs no source. */
  mysqlUrl: string | undefined;
  /** PostgreSQL target, normalised to `postgresql://`. */
  databaseUrl: string | undefined;
  /**
   * Redis holding the BullMQ queues (`REDIS_URL`, `--redis`, `redis:` in the migration file).
   * Undefined: the queues live in the PostgreSQL target, in schema `queueSchema`.
   */
  redisUrl: string | undefined;
  /** Where the queues live: `redis` when `redisUrl` is set, `postgres` (the target database) otherwise. */
  queueBackend: 'redis' | 'postgres';
  /** Prefix of every BullMQ key, so several deployments (and tests) share one Redis. Default `my2pg`. Redis only. */
  queuePrefix: string;
  /**
   * The schema of the target database holding the queues when there is no Redis
   * (`MY2PG_QUEUE_SCHEMA`). Default `my2pg_queue`. PostgreSQL queue only.
   */
  queueSchema: string;
  /** Target schema in PostgreSQL. Default `public`. */
  schema: string;
  /** pino level. Default `info`. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * How log lines look (`MY2PG_LOG_FORMAT`, `--log-format`): `human` sentences, pino `json`,
   * or `auto` (default): human when stderr is a terminal, JSON for pipes and files.
   */
  logFormat: 'auto' | 'human' | 'json';
  /** How long a worker lets active jobs finish after the first signal, ms (`MY2PG_SHUTDOWN_GRACE_MS`). Default 30000. */
  shutdownGraceMs: number;
  /**
   * How long a job's lock lasts without renewal, ms (`MY2PG_LOCK_DURATION_MS`). A worker that
   * dies (SIGKILL, lost machine) holds its jobs this long before another worker may take them.
   * Default 30000.
   */
  lockDurationMs: number;
  /** How often workers look for jobs whose lock expired, ms (`MY2PG_STALLED_INTERVAL_MS`). Default 30000. */
  stalledIntervalMs: number;
  /**
   * How long `--wait` keeps waiting while Redis is unreachable before giving up, ms
   * (`MY2PG_REDIS_OUTAGE_MS`). Default 300000.
   */
  redisOutageMs: number;
  /**
   * A job whose progress has not moved for this long fails its attempt and is retried, ms
   * (`MY2PG_STALL_TIMEOUT` or `--stall-timeout`, in seconds). Default 60 s.
   */
  stallTimeoutMs: number;
  /** Bull Board basic-auth user, from `BOARD_USER`. */
  boardUser: string | undefined;
  /** Bull Board basic-auth password, from `BOARD_PASSWORD`. */
  boardPassword: string | undefined;
  /** `MY2PG_TYPES`: `;`-separated `MYSQL_TYPE=POSTGRES_TYPE` overrides; `--type` flags come after (and win). */
  typeOverrides: string[];
  /** `MY2PG_COLUMN_TYPES`: `;`-separated `TABLE.COLUMN=POSTGRES_TYPE` overrides; `--column-type` flags come after. */
  columnTypeOverrides: string[];
  /** `MY2PG_ENUM`: `type` (PostgreSQL enum types, default) or `check` (text + CHECK); the `--enum` flag wins. */
  enumMode: 'type' | 'check';
  /**
   * `MY2PG_NUL`: what a NUL character in text does: `reject` the row (default), `strip` it
   * (counted as an adjustment), or `bytea` (such columns of created tables become bytea). The `--nul` flag wins.
   */
  nulPolicy: 'reject' | 'strip' | 'bytea';
  /**
   * `MY2PG_ZERO_DATE`: what a MySQL zero date ('0000-00-00', a 00 month or day) does: `null`
   * writes NULL (default, counted as an adjustment) or `reject` sets the row aside. The `--zero-date` flag wins.
   */
  zeroDatePolicy: 'null' | 'reject';
  /** `MY2PG_FULLTEXT_CONFIG`: text search configuration of the GIN indexes made from FULLTEXT ones. Default `simple`; `--fulltext-config` wins. */
  fulltextConfig: string;
  /** `MY2PG_EXCLUDE_VIEWS`: comma-separated source views finalize neither creates nor verifies; `--exclude-view` flags add to them. */
  excludeViews: string[];
}

/** Every password found in the configuration, for scrubbing text that leaves the process. */
export function secretsOf(config: Config): string[] {
  const out: string[] = [];
  for (const url of [config.mysqlUrl, config.databaseUrl, config.redisUrl]) {
    if (!url) continue;
    try {
      const password = new URL(url).password;
      if (password) out.push(password, decodeURIComponent(password));
    } catch {
      // unparsable URLs were rejected by loadConfig
    }
  }
  if (config.boardPassword) out.push(config.boardPassword);
  return [...new Set(out)].filter((s) => s.length > 0);
}

function urlWithSchemes(label: string, schemes: readonly string[]) {
  return z.string().superRefine((value, ctx) => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${label} is not a valid URL: ${redactUrl(value)}` });
      return;
    }
    const scheme = parsed.protocol.replace(/:$/, '');
    if (!schemes.includes(scheme)) {
      ctx.addIssue({
        code: 'custom',
        message: `${label} must start with ${schemes.map((s) => `${s}://`).join(' or ')}, got ${redactUrl(value)}`,
      });
    } else if (!parsed.hostname && !parsed.searchParams.get('host')) {
      ctx.addIssue({ code: 'custom', message: `${label} has no host: ${redactUrl(value)}` });
    } else {
      try {
        if (scheme === 'mysql') mysqlTlsOptions(value);
        if (scheme === 'postgresql') checkPgTls(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${label}: ${(error as Error).message}` });
      }
    }
  });
}

function wholeMs(name: string, min: number) {
  return z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number of milliseconds`)
    .transform(Number)
    .refine((n) => n >= min, `${name} must be at least ${min}`);
}

const configSchema = z.object({
  mysqlUrl: urlWithSchemes('the MySQL URL (MYSQL_URL or --source)', ['mysql']).optional(),
  databaseUrl: urlWithSchemes('the PostgreSQL URL (DATABASE_URL or --target)', ['postgresql']).optional(),
  redisUrl: urlWithSchemes('the Redis URL (REDIS_URL or --redis)', ['redis', 'rediss']).optional(),
  queueBackend: z.enum(['redis', 'postgres']),
  queueSchema: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/,
      'MY2PG_QUEUE_SCHEMA must be a plain PostgreSQL name (a letter or _, then letters, digits, _ or $; at most 63)',
    ),
  queuePrefix: z
    .string()
    .min(1, 'MY2PG_QUEUE_PREFIX must not be empty')
    .regex(/^[A-Za-z0-9_.{}-]+$/, 'MY2PG_QUEUE_PREFIX may hold only letters, digits, _ . - { }'),
  schema: z
    .string()
    .min(1, 'the target schema (--schema) must not be empty')
    .max(63, 'the target schema name is longer than 63 bytes'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'the log level must be one of fatal, error, warn, info, debug, trace, silent',
  }),
  logFormat: z.enum(['auto', 'human', 'json'], {
    message: 'the log format (MY2PG_LOG_FORMAT or --log-format) must be auto, human or json',
  }),
  shutdownGraceMs: z
    .string()
    .regex(/^\d+$/, 'MY2PG_SHUTDOWN_GRACE_MS must be a whole number of milliseconds')
    .transform(Number),
  lockDurationMs: wholeMs('MY2PG_LOCK_DURATION_MS', 1000),
  stalledIntervalMs: wholeMs('MY2PG_STALLED_INTERVAL_MS', 500),
  redisOutageMs: wholeMs('MY2PG_REDIS_OUTAGE_MS', 0),
  stallTimeoutMs: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'the stall timeout (MY2PG_STALL_TIMEOUT or --stall-timeout) must be a number of seconds')
    .transform((s) => Math.round(Number(s) * 1000))
    .refine((n) => n >= 1000, 'the stall timeout (MY2PG_STALL_TIMEOUT or --stall-timeout) must be at least 1 s'),
  boardUser: z.string().optional(),
  boardPassword: z.string().optional(),
  typeOverrides: z.array(z.string()),
  columnTypeOverrides: z.array(z.string()),
  enumMode: z.enum(['type', 'check'], { message: 'the enum mode (MY2PG_ENUM or --enum) must be type or check' }),
  nulPolicy: z.enum(['reject', 'strip', 'bytea'], {
    message: 'the NUL policy (MY2PG_NUL or --nul) must be reject, strip or bytea',
  }),
  zeroDatePolicy: z.enum(['null', 'reject'], {
    message: 'the zero-date policy (MY2PG_ZERO_DATE or --zero-date) must be null or reject',
  }),
  fulltextConfig: z.string().min(1),
  excludeViews: z.array(z.string()),
});

/**
 * Resolves the configuration from overrides, the environment and `.env`, checking everything
 * at once: all problems are listed in one UsageError.
 */
export function loadConfig(
  overrides: ConfigOverrides = {},
  need: readonly Service[] = ['source', 'target', 'queue'],
  env: Record<string, string | undefined> = readEnvironment(),
  defaults: { logLevel: Config['logLevel'] } = { logLevel: 'info' },
): Config {
  const mysqlRaw = blankToUndefined(overrides.source) ?? blankToUndefined(env.MYSQL_URL) ?? mysqlUrlFromParts(env);
  const pgRaw = blankToUndefined(overrides.target) ?? blankToUndefined(env.DATABASE_URL);
  const redisUrl = blankToUndefined(overrides.redis) ?? blankToUndefined(env.REDIS_URL);
  const candidate = {
    mysqlUrl: mysqlRaw === undefined ? undefined : normalizeMysqlUrl(mysqlRaw),
    databaseUrl: pgRaw === undefined ? undefined : withLibpqSslModes(normalizePostgresUrl(pgRaw)),
    redisUrl,
    queueBackend: redisUrl === undefined ? 'postgres' : 'redis',
    queuePrefix: blankToUndefined(env.MY2PG_QUEUE_PREFIX) ?? 'my2pg',
    queueSchema: blankToUndefined(env.MY2PG_QUEUE_SCHEMA) ?? 'my2pg_queue',
    schema: overrides.schema ?? blankToUndefined(env.MY2PG_SCHEMA) ?? 'public',
    logLevel: blankToUndefined(overrides.logLevel) ?? blankToUndefined(env.MY2PG_LOG_LEVEL) ?? defaults.logLevel,
    logFormat: blankToUndefined(overrides.logFormat) ?? blankToUndefined(env.MY2PG_LOG_FORMAT) ?? 'auto',
    shutdownGraceMs: blankToUndefined(env.MY2PG_SHUTDOWN_GRACE_MS) ?? '30000',
    lockDurationMs: blankToUndefined(env.MY2PG_LOCK_DURATION_MS) ?? '30000',
    stalledIntervalMs: blankToUndefined(env.MY2PG_STALLED_INTERVAL_MS) ?? '30000',
    redisOutageMs: blankToUndefined(env.MY2PG_REDIS_OUTAGE_MS) ?? '300000',
    stallTimeoutMs: blankToUndefined(overrides.stallTimeout) ?? blankToUndefined(env.MY2PG_STALL_TIMEOUT) ?? '60',
    boardUser: blankToUndefined(env.BOARD_USER),
    boardPassword: env.BOARD_PASSWORD === '' ? undefined : env.BOARD_PASSWORD,
    typeOverrides: splitList(env.MY2PG_TYPES),
    columnTypeOverrides: splitList(env.MY2PG_COLUMN_TYPES),
    enumMode: blankToUndefined(env.MY2PG_ENUM) ?? 'type',
    nulPolicy: blankToUndefined(env.MY2PG_NUL) ?? 'reject',
    zeroDatePolicy: blankToUndefined(env.MY2PG_ZERO_DATE) ?? 'null',
    fulltextConfig: blankToUndefined(env.MY2PG_FULLTEXT_CONFIG) ?? 'simple',
    excludeViews: (env.MY2PG_EXCLUDE_VIEWS ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v.length > 0),
  };
  const problems: string[] = [];
  if (need.includes('source') && candidate.mysqlUrl === undefined) {
    problems.push(
      'no MySQL source: set MYSQL_URL (or MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD, MYSQL_DATABASE) or pass --source mysql://user:pass@host:3306/db',
    );
  }
  if (need.includes('target') && candidate.databaseUrl === undefined) {
    problems.push('no PostgreSQL target: set DATABASE_URL or pass --target postgresql://user:pass@host:5432/db');
  } else if (need.includes('queue') && redisUrl === undefined && candidate.databaseUrl === undefined) {
    problems.push(
      'no queue: without REDIS_URL the queue lives in the PostgreSQL target; set DATABASE_URL (or --target), or REDIS_URL (or --redis) for a Redis queue',
    );
  }
  const result = configSchema.safeParse(candidate);
  if (!result.success) problems.push(...result.error.issues.map((issue) => issue.message));
  if (candidate.mysqlUrl && result.success) {
    const db = new URL(candidate.mysqlUrl).pathname.replace(/^\//, '');
    if (need.includes('source') && !db)
      problems.push(`the MySQL URL names no database: ${redactUrl(candidate.mysqlUrl)} (add /DATABASE)`);
  }
  if (problems.length > 0 || !result.success) {
    throw new UsageError(`configuration: ${problems.join('; ')}`);
  }
  return result.data as Config;
}

/** The configured value, or a UsageError naming the setting. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new UsageError(`configuration: ${what} is not set`);
  return value;
}
