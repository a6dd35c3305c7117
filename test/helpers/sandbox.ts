import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { inject } from 'vitest';
import { loadSeedIntoMysql, prepareSeedTarget } from '../../src/demo/demo.js';
import { deleteRedisPrefix } from '../../bench/measure.js';
import { testQueueBackend } from './services.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/my2pg.js', import.meta.url));

/** The URL with another database in its path. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A test file's own MySQL database, PostgreSQL database and BullMQ prefix, dropped afterwards. */
export interface Sandbox {
  name: string;
  mysqlServerUrl: string;
  pgServerUrl: string;
  mysqlUrl: string;
  databaseUrl: string;
  /** The shared Redis of the tests (the queue only when `queueBackend` is `redis`). */
  redisUrl: string;
  prefix: string;
  /** Where the sandbox's queue lives (MY2PG_TEST_QUEUE): the target database by default, as in the product. */
  queueBackend: 'postgres' | 'redis';
  /** Environment for a my2pg child process pointed at this sandbox. */
  env: NodeJS.ProcessEnv;
  mysql(): Promise<mysql.Connection>;
  pg(): Promise<pg.Client>;
  /** Runs `my2pg …` to completion. */
  cli(
    args: string[],
    extraEnv?: NodeJS.ProcessEnv,
    timeoutMs?: number,
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Starts `my2pg worker` in the background (in the repository's directory unless `cwd` says). */
  worker(args?: string[], extraEnv?: NodeJS.ProcessEnv, cwd?: string): ChildProcess & { output: () => string };
  dispose(): Promise<void>;
}

export async function createSandbox(label: string): Promise<Sandbox> {
  const services = inject('services');
  // Only the integration project's global set-up provides the services; a unit test never opens a sandbox.
  if (services === undefined)
    throw new Error(
      'createSandbox needs the services of the integration project: move this test under test/integration',
    );
  const name = `my2pg_t_${label}_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: services.mysqlUrl });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const pgAdmin = new pg.Client({ connectionString: services.databaseUrl });
  await pgAdmin.connect();
  await pgAdmin.query(`CREATE DATABASE "${name}"`);
  await pgAdmin.end();
  const prefix = `my2pg-t-${label}-${randomBytes(3).toString('hex')}`;
  const queueBackend = testQueueBackend();
  const mysqlUrl = withDatabase(services.mysqlUrl, name);
  const databaseUrl = withDatabase(services.databaseUrl, name);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MYSQL_URL: mysqlUrl,
    DATABASE_URL: databaseUrl,
    ...(queueBackend === 'redis' ? { REDIS_URL: services.redisUrl } : {}),
    MY2PG_QUEUE_PREFIX: prefix,
    MY2PG_LOG_LEVEL: 'warn',
  };
  const children: ChildProcess[] = [];
  const sandbox: Sandbox = {
    name,
    mysqlServerUrl: services.mysqlUrl,
    pgServerUrl: services.databaseUrl,
    mysqlUrl,
    databaseUrl,
    redisUrl: services.redisUrl,
    prefix,
    queueBackend,
    env,
    mysql: () =>
      mysql.createConnection({
        uri: mysqlUrl,
        multipleStatements: true,
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        charset: 'utf8mb4',
      }),
    pg: async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      return client;
    },
    cli(args, extraEnv = {}, timeoutMs = 90_000) {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: ROOT,
          env: { ...env, ...extraEnv },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(
            new Error(`my2pg ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
          );
        }, timeoutMs);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    },
    worker(args = [], extraEnv = {}, cwd = ROOT) {
      const child = spawn(process.execPath, [BIN, 'worker', ...args], {
        cwd,
        env: { ...env, ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      children.push(child);
      return Object.assign(child, { output: () => output });
    },
    async dispose() {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      const a = await mysql.createConnection({ uri: services.mysqlUrl });
      await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await a.end();
      const p = new pg.Client({ connectionString: services.databaseUrl });
      await p.connect();
      await p.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await p.end();
      await deleteRedisPrefix(services.redisUrl, prefix);
    },
  };
  return sandbox;
}

/** Waits until a background worker printed that it is ready. */
export async function waitForOutput(
  child: { output: () => string },
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<void> {
  const started = Date.now();
  while (!pattern.test(child.output())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${pattern}: ${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A sandbox holding the seed app in MySQL and the alembic-made schema in PostgreSQL. */
export async function createSeedSandbox(label: string): Promise<Sandbox> {
  const sandbox = await createSandbox(label);
  await loadSeedIntoMysql(sandbox.mysqlServerUrl, sandbox.name);
  await prepareSeedTarget(sandbox.pgServerUrl, sandbox.name);
  return sandbox;
}
