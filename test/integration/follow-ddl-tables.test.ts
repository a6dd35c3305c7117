/**
 * Tables made and renamed while following (docs/schema-changes.md), on a private MariaDB with
 * the binary log on: a CREATE TABLE in the followed database joins the run, a plain RENAME TABLE
 * of a followed table is applied; each while an application writes, then `cutover --wait` GO
 * and every value of both sides compared.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stopProcess, waitUntil } from '../helpers/faults.js';
import {
  applicationWriter,
  cutoverAndCompare,
  followingRun,
  followJob,
  followLogs,
  startFollowing,
  startWorker,
  stopFollowing,
  untilCaughtUp,
} from '../helpers/following.js';
import type { Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

beforeAll(async () => {
  ({ sandbox } = await startFollowing('followtables', 33));
}, 60_000);

afterAll(async () => {
  await stopFollowing();
});

describe('tables made and renamed while following', () => {
  test('CREATE TABLE while the follower is away, its rows written before and while the follower catches up: the table joins the run, arrives whole, is verified at cutover', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'newtab',
      `CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL);
       INSERT INTO t SELECT seq, seq FROM seq_1_to_300;`,
    );
    await untilCaughtUp(runId, admin, 'newtab');
    // Away: when the follower meets the CREATE TABLE, MySQL's n already holds thousands of rows,
    // and the application goes on writing them while it catches up.
    await stopProcess(worker, 'SIGTERM', 30_000);
    await admin.query(`USE newtab;
      CREATE TABLE n (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL, d DECIMAL(10,2), at DATETIME, KEY n_v (v));
      INSERT INTO n (v, d, at) SELECT CONCAT('n', seq), seq / 7, '2024-01-02 03:04:05' FROM seq_1_to_5000;
      UPDATE n SET v = 'changed' WHERE id % 10 = 0; DELETE FROM n WHERE id % 13 = 0;
      CREATE TABLE nokey (a INT);`);
    const app = applicationWriter('newtab', async (my, i) => {
      if (i % 4 === 0) await my.query('INSERT INTO n (v, d) VALUES (?, ?)', [`w${i}`, i / 3]);
      else if (i % 4 === 1) await my.query('UPDATE n SET d = ? WHERE id = ?', [i, 1 + ((i * 7) % 5000)]);
      else if (i % 4 === 2) await my.query('DELETE FROM n WHERE id = ?', [1 + ((i * 11) % 5000)]);
      else await my.query('UPDATE t SET v = ? WHERE id = ?', [i, 1 + (i % 300)]);
    });
    const again = await startWorker('newtab', 'newtab');
    await waitUntil('writes while the follower catches up', async () => app.count() > 400, 60_000, 20);
    await app.stop();
    await untilCaughtUp(runId, admin, 'newtab');
    const logs = await followLogs(runId, 'newtab');
    expect(logs).toMatch(/new table joined the run: CREATE TABLE n at binlog\.\d+:\d+: created as newtab\.n/);
    expect(logs).toMatch(/new table not joined to the run: CREATE TABLE nokey .*: it has no primary key/);
    expect((await followJob(runId, 'newtab')).state).toBe('active');
    const tables = await pgc.query('SELECT table_name, status FROM my2pg.run_tables WHERE run_id = $1 ORDER BY 1', [
      runId,
    ]);
    expect(tables.rows).toEqual([
      { table_name: 'n', status: 'copied' },
      { table_name: 't', status: 'copied' },
    ]);
    const status = await sandbox.cli(['status', runId, '--json'], env);
    expect(JSON.parse(status.stdout).tables.map((t: { table: string }) => t.table)).toContain('n');
    // nokey is not in the run: only t and n are compared (the check ignores tables the target lacks).
    await admin.query('DROP TABLE newtab.nokey');
    await cutoverAndCompare(env, runId, 'newtab', 2);
    const verified = await pgc.query(
      "SELECT verification->>'status' AS status FROM my2pg.run_tables WHERE run_id = $1 AND table_name = 'n'",
      [runId],
    );
    expect(verified.rows).toEqual([{ status: 'verified' }]);
    await admin.end();
    await pgc.end();
    await stopProcess(again);
  }, 240_000);

  test("plain RENAME TABLE t TO t2 of a split table referenced by a foreign key, while the application writes: the target table is renamed with the run's names, writes to t2 follow, cutover goes", async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'rentab',
      `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL, KEY t_v (v));
       CREATE TABLE u (id INT PRIMARY KEY, t_id INT NOT NULL, FOREIGN KEY (t_id) REFERENCES t (id));
       INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_2000;
       INSERT INTO u SELECT seq, seq FROM seq_1_to_100;`,
      ['--range-rows', '500'],
    );
    let table = 't';
    const app = applicationWriter('rentab', async (my, i) => {
      try {
        if (i % 3 === 0) await my.query(`INSERT INTO ${table} (id, v) VALUES (?, ?)`, [10_000 + i, `w${i}`]);
        else await my.query(`UPDATE ${table} SET v = ? WHERE id = ?`, [`u${i}`, 1 + ((i * 7) % 2000)]);
      } catch (error) {
        // ER_NO_SUCH_TABLE: the statement was on its way as the table was renamed; the next one uses t2.
        if ((error as { errno?: number }).errno !== 1146) throw error;
      }
    });
    await waitUntil('writes before the rename', async () => app.count() > 50, 30_000, 20);
    await admin.query('RENAME TABLE rentab.t TO rentab.t2');
    table = 't2';
    const before = app.count();
    await waitUntil('writes after the rename', async () => app.count() > before + 150, 30_000, 20);
    await app.stop();
    await untilCaughtUp(runId, admin, 'rentab');
    expect(await followLogs(runId, 'rentab')).toMatch(
      /table renamed: RENAME TABLE on followed table t at binlog\.\d+:\d+ .*: rentab\.t renamed to t2, followed as t2/,
    );
    expect((await followJob(runId, 'rentab')).state).toBe('active');
    const names = await pgc.query(
      'SELECT table_name, target_table FROM my2pg.run_tables WHERE run_id = $1 ORDER BY 1',
      [runId],
    );
    expect(names.rows).toEqual([
      { table_name: 't2', target_table: 't2' },
      { table_name: 'u', target_table: 'u' },
    ]);
    const relations = await pgc.query(
      "SELECT array_agg(relname::text ORDER BY relname) AS r FROM pg_class WHERE relnamespace = 'rentab'::regnamespace AND relkind = 'r'",
    );
    expect(relations.rows[0].r).toEqual(['t2', 'u']);
    await cutoverAndCompare(env, runId, 'rentab', 2);
    // The foreign key the run saved for finalize names t2 now, and is in place.
    const keys = await pgc.query(
      "SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'rentab.u'::regclass AND contype = 'f'",
    );
    expect(keys.rows).toEqual([{ d: expect.stringMatching(/REFERENCES (rentab\.)?t2\(id\)/) }]);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 240_000);
});
