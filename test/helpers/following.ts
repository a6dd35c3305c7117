/**
 * The set-up of the tests of `--follow` runs: a private MariaDB with the binary log on and a
 * sandbox, a --follow run of a database made for the test with one worker, an application
 * writer, and the follow job's state. One set per test file (each file is its own module).
 */
import type { ChildProcess } from 'node:child_process';
import mysql from 'mysql2/promise';
import type pg from 'pg';
import { followJobId } from '../../src/queue/contract.js';
import { compareCanonical, type Databases } from './compare.js';
import { startRun, waitUntil } from './faults.js';
import { copyQueue } from './queue.js';
import { startPrivateMariadb, type PrivateMariadb } from './private-mariadb.js';
import { createSandbox, waitForOutput, type Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let server: PrivateMariadb;

/** Starts the sandbox `name` and a private MariaDB (`serverId`: its own, so that binary logs do not mix); in beforeAll. */
export async function startFollowing(
  name: string,
  serverId: number,
): Promise<{ sandbox: Sandbox; server: PrivateMariadb }> {
  sandbox = await createSandbox(name);
  server = await startPrivateMariadb({ serverId });
  return { sandbox, server };
}

/** In afterAll. */
export async function stopFollowing(): Promise<void> {
  await server?.stop();
  await sandbox?.dispose();
}

/** A database of the private server, and the environment of a my2pg process copying it into `schema`. */
export function envOf(database: string, schema: string): NodeJS.ProcessEnv {
  return {
    MYSQL_URL: `${server.url}${database}`,
    MY2PG_SCHEMA: schema,
    MY2PG_STALLED_INTERVAL_MS: '1000',
    MY2PG_LOCK_DURATION_MS: '3000',
  };
}

export async function connect(database?: string): Promise<mysql.Connection> {
  return mysql.createConnection({
    uri: `${server.url}${database ?? ''}`,
    multipleStatements: true,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
  });
}

/** Both sides of a test: the private server's database and the sandbox's PostgreSQL. */
export function sides(database: string): Databases {
  return { mysql: () => connect(database), pg: () => sandbox.pg() };
}

export async function startWorker(database: string, schema: string): Promise<ChildProcess & { output: () => string }> {
  const worker = sandbox.worker(['--concurrency', '2'], {
    ...envOf(database, schema),
    MY2PG_LOG_LEVEL: 'info',
    MY2PG_LOG_FORMAT: 'json',
  });
  await waitForOutput(worker, /workers ready/);
  return worker;
}

/** Reads the follow job's state and progress. */
export async function followJob(
  runId: string,
  schema: string,
): Promise<{
  state: string;
  progress: Record<string, number>;
  failedReason: string | undefined;
  processedBy: string | undefined;
}> {
  const queue = await copyQueue(sandbox, undefined, schema);
  try {
    // The state first, then the job: a job read just before it failed has no reason yet.
    const state = await queue.getJobState(followJobId(runId));
    const job = await queue.getJob(followJobId(runId));
    return {
      state: job ? state : 'missing',
      progress: (job?.progress ?? {}) as Record<string, number>,
      failedReason: job?.failedReason,
      processedBy: (job as unknown as { processedBy?: string })?.processedBy,
    };
  } finally {
    await queue.closeAll();
  }
}

/** Whether the follower has applied everything the source has logged (its recorded position reached the source's). */
export async function caughtUp(runId: string, admin: mysql.Connection): Promise<boolean> {
  const [[master]] = (await admin.query('SHOW MASTER STATUS')) as unknown as [[{ File: string; Position: number }]];
  const pgc = await sandbox.pg();
  try {
    const row = (await pgc.query('SELECT binlog_file, binlog_position FROM my2pg.follow WHERE run_id = $1', [runId]))
      .rows[0];
    return row?.binlog_file === master!.File && Number(row.binlog_position) >= Number(master!.Position);
  } finally {
    await pgc.end();
  }
}

/**
 * A --follow run of database `name` of the private server (made by `sql`, run after CREATE
 * DATABASE and USE) into the PostgreSQL schema of the same name, with one worker, once its
 * follower has started; with a connection to each side.
 */
export async function followingRun(
  name: string,
  sql: string,
  args: string[] = [],
): Promise<{
  admin: mysql.Connection;
  pgc: pg.Client;
  env: NodeJS.ProcessEnv;
  worker: ChildProcess & { output: () => string };
  runId: string;
}> {
  const admin = await connect();
  await admin.query(`CREATE DATABASE ${name}; USE ${name}; ${sql}`);
  const pgc = await sandbox.pg();
  await pgc.query(`CREATE SCHEMA ${name}`);
  const env = envOf(name, name);
  const worker = await startWorker(name, name);
  const runId = await startRun(sandbox, ['--follow', '--schema', name, ...args], env);
  await waitUntil('the follower to start', async () => (await followJob(runId, name)).state === 'active', 60_000, 100);
  return { admin, pgc, env, worker, runId };
}

/** ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT: what an application's writes are retried on. */
const RETRIED = new Set([1213, 1205]);

/** Runs random application writes until stopped; returns how many statements it ran. */
export function applicationWriter(
  database: string,
  step: (my: mysql.Connection, i: number) => Promise<void>,
): { stop: () => Promise<number>; count: () => number } {
  let running = true;
  let n = 0;
  const done = (async () => {
    const my = await connect(database);
    try {
      while (running) {
        try {
          await step(my, n);
        } catch (error) {
          // An application retries a transaction MySQL chose as a deadlock victim or timed out on a
          // lock (pt-online-schema-change's triggers and chunk copies lock rows against its writes).
          // Any other error ends the writer, and the test.
          if (!RETRIED.has((error as { errno?: number }).errno ?? 0)) throw error;
          continue;
        }
        n += 1;
      }
    } finally {
      await my.end();
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return n;
    },
    count: () => n,
  };
}

/** Until the follower has applied everything MySQL logged so far (on a timeout: where it stands, and the job). */
export async function untilCaughtUp(runId: string, admin: mysql.Connection, schema: string): Promise<void> {
  try {
    await waitUntil('the follower to catch up', () => caughtUp(runId, admin), 60_000, 100);
  } catch (error) {
    const job = await followJob(runId, schema);
    const logs = (await followLogs(runId, schema)).split('\n').slice(-12).join('\n');
    throw new Error(
      `${(error as Error).message}: ${JSON.stringify({ state: job.state, failed: job.failedReason })}; the follow job's last log lines:\n${logs}`,
    );
  }
}

/** The follow job's log lines, joined. */
export async function followLogs(runId: string, schema: string): Promise<string> {
  const queue = await copyQueue(sandbox, undefined, schema);
  try {
    return (await queue.getJobLogs(followJobId(runId))).logs.join('\n');
  } finally {
    await queue.closeAll();
  }
}

/** `cutover --wait` goes, and every value of the `tables` tables of both sides is the same (compared independently). */
export async function cutoverAndCompare(
  env: NodeJS.ProcessEnv,
  runId: string,
  database: string,
  tables: number,
): Promise<void> {
  const cut = await sandbox.cli(['cutover', runId, '--wait'], env, 120_000);
  if (cut.code !== 0 || !/cutover: GO/.test(cut.stdout))
    throw new Error(`cutover did not go: ${cut.stdout}${cut.stderr}`);
  const canonical = await compareCanonical(sides(database), { schema: database });
  if (canonical.differences.length > 0 || canonical.tables !== tables)
    throw new Error(`the sides differ (${canonical.tables} tables): ${canonical.differences.slice(0, 10).join('; ')}`);
}
