/**
 * The way back (docs/fallback.md): a `--follow --fallback` run on a private binlog MariaDB and a
 * private PostgreSQL with wal_level = logical; after cutover's go the application writes to
 * PostgreSQL, the reverse follower applies it to MySQL, `fallback --wait --lock` goes and every
 * MySQL table equals PostgreSQL by an independent comparison; `finish` leaves no slot; a missing
 * precondition is exit 2 with no slot or publication made.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compareCanonical } from '../helpers/compare.js';
import { startRun, waitUntil } from '../helpers/faults.js';
import { connect, envOf, startFollowing, stopFollowing } from '../helpers/following.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { waitForOutput, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;
let postgres: PrivatePostgres;

beforeAll(async () => {
  ({ sandbox } = await startFollowing('fallback', 26));
  postgres = await startPrivatePostgres({ walLevel: 'logical' });
}, 90_000);

afterAll(async () => {
  await postgres?.stop();
  await stopFollowing();
});

async function privatePg(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  return client;
}

const SCHEMA = `CREATE TABLE accounts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(100) NOT NULL UNIQUE,
    big BIGINT UNSIGNED NOT NULL,
    profile JSON NULL,
    active TINYINT(1) NOT NULL DEFAULT 1,
    seen DATETIME(6) NULL,
    stamp TIMESTAMP(6) NULL,
    note VARCHAR(100) NULL,
    data VARBINARY(20) NULL,
    tags SET('a','b','c') NULL,
    kind ENUM('x','y') NULL);
  CREATE TABLE orders (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT UNSIGNED NOT NULL,
    total DECIMAL(12,2) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts (id));
  INSERT INTO accounts (email, big, profile, active, seen, stamp, note, data, tags, kind) VALUES
    ('a@x', 1, '{"k": 1}', 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00', 'one', x'00ff', 'a', 'x'),
    ('b@x', 18446744073709551615, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL),
    ('c@x', 3, '[1, 2]', 1, '2024-03-03 03:03:03.333333', '2024-03-03 03:03:03', 'three', x'', 'a,b', 'y'),
    ('d@x', 4, NULL, 0, NULL, NULL, 'four', NULL, '', NULL);
  INSERT INTO orders (account_id, total) VALUES (1, 10.50), (1, 20.00), (3, 30.25);`;

describe('start --follow --fallback, cutover, then the way back', () => {
  test('writes to PostgreSQL after the go flow back to MySQL; fallback --wait --lock goes; finish leaves no slot', async () => {
    const admin = await connect();
    await admin.query(
      `CREATE DATABASE shop_fb CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; USE shop_fb; ${SCHEMA}`,
    );
    const pgc = await privatePg();
    await pgc.query('CREATE SCHEMA shop_fb');
    const env = { ...envOf('shop_fb', 'shop_fb'), DATABASE_URL: postgres.url };
    const worker = sandbox.worker(['--concurrency', '2'], {
      ...env,
      MY2PG_LOG_LEVEL: 'info',
      MY2PG_LOG_FORMAT: 'json',
    });
    await waitForOutput(worker, /workers ready/);
    try {
      const runId = await startRun(sandbox, ['--follow', '--fallback', '--schema', 'shop_fb'], env);
      const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 180_000);
      expect(cut.code, cut.stdout + cut.stderr).toBe(0);
      expect(cut.stderr).toMatch(/way back armed: slot my2pg_back_\S+ from \S+/);
      const slots = await pgc.query("SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical'");
      expect(slots.rows).toHaveLength(1);

      // The application on PostgreSQL: inserts, updates, deletes, a key change, JSON, unsigned BIGINT, emoji, NULL.
      await pgc.query(`INSERT INTO shop_fb.accounts (id, email, big, profile, active, seen, stamp, note, data, tags, kind)
        VALUES (100, 'new@x', 18446744073709551614, '{"emoji": "😀", "n": [1, {"b": null}]}', false,
                '2025-02-03 04:05:06.123456', '2025-05-01 10:00:00.5+02', 'emoji 😀 note', '\\x00ff10', '{a,c}', 'y')`);
      await pgc.query(
        'UPDATE shop_fb.accounts SET note = NULL, big = big - 1, active = NOT active, profile = \'{"k": 2}\' WHERE id = 1',
      );
      await pgc.query('UPDATE shop_fb.accounts SET id = 2000 WHERE id = 4');
      await pgc.query('BEGIN');
      await pgc.query('DELETE FROM shop_fb.orders WHERE id = 3');
      await pgc.query('DELETE FROM shop_fb.accounts WHERE id = 3');
      await pgc.query('INSERT INTO shop_fb.orders (id, account_id, total) VALUES (10, 100, 99.99)');
      await pgc.query('COMMIT');
      await pgc.query("UPDATE shop_fb.accounts SET tags = '{}', kind = NULL, data = NULL WHERE id = 2");
      for (let i = 0; i < 50; i++)
        await pgc.query('INSERT INTO shop_fb.orders (id, account_id, total) VALUES ($1, 100, $2)', [1000 + i, i]);
      await pgc.query('UPDATE shop_fb.orders SET total = total + 1 WHERE id >= 1000');

      // A figure: 20,000 rows in one PostgreSQL transaction, until MySQL has them all.
      await pgc.query(
        'INSERT INTO shop_fb.orders (id, account_id, total) SELECT g, 100, g / 100.0 FROM generate_series(100000, 119999) g',
      );
      const bulkStarted = Date.now();
      const my = await connect('shop_fb');
      await waitUntil(
        'the bulk insert to reach MySQL',
        async () => {
          const [[row]] = (await my.query('SELECT COUNT(*) AS n FROM orders WHERE id >= 100000')) as unknown as [
            [{ n: string }],
          ];
          return Number(row.n) === 20_000;
        },
        120_000,
        100,
      );
      const bulkMs = Date.now() - bulkStarted;
      console.info(
        `way back: 20000 row inserts of one transaction in MySQL after ${bulkMs} ms (${Math.round(20_000 / (bulkMs / 1000))}/s)`,
      );

      const back = await sandbox.cli(['fallback', runId, '--wait', '--lock'], env, 180_000);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      console.info(back.stdout.split('\n').find((l) => l.startsWith('fallback:')));
      expect(back.stdout).toMatch(/fallback: GO.*PostgreSQL writes frozen for \d+\.\d s/);

      // An independent comparison: each side read with its own driver, every column of every table.
      const compared = await compareCanonical(
        { mysql: () => connect('shop_fb'), pg: privatePg },
        { schema: 'shop_fb', only: ['accounts', 'orders'] },
      );
      expect(compared.differences).toEqual([]);
      expect(compared.tables).toBe(2);
      const [[counts]] = (await my.query(
        'SELECT (SELECT COUNT(*) FROM accounts) AS a, (SELECT COUNT(*) FROM orders) AS o, (SELECT events_applied FROM my2pg_fallback) AS e, @@GLOBAL.read_only AS ro',
      )) as unknown as [[{ a: number; o: number; e: string; ro: number }]];
      await my.end();
      expect(counts).toMatchObject({ a: '4', o: '20053', ro: '0' });
      // Every row change applied once: 1 + 1 + 1 + 3 + 1 + 50 + 50 + 20,000.
      expect(Number(counts.e)).toBe(20_107);

      const finish = await sandbox.cli(['finish', runId], env);
      expect(finish.code, finish.stdout + finish.stderr).toBe(0);
      await waitUntil('the slot to go', async () => {
        const left = await pgc.query('SELECT 1 FROM pg_replication_slots UNION ALL SELECT 1 FROM pg_publication');
        return left.rows.length === 0;
      });
    } finally {
      worker.kill('SIGKILL');
      await admin.query('SET GLOBAL read_only = OFF');
      await admin.end();
      await pgc.end();
    }
  }, 300_000);

  test('the way back worker SIGKILLed mid-stream: another takes over, nothing applied twice; a row MySQL refuses stops it naming the key and the duplicate; retry resumes once MySQL is fixed', async () => {
    const admin = await connect();
    await admin.query(`CREATE DATABASE kill_fb CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; USE kill_fb;
      CREATE TABLE users (id INT NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE, n INT NOT NULL);
      INSERT INTO users VALUES (1, 'Bob', 0);`);
    const pgc = await privatePg();
    await pgc.query('CREATE SCHEMA kill_fb');
    const env = { ...envOf('kill_fb', 'kill_fb'), DATABASE_URL: postgres.url };
    const workerEnv = { ...env, MY2PG_LOG_LEVEL: 'info', MY2PG_LOG_FORMAT: 'json' };
    const first = sandbox.worker(['--concurrency', '2'], workerEnv);
    await waitForOutput(first, /workers ready/);
    let second: ReturnType<Sandbox['worker']> | undefined;
    try {
      const runId = await startRun(sandbox, ['--follow', '--fallback', '--schema', 'kill_fb'], env);
      const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 180_000);
      expect(cut.code, cut.stdout + cut.stderr).toBe(0);
      // The application: one row change per transaction, on and on, while the worker dies.
      let running = true;
      let changes = 0;
      const writer = (async () => {
        const app = await privatePg();
        for (let i = 0; running; i++) {
          await app.query('INSERT INTO kill_fb.users (id, name, n) VALUES ($1, $2, 0)', [1000 + i, `user ${i}`]);
          await app.query('UPDATE kill_fb.users SET n = n + 1 WHERE id = 1');
          changes += 2;
        }
        await app.end();
      })();
      const applied = async (): Promise<number> => {
        const my = await connect('kill_fb');
        try {
          const [rows] = (await my.query('SELECT events_applied AS e FROM my2pg_fallback')) as unknown as [
            { e: string }[],
          ];
          return Number(rows[0]?.e ?? 0);
        } finally {
          await my.end();
        }
      };
      await waitUntil('the way back to apply some changes', async () => (await applied()) > 50, 60_000, 100);
      first.kill('SIGKILL');
      second = sandbox.worker(['--concurrency', '2'], workerEnv);
      await waitForOutput(second, /workers ready/);
      const before = await applied();
      await waitUntil(
        'another worker to take the way back over',
        async () => (await applied()) > before + 50,
        90_000,
        200,
      );
      running = false;
      await writer;

      // 'bob' is a new key for PostgreSQL, a duplicate of 'Bob' for MySQL's case-insensitive index.
      await pgc.query("INSERT INTO kill_fb.users (id, name, n) VALUES (2, 'bob', 0)");
      const stopped = await waitUntil(
        'the way back to stop on the refused row',
        async () => {
          const status = await sandbox.cli(['status', runId, '--json'], env);
          const fallback = JSON.parse(status.stdout).fallback as { status: string; error: string | null };
          return fallback.status === 'stopped' ? fallback : undefined;
        },
        60_000,
        500,
      );
      expect(stopped.error).toMatch(/table users, key \{"id":"2"\}: Duplicate entry 'bob' for key 'name'/);
      const refused = await sandbox.cli(['fallback', runId, '--lock'], env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/the way back of run \S+ stopped: .*Duplicate entry 'bob'/);
      // Fixed on MySQL's side (the change stays in PostgreSQL's stream), then retried.
      await admin.query('ALTER TABLE kill_fb.users MODIFY name VARCHAR(50) COLLATE utf8mb4_bin NOT NULL');
      const retry = await sandbox.cli(['retry', runId], env);
      expect(retry.code, retry.stdout + retry.stderr).toBe(0);

      const back = await sandbox.cli(['fallback', runId, '--wait', '--lock'], env, 180_000);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      const compared = await compareCanonical(
        { mysql: () => connect('kill_fb'), pg: privatePg },
        { schema: 'kill_fb', only: ['users'] },
      );
      expect(compared.differences).toEqual([]);
      // Each PostgreSQL row change applied exactly once, across the kill and the stop.
      expect(await applied()).toBe(changes + 1);
      const status = await sandbox.cli(['status', runId, '--json'], env);
      expect(JSON.parse(status.stdout).fallback).toMatchObject({ status: 'done', direction: 'PostgreSQL → MySQL' });
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGKILL');
      await admin.query('SET GLOBAL read_only = OFF');
      await admin.end();
      await pgc.end();
    }
  }, 400_000);

  test('a missing precondition (wal_level replica) is exit 2 naming its fix, with no slot or publication made', async () => {
    const admin = await connect();
    await admin.query('CREATE DATABASE shop_nofb; USE shop_nofb; CREATE TABLE t (id INT PRIMARY KEY, v TEXT)');
    await admin.end();
    const pgc = await sandbox.pg();
    try {
      await pgc.query('CREATE SCHEMA shop_nofb');
      const plan = await sandbox.cli(
        ['plan', '--follow', '--fallback', '--schema', 'shop_nofb'],
        envOf('shop_nofb', 'shop_nofb'),
      );
      expect(plan.code, plan.stdout + plan.stderr).toBe(1);
      expect(plan.stdout).toMatch(/wal_level is replica, the way back needs logical/);
      const result = await sandbox.cli(
        ['start', '--follow', '--fallback', '--schema', 'shop_nofb'],
        envOf('shop_nofb', 'shop_nofb'),
      );
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(
        /wal_level is replica, the way back needs logical: ALTER SYSTEM SET wal_level = logical/,
      );
      const left = await pgc.query(
        "SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE 'my2pg_back_%' UNION ALL SELECT 1 FROM pg_publication WHERE pubname LIKE 'my2pg_back_%' UNION ALL SELECT 1 FROM pg_namespace WHERE nspname = 'my2pg'",
      );
      expect(left.rows).toEqual([]);
    } finally {
      await pgc.end();
    }
  }, 60_000);
});
