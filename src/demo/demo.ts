import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { loadConfig, redactUrl, type ConfigOverrides } from '../config/config.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { quotePg } from '../dialect/postgres/quote.js';
import { beginTransaction } from '../dialect/postgres/transaction.js';
import { UsageError } from '../core/errors.js';

/** Name of the demo database on both servers. */
const DEMO_DATABASE = 'my2pg_demo';

/** The folder of the seed app's fixtures, found upwards from this module (works from src and dist). */
function seedFixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'fixtures', 'seed-app');
    if (existsSync(join(candidate, 'mysql.sql'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('fixtures/seed-app not found next to the my2pg package');
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

/** Loads the seed app into MySQL database `name` (dropped and recreated) from fixtures/seed-app/mysql.sql. */
export async function loadSeedIntoMysql(serverUrl: string, name: string): Promise<void> {
  const sql = readFileSync(join(seedFixturesDir(), 'mysql.sql'), 'utf8');
  const admin = await mysql
    .createConnection({ uri: withDatabase(serverUrl, ''), multipleStatements: true, charset: 'utf8mb4' })
    .catch((error: Error) => {
      throw new UsageError(`cannot connect to MySQL at ${redactUrl(serverUrl)}: ${error.message}`);
    });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteMysql(name)}`);
    await admin.query(`CREATE DATABASE ${quoteMysql(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await admin.query(`USE ${quoteMysql(name)}`);
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Creates PostgreSQL database `name` if missing and gives it the seed app's alembic schema when empty. */
export async function prepareSeedTarget(serverUrl: string, name: string, schema = 'public'): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect().catch((error: Error) => {
    throw new UsageError(`cannot connect to PostgreSQL at ${redactUrl(serverUrl)}: ${error.message}`);
  });
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${quotePg(name)}`);
  } finally {
    await admin.end();
  }
  const db = new pg.Client({ connectionString: withDatabase(serverUrl, name) });
  await db.connect();
  try {
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${quotePg(schema)}`);
    const present = await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [`${quotePg(schema)}.users`]);
    if (!present.rows[0]?.present) {
      // A string literal names one schema exactly as written (no identifier quoting inside it).
      await beginTransaction(db, { settings: { search_path: schema } });
      await db.query(readFileSync(join(seedFixturesDir(), 'postgres-alembic.sql'), 'utf8'));
      await db.query('COMMIT');
    }
  } finally {
    await db.end();
  }
}

/** The demo's source and target URLs: the configured servers (or local defaults), database my2pg_demo. */
export async function prepareDemo(overrides: ConfigOverrides): Promise<{ source: string; target: string }> {
  const config = loadConfig(overrides, []);
  const mysqlServer = config.mysqlUrl ?? 'mysql://root@127.0.0.1:3306/';
  const pgServer = config.databaseUrl ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  await loadSeedIntoMysql(mysqlServer, DEMO_DATABASE);
  await prepareSeedTarget(pgServer, DEMO_DATABASE, config.schema);
  return { source: withDatabase(mysqlServer, DEMO_DATABASE), target: withDatabase(pgServer, DEMO_DATABASE) };
}
