import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Every environment variable my2pg reads, all through this module. Deployment files (the
 * compose file, .env examples) are checked against it, so a misspelt variable is caught.
 */
export const CONFIG_ENV_VARS = [
  'MYSQL_URL',
  'MYSQL_HOST',
  'MYSQL_PORT',
  'MYSQL_USER',
  'MYSQL_PASSWORD',
  'MYSQL_DATABASE',
  'DATABASE_URL',
  'REDIS_URL',
  'MY2PG_QUEUE_PREFIX',
  'MY2PG_QUEUE_SCHEMA',
  'MY2PG_SCHEMA',
  'MY2PG_LOG_LEVEL',
  'MY2PG_LOG_FORMAT',
  'MY2PG_SHUTDOWN_GRACE_MS',
  'BOARD_USER',
  'BOARD_PASSWORD',
  'MY2PG_TYPES',
  'MY2PG_COLUMN_TYPES',
  'MY2PG_ENUM',
  'MY2PG_NUL',
  'MY2PG_ZERO_DATE',
  'MY2PG_FULLTEXT_CONFIG',
  'MY2PG_EXCLUDE_VIEWS',
  'MY2PG_LOCK_DURATION_MS',
  'MY2PG_STALLED_INTERVAL_MS',
  'MY2PG_REDIS_OUTAGE_MS',
  'MY2PG_STALL_TIMEOUT',
] as const;

/**
 * Reads `.env` in the working directory into a copy of the environment; variables already
 * set in the real environment win, as with dotenv.
 */
export function readEnvironment(cwd = process.cwd()): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  const file = resolve(cwd, '.env');
  if (existsSync(file)) {
    const parsed = parseEnv(readFileSync(file, 'utf8'));
    for (const [key, value] of Object.entries(parsed)) {
      if (env[key] === undefined) env[key] = value;
    }
  }
  return env;
}

/** Rewrites `mysql+pymysql://` or `mariadb://` (SQLAlchemy style URLs) to `mysql://`. */
export function normalizeMysqlUrl(url: string): string {
  return url.replace(/^(mysql|mariadb)(\+[a-z0-9_]+)?:\/\//i, 'mysql://');
}

/** Rewrites `postgres://` or `postgresql+psycopg2://` to `postgresql://`. */
export function normalizePostgresUrl(url: string): string {
  return url.replace(/^(postgres|postgresql)(\+[a-z0-9_]+)?:\/\//i, 'postgresql://');
}

export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(';')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

export function mysqlUrlFromParts(env: Record<string, string | undefined>): string | undefined {
  const host = env.MYSQL_HOST;
  const database = env.MYSQL_DATABASE;
  if (!host && !database) return undefined;
  const url = new URL('mysql://localhost');
  url.hostname = host ?? '127.0.0.1';
  if (env.MYSQL_PORT) url.port = env.MYSQL_PORT;
  url.username = encodeURIComponent(env.MYSQL_USER ?? 'root');
  if (env.MYSQL_PASSWORD) url.password = encodeURIComponent(env.MYSQL_PASSWORD);
  url.pathname = `/${encodeURIComponent(database ?? '')}`;
  return url.toString();
}

export function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
