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
    await admin.query(`CREATE DATABASE shop_fb CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; USE shop_fb; ${SCHEMA}`);
    const pgc = await privatePg();
    await pgc.query('CREATE SCHEMA shop_fb');
    const env = { ...envOf('shop_fb', 'shop_fb'), DATABASE_URL: postgres.url };
    const worker = sandbox.worker(['--concurrency', '2'], { ...env, MY2PG_LOG_LEVEL: 'info', MY2PG_LOG_FORMAT: 'json' });
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
        "UPDATE shop_fb.accounts SET note = NULL, big = big - 1, active = NOT active, profile = '{\"k\": 2}' WHERE id = 1",
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

      const back = await sandbox.cli(['fallback', runId, '--wait', '--lock'], env, 180_000);
      expect(back.code, back.stdout + back.stderr).toBe(0);
      expect(back.stdout).toMatch(/fallback: GO.*PostgreSQL writes frozen for \d+\.\d s/);

      // An independent comparison: each side read with its own driver, every column of every table.
      const compared = await compareCanonical(
        { mysql: () => connect('shop_fb'), pg: privatePg },
        { schema: 'shop_fb', only: ['accounts', 'orders'] },
      );
      expect(compared.differences).toEqual([]);
      expect(compared.tables).toBe(2);
      const my = await connect('shop_fb');
      const [[counts]] = (await my.query(
        'SELECT (SELECT COUNT(*) FROM accounts) AS a, (SELECT COUNT(*) FROM orders) AS o, (SELECT events_applied FROM my2pg_fallback) AS e, @@GLOBAL.read_only AS ro',
      )) as unknown as [[{ a: number; o: number; e: string; ro: number }]];
      await my.end();
      expect(counts).toMatchObject({ a: '4', o: '53', ro: '0' });
      // Every row change applied once: 1 + 1 + 1 + 3 + 1 + 50 + 50.
      expect(Number(counts.e)).toBe(107);

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

  test('a missing precondition (wal_level replica) is exit 2 naming its fix, with no slot or publication made', async () => {
    const admin = await connect();
    await admin.query('CREATE DATABASE shop_nofb; USE shop_nofb; CREATE TABLE t (id INT PRIMARY KEY, v TEXT)');
    await admin.end();
    const pgc = await sandbox.pg();
    try {
      await pgc.query('CREATE SCHEMA shop_nofb');
      const result = await sandbox.cli(
        ['start', '--follow', '--fallback', '--schema', 'shop_nofb'],
        envOf('shop_nofb', 'shop_nofb'),
      );
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(/wal_level is replica, the way back needs logical: ALTER SYSTEM SET wal_level = logical/);
      const left = await pgc.query(
        "SELECT 1 FROM pg_replication_slots WHERE slot_name LIKE 'my2pg_back_%' UNION ALL SELECT 1 FROM pg_publication WHERE pubname LIKE 'my2pg_back_%' UNION ALL SELECT 1 FROM pg_namespace WHERE nspname = 'my2pg'",
      );
      expect(left.rows).toEqual([]);
    } finally {
      await pgc.end();
    }
  }, 60_000);
});
