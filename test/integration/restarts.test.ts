import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual } from '../helpers/compare.js';
import {
  attemptsOf,
  startPrivateRedis,
  startRun,
  stopProcess,
  waitRunSettled,
  waitUntil,
  type PrivateRedis,
} from '../helpers/faults.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// A worker outlives its services restarting in the middle of a copy: the attempt that used
// the lost connection fails and is retried, the process stays up, and the table ends exact.
const ROWS = 200_000;
const DB = 'my2pg_restarts';

let sandbox: Sandbox;
let pgServer: PrivatePostgres;
let maria: PrivateMariadb;
let redis: PrivateRedis;
let env: NodeJS.ProcessEnv;
let worker: ReturnType<Sandbox['worker']>;

function mysqlOf(): Promise<mysql.Connection> {
  return mysql.createConnection({ uri: `${maria.url}${DB}`, multipleStatements: true, dateStrings: true });
}
async function pgOf(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: pgServer.url.replace(/\/postgres$/, `/${DB}`) });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** A table whose copy lasts a few seconds: PostgreSQL sleeps 0.1 s every 10 000 rows. */
async function createSlowTable(table: string): Promise<void> {
  const my = await mysqlOf();
  // About 50 MB: far more than the sockets between MariaDB and the worker buffer, so MariaDB is
  // still sending when the copy is in its middle (with 8 MB it had once sent everything already,
  // and its restart cost the copy nothing).
  await my.query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(240), c DATETIME NULL)`);
  await my.query(
    `INSERT INTO \`${table}\` SELECT seq, seq * 7 % 1000, CONCAT('row-', seq, REPEAT('x', 220)), IF(seq % 10 = 0, NULL, '2024-01-01' + INTERVAL seq SECOND) FROM seq_1_to_${ROWS}`,
  );
  await my.end();
  const pgc = await pgOf();
  await pgc.query(
    `CREATE TABLE "${table}" (id integer PRIMARY KEY, a integer NOT NULL, b varchar(240), c timestamp NULL)`,
  );
  await pgc.query(`CREATE OR REPLACE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_sleep(0.1); RETURN NEW; END $$`);
  await pgc.query(
    `CREATE TRIGGER "slow_${table}" BEFORE INSERT ON "${table}" FOR EACH ROW WHEN (NEW.id % 10000 = 0) EXECUTE FUNCTION slow_copy()`,
  );
  await pgc.end();
}

/** Waits until PostgreSQL's COPY of the table has taken some rows but not all. */
async function waitMidCopy(): Promise<void> {
  await waitUntil(
    'the copy in its middle',
    async () => {
      const pgc = await pgOf();
      try {
        const r = await pgc.query(
          `SELECT tuples_processed::int AS n FROM pg_stat_progress_copy WHERE datname = current_database() AND command = 'COPY FROM'`,
        );
        const n = r.rows[0]?.n as number | undefined;
        return n !== undefined && n > 0 && n < ROWS;
      } finally {
        await pgc.end();
      }
    },
    60_000,
    25,
  );
}

/** Waits until MariaDB is still executing the copy's read of `table` (it has not sent every row yet). */
async function waitMariadbSending(table: string): Promise<void> {
  await waitUntil(
    `MariaDB still sending ${table}`,
    async () => {
      const my = await mysqlOf();
      try {
        const [rows] = (await my.query(
          `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND COMMAND = 'Query' AND INFO LIKE ?`,
          [`%${table}%`],
        )) as unknown as [{ n: number | string }[]];
        return Number(rows[0]?.n) > 0;
      } finally {
        await my.end();
      }
    },
    30_000,
    10,
  );
}

async function expectRunExact(runId: string, table: string, attempts?: number): Promise<void> {
  const pgc = await pgOf();
  try {
    expect(await waitRunSettled(pgc, runId, 120_000)).toBe('verified');
    // The attempt that used the lost connection failed and was retried.
    if (attempts !== undefined) expect(await attemptsOf(pgc, runId, table)).toBe(attempts);
  } finally {
    await pgc.end();
  }
  const db = { mysql: mysqlOf, pg: pgOf };
  expect(await expectSidesEqual(db, { table, columns: ['id', 'a', 'b', 'c'] })).toEqual({ [table]: ROWS });
  expect(worker.exitCode, worker.output()).toBeNull();
}

describe('services restarting under a worker', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('restarts');
    [pgServer, maria, redis] = await Promise.all([
      startPrivatePostgres(),
      startPrivateMariadb({ binlog: false }),
      startPrivateRedis(),
    ]);
    const admin = await mysql.createConnection({ uri: maria.url });
    await admin.query(`CREATE DATABASE ${DB}`);
    await admin.end();
    const pgAdmin = new pg.Client({ connectionString: pgServer.url });
    await pgAdmin.connect();
    await pgAdmin.query(`CREATE DATABASE ${DB}`);
    await pgAdmin.end();
    for (const t of ['pg_restart', 'mysql_restart', 'redis_restart']) await createSlowTable(t);
    env = {
      MYSQL_URL: `${maria.url}${DB}`,
      DATABASE_URL: pgServer.url.replace(/\/postgres$/, `/${DB}`),
      REDIS_URL: redis.url,
    };
    worker = sandbox.worker(['--concurrency', '1'], env);
    await waitForOutput(worker, /worker: ready/);
  }, 180_000);
  afterAll(async () => {
    if (worker) await stopProcess(worker).catch(() => undefined);
    await Promise.allSettled([pgServer?.stop(), maria?.stop(), redis?.dispose()]);
    await sandbox?.dispose();
  });

  it('PostgreSQL restarts mid-copy (57P01): the worker stays up, the retry ends exact', async () => {
    const runId = await startRun(sandbox, ['--tables', 'pg_restart'], env);
    await waitMidCopy();
    await pgServer.restart();
    await expectRunExact(runId, 'pg_restart', 2);
  });

  it('MariaDB restarts mid-copy: the worker stays up, the retry ends exact', async () => {
    const runId = await startRun(sandbox, ['--tables', 'mysql_restart'], env);
    await waitMidCopy();
    await waitMariadbSending('mysql_restart');
    await maria.restart();
    await expectRunExact(runId, 'mysql_restart', 2);
  });

  it('Redis restarts mid-copy: the worker stays up, the run ends exact', async () => {
    const runId = await startRun(sandbox, ['--tables', 'redis_restart'], env);
    await waitMidCopy();
    await redis.kill();
    await redis.start();
    await expectRunExact(runId, 'redis_restart');
  });
});
