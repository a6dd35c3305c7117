/**
 * Triggers of a `--follow` run: MySQL's trigger effects arrive as row events, so the follower
 * must never write into a table with the translated trigger (it would apply them twice). The
 * triggers are created at a cutover that goes, and work from then on.
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { followJobId } from '../../src/queue/contract.js';
import { startRun, stopProcess, waitUntil } from '../helpers/faults.js';
import { copyQueue } from '../helpers/queue.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;
let server: PrivateMariadb;

beforeAll(async () => {
  sandbox = await createSandbox('trgfollow');
  server = await startPrivateMariadb({ serverId: 12 });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await sandbox?.dispose();
}, 180_000);

test('a followed table gets its trigger at the cutover that goes, never while the follower writes', async () => {
  const name = 'trg';
  const admin = await mysql.createConnection({ uri: server.url, multipleStatements: true, dateStrings: true });
  await admin.query(`CREATE DATABASE ${name}; USE ${name};
    CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10));
    CREATE TABLE t_log (id INT AUTO_INCREMENT PRIMARY KEY, tid INT NOT NULL, note VARCHAR(20));
    CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW INSERT INTO t_log (tid, note) VALUES (NEW.id, CONCAT('new ', NEW.v));
    INSERT INTO t VALUES (1, 'a'), (2, 'b');`);
  const pgc = await sandbox.pg();
  await pgc.query(`CREATE SCHEMA ${name}`);
  const env = { MYSQL_URL: `${server.url}${name}`, MY2PG_SCHEMA: name };
  const worker = sandbox.worker(['--concurrency', '2'], { ...env, MY2PG_LOG_LEVEL: 'info', MY2PG_LOG_FORMAT: 'json' });
  try {
    await waitForOutput(worker, /workers ready/);
    const runId = await startRun(sandbox, ['--follow', '--schema', name], env);
    const queue = await copyQueue(sandbox, undefined, name);
    try {
      await waitUntil(
        'the follower to start',
        async () => (await queue.getJobState(followJobId(runId))) === 'active',
        60_000,
        100,
      );
    } finally {
      await queue.closeAll();
    }
    // The application writes while the follower follows: MySQL's trigger writes t_log, and the
    // binary log carries both rows.
    await admin.query(`INSERT INTO t VALUES (3, 'c'), (4, 'd')`);
    await waitUntil(
      'the follower to apply the rows and the trigger effects',
      async () => (await pgc.query(`SELECT count(*)::int AS n FROM ${name}.t_log`)).rows[0].n === 4,
      60_000,
      100,
    );
    const before = await pgc.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 't_ai'`);
    expect(before.rows[0].n).toBe(0);
    const cut = await sandbox.cli(['cutover', runId, '--wait'], env, 180_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/triggers created: t\.t_ai/);
    // Each MySQL trigger effect once: the follower applied them, no PostgreSQL trigger doubled them.
    const [rows] = await admin.query(`SELECT id, tid, note FROM t_log ORDER BY id`);
    const target = await pgc.query(`SELECT id, tid, note FROM ${name}.t_log ORDER BY id`);
    expect(target.rows).toEqual(rows);
    // From now on PostgreSQL's trigger does what MySQL's did.
    await pgc.query(`INSERT INTO ${name}.t VALUES (5, 'e')`);
    const logged = await pgc.query(`SELECT id, tid, note FROM ${name}.t_log WHERE tid = 5`);
    expect(logged.rows).toEqual([{ id: 5, tid: 5, note: 'new e' }]);
  } finally {
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }
}, 240_000);
