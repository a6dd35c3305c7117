import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { expect } from 'vitest';
import type { AnyQueue } from '../../src/queue/queue-backend.js';
import { readTargetScope, type QueueNames } from '../../src/queue/target-scope.js';
import { freePort } from '../../bench/private-mariadb.js';
import { expectSidesEqual } from './compare.js';
import type { Sandbox } from './sandbox.js';

/** Columns of the generated tables. */
const BIG_COLUMNS = ['id', 'a', 'b', 'c'];

/**
 * A narrow table of `rows` generated rows in MySQL (MariaDB's sequence engine) and its twin in
 * PostgreSQL with a trigger that sleeps 0.1 s every `slowEvery` rows, so that a copy lasts a
 * few seconds and a fault can land in the middle of it, whatever the machine's speed.
 */
export async function createSlowTable(
  sandbox: Sandbox,
  table: string,
  rows: number,
  slowEvery = 10_000,
  schema = 'public',
): Promise<void> {
  const my = await sandbox.mysql();
  await my.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(24), c DATETIME NULL)`);
  await my.query(
    `INSERT INTO \`${table}\` SELECT seq, seq * 7 % 1000, CONCAT('row-', seq), IF(seq % 10 = 0, NULL, '2024-01-01' + INTERVAL seq SECOND) FROM seq_1_to_${rows}`,
  );
  await my.end();
  const pgc = await sandbox.pg();
  await pgc.query(
    `CREATE TABLE "${schema}"."${table}" (id integer PRIMARY KEY, a integer NOT NULL, b varchar(24), c timestamp NULL)`,
  );
  await pgc.query(`CREATE OR REPLACE FUNCTION "${schema}"."slow_copy_${table}"() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_sleep(0.1);
      RETURN NEW;
    END $$`);
  await pgc.query(
    `CREATE TRIGGER "slow_copy_${table}" BEFORE INSERT ON "${schema}"."${table}" FOR EACH ROW WHEN (NEW.id % ${slowEvery} = 0) EXECUTE FUNCTION "${schema}"."slow_copy_${table}"()`,
  );
  await pgc.end();
}

/** Polls `check` until it returns a value that is not undefined/false. */
export async function waitUntil<T>(
  what: string | (() => string),
  check: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 50,
): Promise<T> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The queues of a sandbox's target database and schema, as my2pg names them. */
export async function queueNamesOf(sandbox: Sandbox, schema = 'public'): Promise<QueueNames> {
  const pgc = await sandbox.pg();
  try {
    return (await readTargetScope(pgc, schema)).queues;
  } finally {
    await pgc.end();
  }
}

/**
 * Waits until a table's job is active and PostgreSQL's own COPY progress shows some rows
 * written but not all `tableRows`: the moment a fault must land. (The job's progress counts
 * rows handed to the socket, which runs megabytes ahead of what PostgreSQL has taken.)
 */
export async function waitMidCopy(
  sandbox: Sandbox,
  queue: AnyQueue,
  jobId: string,
  tableRows: number,
  timeoutMs = 60_000,
): Promise<{ rows: number }> {
  const pgc = await sandbox.pg();
  let last = 'not found';
  try {
    return await waitUntil(
      () => `job ${jobId} in the middle of its copy (last seen: ${last})`,
      async () => {
        const job = await queue.getJob(jobId);
        const state = job ? await job.getState() : 'missing';
        const copy = await pgc.query(
          `SELECT tuples_processed::int AS n FROM pg_stat_progress_copy WHERE datname = current_database() AND command = 'COPY FROM'`,
        );
        const rows = copy.rows[0]?.n as number | undefined;
        last = `${state}, ${JSON.stringify(job?.progress)}, COPY at ${rows ?? 'none'}`;
        if (state !== 'active' || rows === undefined) return undefined;
        return rows > 0 && rows < tableRows ? { rows } : undefined;
      },
      timeoutMs,
      25,
    );
  } finally {
    await pgc.end();
  }
}

/** `my2pg start` without --wait; returns the run id it prints. */
export async function startRun(sandbox: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await sandbox.cli(['start', ...args], env);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const runId = result.stdout.trim();
  expect(runId).toMatch(/^run-/);
  return runId;
}

/** Waits until finalize recorded the run's outcome in `my2pg.runs`. */
export async function waitRunSettled(pgc: pg.Client, runId: string, timeoutMs = 90_000): Promise<string> {
  return waitUntil(
    `run ${runId} to be finalized`,
    async () => {
      const r = await pgc.query('SELECT status FROM my2pg.runs WHERE id = $1', [runId]);
      const status = r.rows[0]?.status as string | undefined;
      return status && status !== 'running' ? status : undefined;
    },
    timeoutMs,
    200,
  );
}

/** The id of the run that `start --wait` (running in the background) recorded as running. */
export async function waitForRunningRun(sandbox: Sandbox): Promise<string> {
  return waitUntil('the run to be recorded', async () => {
    const pgc = await sandbox.pg();
    try {
      const r = await pgc.query(`SELECT id FROM my2pg.runs WHERE status = 'running' ORDER BY created_at DESC LIMIT 1`);
      return r.rows[0]?.id as string | undefined;
    } finally {
      await pgc.end();
    }
  });
}

/** Attempts recorded for a table of a run. */
export async function attemptsOf(pgc: pg.Client, runId: string, table: string): Promise<number> {
  const r = await pgc.query('SELECT attempts FROM my2pg.run_tables WHERE run_id = $1 AND table_name = $2', [
    runId,
    table,
  ]);
  return Number(r.rows[0]?.attempts);
}

/** Asserts a generated table holds exactly the source's values, row by row. */
export async function expectSameContent(sandbox: Sandbox, table: string, rows: number): Promise<void> {
  expect(await expectSidesEqual(sandbox, { table, columns: BIG_COLUMNS })).toEqual({ [table]: rows });
}

/** Sends a signal and waits for the exit; returns the exit code and how long it took. */
export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 60_000,
): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, ms: 0 };
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  const outcome = await Promise.race([exited, timer]);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    throw new Error(`process ${child.pid} did not exit within ${timeoutMs} ms of ${signal}`);
  }
  return { code: outcome, ms: Date.now() - started };
}

/** A private Redis server of one test file, persisted to disk so that a restart keeps the jobs. */
export interface PrivateRedis {
  url: string;
  port: number;
  /** SIGKILLs the server (a crash) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startPrivateRedis(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-redis-'));
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  const start = async (): Promise<void> => {
    // appendfsync always: every write is on disk before Redis answers, so a SIGKILL loses nothing.
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--protected-mode',
        'no',
        ...extraArgs,
      ],
      { stdio: 'ignore' },
    );
    await waitUntil(
      `redis-server on port ${port}`,
      async () => {
        const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      15_000,
      100,
    );
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    port,
    kill,
    start,
    async dispose() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
