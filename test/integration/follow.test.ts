/**
 * `--follow` and `cutover` on a private MariaDB with the binary log on: an application writes
 * during the copy and after it, and the target ends equal to MySQL's final state; a killed
 * follow worker is taken over with nothing applied twice; DDL stops the follower; each missing
 * precondition is its own exit 2 with nothing enqueued.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { followJobId } from '../../src/queue/contract.js';
import { compareCanonical, expectSidesEqual } from '../helpers/compare.js';
import { queueNamesOf, startRun, stopProcess, waitUntil } from '../helpers/faults.js';
import { copyQueue, queueEntries } from '../helpers/queue.js';
import type { PrivateMariadb } from '../helpers/private-mariadb.js';
import { BIN, type Sandbox } from '../helpers/sandbox.js';
import {
  applicationWriter,
  caughtUp,
  connect,
  envOf,
  followingRun,
  followJob,
  sides,
  startFollowing,
  startWorker,
  stopFollowing,
} from '../helpers/following.js';

let sandbox: Sandbox;
let server: PrivateMariadb;

beforeAll(async () => {
  ({ sandbox, server } = await startFollowing('follow', 11));
}, 60_000);

afterAll(async () => {
  await stopFollowing();
});

describe('start --follow, then cutover', () => {
  test('an application writing during the copy and after it: cutover --wait goes, every table equals MySQL, sequences continue', async () => {
    const admin = await connect();
    await admin.query(`CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; USE shop;
      CREATE TABLE accounts (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email VARCHAR(100) NOT NULL UNIQUE,
        big BIGINT UNSIGNED NOT NULL,
        profile JSON NULL,
        seen DATETIME(6) NULL,
        note VARCHAR(100) NULL,
        counter INT NOT NULL DEFAULT 0);
      CREATE TABLE orders (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        account_id BIGINT UNSIGNED NOT NULL,
        total DECIMAL(12,2) NOT NULL,
        placed DATETIME(6) NOT NULL,
        FOREIGN KEY (account_id) REFERENCES accounts (id));
      CREATE TABLE tags (code VARCHAR(20) NOT NULL, lang CHAR(2) NOT NULL, label VARCHAR(50) NULL, UNIQUE KEY (code, lang));
      INSERT INTO accounts (email, big, profile, seen, note)
        SELECT CONCAT('a', seq, '@example.com'), 18446744073709551615 - seq, JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('x', seq)), '2024-02-29 23:59:59.999999' - INTERVAL seq SECOND, CONCAT('note ', seq, ' 😀') FROM seq_1_to_3000;
      INSERT INTO orders (account_id, total, placed) SELECT 1 + seq % 3000, seq / 7, '2024-01-01 00:00:00.000001' + INTERVAL seq MINUTE FROM seq_1_to_150000;
      INSERT INTO tags SELECT CONCAT('t', seq), IF(seq % 2, 'en', 'ko'), CONCAT('label ', seq) FROM seq_1_to_500;`);
    await admin.end();
    const env = envOf('shop', 'public');
    const workers = [await startWorker('shop', 'public'), await startWorker('shop', 'public')];
    const runId = await startRun(sandbox, ['--follow', '--batch-size', '500', '--range-rows', '0'], env);

    // The writer starts while orders (150,000 rows) is still being copied.
    const writer = applicationWriter('shop', async (my, i) => {
      const id = 1 + ((i * 37) % 3000);
      switch (i % 6) {
        case 0:
          await my.query('INSERT INTO accounts (email, big, profile, seen, note) VALUES (?, ?, ?, NOW(6), ?)', [
            `new${i}@example.com`,
            '18446744073709551614',
            JSON.stringify({ i, s: 'ünï 😀' }),
            `written ${i} 🚀`,
          ]);
          break;
        case 1:
          await my.query(
            'UPDATE accounts SET counter = counter + 1, seen = NOW(6), profile = JSON_SET(COALESCE(profile, JSON_OBJECT()), "$.i", ?) WHERE id = ?',
            [i, id],
          );
          break;
        case 2:
          await my.query('INSERT INTO orders (account_id, total, placed) VALUES (?, ?, NOW(6))', [id, (i % 1000) / 4]);
          break;
        case 3:
          await my.query('DELETE FROM orders WHERE id = ?', [1 + ((i * 101) % 150000)]);
          break;
        case 4:
          // A primary-key change: the row moves to a new key.
          await my.query('UPDATE orders SET id = id + 1000000 WHERE id = ?', [1 + ((i * 53) % 150000)]);
          break;
        default:
          await my.query(
            'UPDATE tags SET label = CONCAT(label, ?), code = IF(code LIKE ?, CONCAT(code, ?), code) WHERE code = ? AND lang = ?',
            ['+', '%0', 'x', `t${1 + (i % 500)}`, i % 2 ? 'en' : 'ko'],
          );
      }
    });
    // Proof that the writer wrote while a table's copy ran: orders' job was active after writes began.
    const queue = await copyQueue(sandbox, undefined, 'public');
    let wroteDuringCopy = false;
    try {
      await waitUntil(
        'writes while orders is copied',
        async () => {
          const job = await queue.getJob(`${runId}.orders`);
          const state = job ? await job.getState() : 'missing';
          if (state === 'active' && writer.count() > 20) wroteDuringCopy = true;
          return wroteDuringCopy || state === 'completed';
        },
        60_000,
        20,
      );
    } finally {
      await queue.closeAll();
    }
    expect(wroteDuringCopy, 'the writer must write while orders is being copied').toBe(true);
    // And after the copy, while the follower applies.
    await waitUntil(
      'the follower to apply events',
      async () => {
        const f = await followJob(runId, 'public');
        return f.state === 'active' && (f.progress.eventsApplied ?? 0) > 100;
      },
      90_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const writes = await writer.stop();
    expect(writes).toBeGreaterThan(200);

    // `status` reads the live figures from the follow job while it is active; at the moment between
    // two attempts it shows them as unknown (CI saw lagSeconds null once, cause not recorded), so
    // read until live.
    let said = '';
    const follow = await waitUntil(
      () => `status --json to show the live follower; last: ${said}`,
      async () => {
        const status = await sandbox.cli(['status', runId, '--json'], env);
        said = `exit ${status.code}: ${status.stdout}${status.stderr}`;
        if (status.code !== 0) return undefined;
        const f = JSON.parse(status.stdout).follow;
        return typeof f?.lagSeconds === 'number' ? f : undefined;
      },
      30_000,
      500,
    );
    expect(follow.status).toBe('following');
    expect(follow.eventsApplied).toBeGreaterThan(0);
    expect(follow.jobState).toBe('active');

    // Bull Board shows the same figures: the follow job's progress in the copy queue.
    const board = spawn(process.execPath, [BIN, 'board', '--port', '0'], {
      env: { ...sandbox.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let said = '';
      board.stderr.on('data', (d: Buffer) => (said += d.toString()));
      const url = await waitUntil(
        'the board to listen',
        async () => /listening on (http:\/\/\S+)/.exec(said)?.[1],
        20_000,
        50,
      );
      const names = await queueNamesOf(sandbox, 'public');
      const shown = (await (await fetch(`${url}api/queues/${names.copy}/${followJobId(runId)}`)).json()) as {
        job: { name: string; progress: Record<string, unknown> };
      };
      expect(shown.job.name).toMatch(/^follow/);
      expect(shown.job.progress).toMatchObject({
        status: 'following',
        eventsApplied: expect.any(Number),
        eventsPerSecond: expect.any(Number),
        lagSeconds: expect.any(Number),
        eventsPending: expect.any(Number),
      });
      expect(shown.job.progress.step).toMatch(/^following: \d+ events applied/);
    } finally {
      await stopProcess(board);
    }

    const cut = await sandbox.cli(['cutover', runId, '--wait'], env, 180_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/cutover: GO.*writes frozen for \d+\.\d s/);

    expect(
      await expectSidesEqual(sides('shop'), [
        { table: 'accounts', columns: ['id', 'email', 'big', 'note', 'counter'] },
        { table: 'orders', columns: ['id', 'account_id', 'total'] },
        { table: 'tags', columns: ['code', 'lang', 'label'], key: ['code', 'lang'] },
      ]),
    ).toEqual(expect.objectContaining({ accounts: expect.any(Number), orders: expect.any(Number), tags: 500 }));
    // Every value of every table, JSON and DATETIME(6) included, in a canonical form each side prints alike.
    const canonical = await compareCanonical(sides('shop'));
    expect(canonical.differences).toEqual([]);
    expect(canonical.tables).toBe(3);
    // Sequences continue from MySQL's AUTO_INCREMENT at the switch; the FK is back.
    const my = await connect('shop');
    const pgc = await sandbox.pg();
    try {
      const [[next]] = (await my.query(
        `SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'orders'`,
      )) as unknown as [[{ n: string }]];
      const inserted = await pgc.query(
        `INSERT INTO orders (account_id, total, placed) VALUES (1, 1, now()) RETURNING id`,
      );
      expect(String(inserted.rows[0].id)).toBe(String(next.n));
      const fk = await pgc.query(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f'`,
      );
      expect(fk.rows[0].n).toBe(1);
    } finally {
      await my.end();
      await pgc.end();
    }
    // The follower ended with the switch; a second cutover says so and changes nothing.
    await waitUntil(
      'the follow job to complete',
      async () => (await followJob(runId, 'public')).state === 'completed',
      30_000,
      200,
    );
    const again = await sandbox.cli(['cutover', runId], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/already cut over/);
    for (const w of workers) await stopProcess(w);
  }, 300_000);

  test('the follow worker SIGKILLed mid-stream: another takes over, nothing applied twice, cutover --lock goes', async () => {
    const admin = await connect();
    await admin.query(`CREATE DATABASE counters; USE counters;
      CREATE TABLE hits (id INT NOT NULL PRIMARY KEY, n INT NOT NULL DEFAULT 0, touched DATETIME(6) NULL);
      INSERT INTO hits (id) SELECT seq FROM seq_1_to_2000;`);
    await admin.end();
    const pgc = await sandbox.pg();
    await pgc.query('CREATE SCHEMA kill');
    await pgc.end();
    const env = envOf('counters', 'kill');
    const first = await startWorker('counters', 'kill');
    const runId = await startRun(sandbox, ['--follow', '--schema', 'kill'], env);
    // Each write adds 1 to one row's counter (and every 50th adds 1 to a hundred rows at once):
    // a change applied twice, or skipped, would leave a counter different from MySQL's.
    const writer = applicationWriter('counters', async (my, i) => {
      if (i % 50 === 0)
        await my.query('UPDATE hits SET n = n + 1, touched = NOW(6) WHERE id BETWEEN ? AND ?', [
          (i % 1900) + 1,
          (i % 1900) + 100,
        ]);
      else await my.query('UPDATE hits SET n = n + 1, touched = NOW(6) WHERE id = ?', [1 + ((i * 7919) % 2000)]);
    });
    await waitUntil(
      'the first worker to follow',
      async () => {
        const f = await followJob(runId, 'kill');
        return f.state === 'active' && (f.progress.eventsApplied ?? 0) > 50;
      },
      60_000,
      100,
    );
    const second = await startWorker('counters', 'kill');
    first.kill('SIGKILL');
    const appliedAtKill = Number((await followJob(runId, 'kill')).progress.eventsApplied);
    // The second worker takes the job once the killed one's lock expires.
    await waitUntil(
      'the second worker to take the follow job over',
      async () => {
        const f = await followJob(runId, 'kill');
        return f.state === 'active' && Number(f.progress.eventsApplied) > appliedAtKill + 50;
      },
      60_000,
      200,
    );
    expect(second.output()).toMatch(/follow started/);
    // A graceful stop (SIGTERM) hands the follow job back at once: a third worker goes on.
    const third = await startWorker('counters', 'kill');
    const stopped = await stopProcess(second, 'SIGTERM', 40_000);
    // The job goes back at once; the process then closes its queue connections within the grace (30 s).
    const logged = (pattern: RegExp): number =>
      Number(
        second
          .output()
          .split('\n')
          .find((l) => pattern.test(l))
          ?.match(/"time":(\d+)/)?.[1] ?? Number.NaN,
      );
    expect(logged(/job handed back to the queue/) - logged(/shutting down: no new jobs/)).toBeLessThan(5_000);
    expect(stopped.ms).toBeLessThan(30_000);
    const appliedAtStop = Number((await followJob(runId, 'kill')).progress.eventsApplied);
    await waitUntil(
      'the third worker to follow',
      async () => {
        const f = await followJob(runId, 'kill');
        return f.state === 'active' && Number(f.progress.eventsApplied) > appliedAtStop + 50;
      },
      30_000,
      200,
    );
    expect(third.output()).toMatch(/follow started/);
    const writes = await writer.stop();
    expect(writes).toBeGreaterThan(100);
    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 180_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stderr).toMatch(/FLUSH TABLES WITH READ LOCK/);
    // After the go, MySQL stays read-only: a late write of the application fails instead of being lost.
    expect(cut.stdout).toMatch(/MySQL is left read-only/);
    const check = await connect();
    const [[readOnly]] = (await check.query('SELECT @@GLOBAL.read_only AS ro')) as unknown as [[{ ro: number }]];
    expect(Number(readOnly!.ro)).toBe(1);
    await check.query('SET GLOBAL read_only = OFF');
    await check.end();
    expect(await expectSidesEqual(sides('counters'), { table: 'hits', columns: ['id', 'n'], schema: 'kill' })).toEqual({
      hits: 2000,
    });
    const canonical = await compareCanonical(sides('counters'), { schema: 'kill' });
    expect(canonical.differences).toEqual([]);
    expect(canonical.tables).toBe(1);
    await stopProcess(third);
  }, 300_000);

  test('rows MySQL changes through ON DELETE/ON UPDATE actions (absent from the binary log) end equal too', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'fk',
      `
      CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(20));
      CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, note VARCHAR(20), FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE ON UPDATE CASCADE);
      CREATE TABLE grandchild (id INT PRIMARY KEY, child_id INT NOT NULL, FOREIGN KEY (child_id) REFERENCES child (id) ON DELETE CASCADE);
      CREATE TABLE loose (id INT PRIMARY KEY, parent_id INT NULL, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE SET NULL ON UPDATE SET NULL);
      INSERT INTO parent SELECT seq, CONCAT('p', seq) FROM seq_1_to_20;
      INSERT INTO child SELECT seq, 1 + seq % 20, CONCAT('c', seq) FROM seq_1_to_200;
      INSERT INTO grandchild SELECT seq, 1 + seq % 200 FROM seq_1_to_600;
      INSERT INTO loose SELECT seq, 1 + seq % 20 FROM seq_1_to_100;
    `,
    );
    // Sakila's and Magento's shapes: a parent deleted (children and grandchildren go, a loose
    // reference becomes NULL) and a parent's key changed (children follow it).
    await admin.query(
      `DELETE FROM fk.parent WHERE id = 1; UPDATE fk.parent SET id = 100 WHERE id = 2; UPDATE fk.child SET note = 'edited' WHERE id = 5; DELETE FROM fk.parent WHERE id IN (7, 8)`,
    );
    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 120_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    await admin.query('SET GLOBAL read_only = OFF');
    const canonical = await compareCanonical(sides('fk'), { schema: 'fk' });
    expect(canonical.differences).toEqual([]);
    expect(canonical.tables).toBe(4);
    // The cascades did happen in MySQL, so equality means the follower repeated them.
    const my = await connect('fk');
    const [[counts]] = (await my.query(
      `SELECT (SELECT COUNT(*) FROM child WHERE parent_id = 100) AS moved, (SELECT COUNT(*) FROM loose WHERE parent_id IS NULL) AS nulled, (SELECT COUNT(*) FROM child) AS children`,
    )) as unknown as [[Record<string, string>]];
    await my.end();
    expect(Number(counts!.moved)).toBe(10);
    expect(Number(counts!.nulled)).toBe(20);
    expect(Number(counts!.children)).toBe(170);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 120_000);

  test('foreign keys are added and validated while following, and hold through the writes after it (cascades two levels down): cutover goes without validating them again', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'early',
      `
      CREATE TABLE author (id INT PRIMARY KEY, name VARCHAR(20));
      CREATE TABLE book (id INT PRIMARY KEY, author_id INT NULL, title VARCHAR(20), CONSTRAINT book_author FOREIGN KEY (author_id) REFERENCES author (id) ON DELETE CASCADE);
      CREATE TABLE review (id INT PRIMARY KEY, book_id INT NOT NULL, CONSTRAINT review_book FOREIGN KEY (book_id) REFERENCES book (id) ON DELETE CASCADE);
      INSERT INTO author SELECT seq, CONCAT('a', seq) FROM seq_1_to_50;
      INSERT INTO book SELECT seq, 1 + seq % 50, CONCAT('b', seq) FROM seq_1_to_500;
      INSERT INTO review SELECT seq, 1 + seq % 500 FROM seq_1_to_1000;
      CREATE TABLE pulse (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME(6) NOT NULL);
    `,
    );
    const validated = async (): Promise<Record<string, boolean>> =>
      Object.fromEntries(
        (
          await pgc.query(
            `SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' AND connamespace = 'early'::regnamespace`,
          )
        ).rows.map((r) => [r.conname, r.convalidated]),
      );
    // While the application writes, before any cutover: both keys are in place and validated.
    const writer = applicationWriter('early', async (my, i) => {
      await my.query(
        `INSERT INTO author VALUES (${1000 + i}, 'new'); INSERT INTO book VALUES (${5000 + i}, ${1000 + i}, 'new'); INSERT INTO review VALUES (${9000 + i}, ${5000 + i}); DELETE FROM author WHERE id = ${1 + (i % 50)} AND ${i} % 7 = 0`,
      );
      await new Promise((r) => setTimeout(r, 20));
    });
    await waitUntil(
      'both foreign keys to be validated while following',
      async () => {
        const v = await validated();
        return v.book_author === true && v.review_book === true;
      },
      90_000,
      200,
    );
    expect((await followJob(runId, 'early')).state).toBe('active');
    const written = await writer.stop();
    expect(written).toBeGreaterThan(0);
    // A user read_only does not stop (SUPER: root here) writes through the cutover: blocked by
    // the freeze, then going on after it. Nothing it writes after the go may reach PostgreSQL,
    // which is the application's by then.
    const pulse = applicationWriter('early', async (my) => {
      await my.query('INSERT INTO pulse (at) VALUES (NOW(6))');
      await new Promise((r) => setTimeout(r, 5));
    });
    // Every row written since was checked against them: the first cutover goes.
    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 120_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    await waitUntil(
      'the follow job to end',
      async () => (await followJob(runId, 'early')).state === 'completed',
      30_000,
      100,
    );
    expect(await pulse.stop()).toBeGreaterThan(0);
    const frozen = cut.stdout.match(/, at ([^\s:]+):(\d+)/);
    expect(frozen, cut.stdout).not.toBeNull();
    const recorded = (
      await pgc.query('SELECT binlog_file, binlog_position FROM my2pg.follow WHERE run_id = $1', [runId])
    ).rows[0];
    expect([recorded.binlog_file, Number(recorded.binlog_position)]).toEqual([frozen![1], Number(frozen![2])]);
    expect(cut.stderr).not.toMatch(/foreign key validated at the freeze instead/);
    expect(await validated()).toEqual({ book_author: true, review_book: true });
    const canonical = await compareCanonical(sides('early'), { schema: 'early', only: ['author', 'book', 'review'] });
    expect(canonical.differences).toEqual([]);
    await admin.query('SET GLOBAL read_only = OFF');
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('an orphan MySQL accepts (foreign_key_checks = 0) after the foreign keys were validated while following: found at the freeze, no-go naming the key and the row', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'orphan',
      `
      CREATE TABLE author (id INT PRIMARY KEY, name VARCHAR(20));
      CREATE TABLE book (id INT PRIMARY KEY, author_id INT NULL, CONSTRAINT book_author FOREIGN KEY (author_id) REFERENCES author (id));
      INSERT INTO author SELECT seq, CONCAT('a', seq) FROM seq_1_to_50;
      INSERT INTO book SELECT seq, 1 + seq % 50 FROM seq_1_to_500;
    `,
    );
    await waitUntil(
      'the foreign key to be validated while following',
      async () =>
        (
          await pgc.query(
            `SELECT convalidated AS ok FROM pg_constraint WHERE conname = 'book_author' AND connamespace = 'orphan'::regnamespace`,
          )
        ).rows[0]?.ok === true,
      90_000,
      200,
    );
    // A book of an author that does not exist, and an author removed from under its books.
    await admin.query(
      'SET SESSION foreign_key_checks = 0; INSERT INTO orphan.book VALUES (9001, 777); DELETE FROM orphan.author WHERE id = 3; SET SESSION foreign_key_checks = 1',
    );
    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 120_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(1);
    expect(cut.stderr).toMatch(
      /foreign key validated at the freeze instead: book_author: .*book \["9001"\] references no row of author.*author \["3"\] is gone while book references it/,
    );
    expect(cut.stdout).toMatch(/cutover: NO-GO/);
    expect(cut.stdout).toMatch(/book_author/);
    await admin.query('SET GLOBAL read_only = OFF');
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('cutover --receipt: a receipt of the frozen position, hashed in snapshots while MySQL is written again, that re-checks', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'rcpt',
      "CREATE TABLE c (id INT PRIMARY KEY, n INT NOT NULL); INSERT INTO c SELECT seq, 0 FROM seq_1_to_3000; CREATE TABLE k (code VARCHAR(8) PRIMARY KEY, v INT); INSERT INTO k VALUES ('a', 1), ('b', 2);",
    );
    const dir = mkdtempSync(join(tmpdir(), 'my2pg-rcpt-'));
    const file = join(dir, 'cutover.json');
    // root has SUPER: its writes go on after the go although MySQL is left read-only, so MySQL
    // moves past the frozen position while the receipt is being hashed.
    const writer = applicationWriter('rcpt', async (my, i) => {
      await my.query('UPDATE c SET n = n + 1 WHERE id = ?', [1 + (i % 3000)]);
    });
    await waitUntil('some writes', async () => writer.count() > 50, 30_000, 50);
    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock', '--receipt', file], env, 120_000);
    await waitUntil(
      'writes after the go',
      async () => writer.count() > 0 && !(await caughtUp(runId, admin)),
      30_000,
      50,
    );
    const writes = await writer.stop();
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    const at = /at (\S+):(\d+)\. Point the application/.exec(cut.stdout);
    expect(at, cut.stdout).not.toBeNull();
    expect(cut.stdout).toMatch(
      /receipt .*cutover\.json written \d+\.\d s after the freeze .*: 2 tables, 2 ranges, at /,
    );
    const receipt = JSON.parse(readFileSync(file, 'utf8')) as {
      kind: string;
      position: { file: string; position: number };
      tables: { table: string; totals: { sourceRows: number; targetRows: number; equal: boolean } }[];
    };
    expect(receipt.kind).toBe('cutover');
    expect(receipt.position).toMatchObject({ file: at![1], position: Number(at![2]) });
    // Both sides read at the frozen position: equal, although MySQL was written before the receipt was done.
    expect(receipt.tables.map((t) => [t.table, t.totals])).toEqual([
      ['c', { sourceRows: 3000, targetRows: 3000, ranges: 1, equal: true }],
      ['k', { sourceRows: 2, targetRows: 2, ranges: 1, equal: true }],
    ]);
    expect(writes).toBeGreaterThan(50);
    await admin.query('SET GLOBAL read_only = OFF');
    // The receipt re-checks where nothing was written since; MySQL's c moved on, and its re-check
    // says which range. (PostgreSQL's c may have moved too: the follower applies what SUPER users
    // write after the go until it sees the go, within a second.)
    const quiet = await sandbox.cli(['verify', '--receipt', file, '--table', 'k'], env);
    expect(quiet.code, quiet.stdout + quiet.stderr).toBe(0);
    expect(quiet.stdout).toContain('table k: 1 ranges match');
    const onMysql = await sandbox.cli(['verify', '--receipt', file, '--side', 'mysql'], env);
    expect(onMysql.code, onMysql.stdout + onMysql.stderr).toBe(1);
    expect(onMysql.stdout).toMatch(/table c: 1 ranges differ \(0 match\): range …\.\.… on MySQL/);
    expect(onMysql.stdout).toContain('table k: 1 ranges match');
    // An existing receipt is never overwritten: refused before anything else.
    const again = await sandbox.cli(['cutover', runId, '--lock', '--receipt', file], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists and is not overwritten/);
    rmSync(dir, { recursive: true, force: true });
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('an XA transaction committed seconds after its PREPARE, and one rolled back, end exact; a new worker keeps the prepared keys', async () => {
    const { admin, pgc, worker, runId } = await followingRun(
      'xa',
      'CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL); INSERT INTO t SELECT seq, 1 FROM seq_1_to_10;',
    );
    const late = await connect('xa');
    const undone = await connect('xa');
    await late.query("XA START 'late'; UPDATE t SET v = 2 WHERE id = 1; XA END 'late'; XA PREPARE 'late'");
    await undone.query("XA START 'undone'; UPDATE t SET v = 3 WHERE id = 2; XA END 'undone'; XA PREPARE 'undone'");
    // A transaction committed after both PREPAREs: the follower's recorded position moves past them.
    await admin.query('UPDATE xa.t SET v = 5 WHERE id = 3');
    const valuesOf = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (await pgc.query('SELECT id, v FROM xa.t WHERE id <= 3 ORDER BY id')).rows.map((r) => [r.id, r.v]),
      );
    await waitUntil(
      'the follower to apply the later transaction',
      async () => (await valuesOf())[3] === 5,
      30_000,
      100,
    );
    await waitUntil('the follower to catch up', () => caughtUp(runId, admin), 30_000, 100);
    // Prepared, not committed: PostgreSQL holds what MySQL shows every other session.
    expect(await valuesOf()).toEqual({ 1: 1, 2: 1, 3: 5 });
    // A new worker takes over between PREPARE and COMMIT.
    await stopProcess(worker);
    const second = await startWorker('xa', 'xa');
    await waitUntil(
      'the follower to start again',
      async () => (await followJob(runId, 'xa')).state === 'active',
      60_000,
      100,
    );
    // The scenario, not an assumption: the commit comes seconds after its PREPARE was logged.
    await new Promise((r) => setTimeout(r, 3000));
    await late.query("XA COMMIT 'late'");
    await undone.query("XA ROLLBACK 'undone'");
    await admin.query('UPDATE xa.t SET v = 6 WHERE id = 4');
    await waitUntil('the follower to apply the commit', async () => (await valuesOf())[1] === 2, 30_000, 100);
    await waitUntil('the follower to catch up', () => caughtUp(runId, admin), 30_000, 100);
    expect(await valuesOf()).toEqual({ 1: 2, 2: 1, 3: 5 });
    const canonical = await compareCanonical(sides('xa'), { schema: 'xa' });
    expect(canonical.differences).toEqual([]);
    await Promise.all([late.end(), undone.end(), admin.end(), pgc.end()]);
    await stopProcess(second);
  }, 180_000);

  test('verified while following: a row written in PostgreSQL after its table was verified is a no-go naming it, an undone one is not; --max-freeze 0.1 freezes nothing; fixed, it goes', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'nogo',
      `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;
       CREATE TABLE u (code VARCHAR(8) PRIMARY KEY, n INT); INSERT INTO u SELECT CONCAT('c', seq), seq FROM seq_1_to_50;`,
    );
    const verification = async (): Promise<Record<string, number> | null> => {
      const status = await sandbox.cli(['status', runId, '--json'], env);
      return JSON.parse(status.stdout).follow?.verification ?? null;
    };
    await waitUntil(
      'both tables to be verified while following',
      async () => {
        const v = await verification();
        return v !== null && v.tables === 2 && v.tablesVerified === 2 && v.keysWaiting === 0;
      },
      60_000,
      200,
    );
    // A write in MySQL after the verification: re-verified in the background; and one
    // transaction of more keys than a re-verification reads at once (one batch, one seq).
    await admin.query(`UPDATE t SET v = 'later' WHERE id = 7`);
    await admin.query(`INSERT INTO t SELECT seq, CONCAT('n', seq) FROM seq_1001_to_6000`);
    await waitUntil(
      'the big transaction to be re-verified',
      async () => {
        const v = await verification();
        return v !== null && v.tablesVerified === 2 && v.keysWaiting === 0;
      },
      90_000,
      200,
    );
    // Someone writes to the target behind my2pg's back, after the table was verified; and
    // another changes a row and puts it back.
    await pgc.query(`UPDATE nogo.t SET v = 'tampered' WHERE id = 42`);
    await pgc.query(`UPDATE nogo.u SET n = -1 WHERE code = 'c5'`);
    await pgc.query(`UPDATE nogo.u SET n = 5 WHERE code = 'c5'`);
    await waitUntil(
      'the outside writes to be seen',
      async () => ((await verification())?.keysOutside ?? 0) >= 1,
      30_000,
      200,
    );
    const status = await sandbox.cli(['status', runId], env);
    expect(status.stdout).toMatch(/verified while following: \d\/2 tables/);
    // A freeze budget nothing can meet: refused before anything is frozen.
    const refused = await sandbox.cli(['cutover', runId, '--lock', '--max-freeze', '0.1'], env, 60_000);
    expect(refused.code, refused.stdout + refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(
      /the freeze would last about [\d.]+ s .*over --max-freeze 0.1 s.*nothing was frozen/,
    );
    const [[ro]] = (await admin.query('SELECT @@GLOBAL.read_only AS ro')) as unknown as [[{ ro: number }]];
    expect(Number(ro!.ro)).toBe(0);
    await admin.query(`UPDATE t SET v = 'writable' WHERE id = 8`);

    const first = await sandbox.cli(['cutover', runId, '--wait'], env, 120_000);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/cutover: NO-GO/);
    expect(first.stdout).toMatch(
      /table t: .*1 rows differ.*\["42"\].*written in PostgreSQL outside the follower \(UPDATE by postgres\)/,
    );
    expect(first.stdout).not.toMatch(/table u:/);
    expect(first.stderr).toMatch(/predicted freeze: [\d.]+ s/);
    expect(first.stdout).toMatch(
      /writes frozen for [\d.]+ s \(predicted [\d.]+ s; drain [\d.]+ s, verification [\d.]+ s, finalize [\d.]+ s\)/,
    );
    expect((await followJob(runId, 'nogo')).state).toBe('active');
    expect((await pgc.query('SELECT v FROM nogo.t WHERE id = 7')).rows[0].v).toBe('later');
    // The application rewrites the row; the follower carries it over, and the second cutover goes.
    await admin.query(`UPDATE t SET v = 'fixed' WHERE id = 42`);
    const second = await sandbox.cli(['cutover', runId, '--wait'], env, 120_000);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect((await pgc.query('SELECT v FROM nogo.t WHERE id = 42')).rows[0].v).toBe('fixed');
    // After the go the application owns the target: its writes are not guarded any more.
    const guards = await pgc.query(
      `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'my2pg_guard%' AND tgrelid = 'nogo.t'::regclass`,
    );
    expect(guards.rows[0].n).toBe(0);
    const canonical = await compareCanonical(sides('nogo'), { schema: 'nogo' });
    expect(canonical.differences).toEqual([]);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('a zero date written while following becomes NULL by the default policy, and the table is reported adjusted', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'zd',
      `SET SESSION sql_mode = ''; CREATE TABLE t (id INT PRIMARY KEY, d DATETIME NULL); INSERT INTO t VALUES (1, '2024-01-01 10:00:00'), (2, NULL);`,
    );
    await admin.query(
      `INSERT INTO t VALUES (3, '0000-00-00 00:00:00'); UPDATE t SET d = '0000-00-00 00:00:00' WHERE id = 1`,
    );
    await waitUntil(
      'the zero dates to arrive as NULL',
      async () => (await pgc.query('SELECT count(*)::int AS n FROM zd.t WHERE d IS NULL')).rows[0].n === 3,
      30_000,
      100,
    );
    const status = JSON.parse((await sandbox.cli(['status', runId, '--json'], env)).stdout);
    expect(status.tables[0].adjustments).toEqual({ d: expect.objectContaining({ zeroDatesToNull: 2 }) });
    const cut = await sandbox.cli(['cutover', runId, '--wait'], env, 120_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/zero dates?/i);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 120_000);

  test('--on-ddl stop: ALTER TABLE on a followed table stops the follower for good, naming it; cutover refuses', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'ddl',
      `CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO t VALUES (1, 'a'), (2, 'b');`,
      ['--on-ddl', 'stop'],
    );
    await admin.query(`INSERT INTO t VALUES (3, 'c')`);
    await waitUntil(
      'the insert to arrive',
      async () => (await pgc.query('SELECT count(*)::int AS n FROM ddl.t')).rows[0].n === 3,
      30_000,
      100,
    );
    await admin.query(`ALTER TABLE t ADD COLUMN w INT; INSERT INTO t VALUES (4, 'd', 4)`);
    const failed = await waitUntil(
      'the follow job to fail',
      async () => {
        const f = await followJob(runId, 'ddl');
        return f.state === 'failed' ? f : undefined;
      },
      30_000,
      100,
    );
    expect(failed.failedReason).toMatch(
      /ALTER TABLE on followed table t .*ALTER TABLE t ADD COLUMN w INT.*--on-ddl stop/,
    );
    // Nothing past the statement was applied.
    expect((await pgc.query('SELECT count(*)::int AS n FROM ddl.t')).rows[0].n).toBe(3);
    const status = await sandbox.cli(['status', runId], env);
    expect(status.stdout + status.stderr).toMatch(/follow: stopped.*ALTER TABLE on followed table t/);
    const cut = await sandbox.cli(['cutover', runId], env);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/stopped for good: ALTER TABLE on followed table t/);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 120_000);
});

test('cancel stops a following run: the follow job goes, the worker stays, its write guards and change log go', async () => {
  const { admin, pgc, env, worker, runId } = await followingRun(
    'gone',
    `CREATE TABLE t (id INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 10);`,
  );
  const guards = async (): Promise<string[]> =>
    (
      await pgc.query(
        `SELECT tgname FROM pg_trigger WHERE tgrelid = 'gone.t'::regclass AND tgname LIKE 'my2pg_guard%' ORDER BY tgname`,
      )
    ).rows.map((r) => r.tgname as string);
  const rowsOf = async (table: string, run = runId): Promise<number> =>
    (await pgc.query(`SELECT count(*)::int AS n FROM my2pg.${table} WHERE run_id = $1`, [run])).rows[0].n;
  await waitUntil('the write guards', async () => (await guards()).length === 3, 60_000, 100);
  // A write that is not the follower's: the guard logs its key for the run.
  await pgc.query('INSERT INTO gone.t VALUES (100, 0)');
  expect(await rowsOf('change_log')).toBeGreaterThan(0);
  await waitUntil('verification while following', async () => (await rowsOf('live_tables')) > 0, 60_000, 100);
  // A second run over the tables being followed is refused (it would truncate them under the follower).
  const second = await sandbox.cli(['start', '--schema', 'gone'], env);
  expect(second.code, second.stdout + second.stderr).toBe(2);
  expect(second.stderr).toContain(`run ${runId}`);
  expect(second.stderr).toContain('is still active on schema "gone"');

  const cancel = await sandbox.cli(['cancel', runId, '--yes'], env);
  expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0);
  expect(cancel.stdout).toMatch(/write guards dropped from 1 table/);
  expect((await followJob(runId, 'gone')).state).toBe('missing');
  expect(worker.exitCode).toBeNull();
  const status = await sandbox.cli(['status', runId, '--json'], env);
  expect(JSON.parse(status.stdout).run.status).toBe('cancelled');
  expect(await guards()).toEqual([]);
  expect(await rowsOf('change_log')).toBe(0);
  expect(await rowsOf('live_tables')).toBe(0);
  expect(await rowsOf('early_foreign_keys')).toBe(0);
  // The application owns the table now: its writes are logged for no run.
  const logged = async (): Promise<number> =>
    (await pgc.query('SELECT count(*)::int AS n FROM my2pg.change_log')).rows[0].n;
  const before = await logged();
  await pgc.query(
    'INSERT INTO gone.t VALUES (101, 0); UPDATE gone.t SET v = 11 WHERE id = 1; DELETE FROM gone.t WHERE id = 100',
  );
  expect(await logged()).toBe(before);
  expect(await rowsOf('change_log')).toBe(0);
  // A second cancel finds nothing left to drop and says so without failing.
  const again = await sandbox.cli(['cancel', runId, '--yes'], env);
  expect(again.code, again.stdout + again.stderr).toBe(0);

  // A guard left by a run that was never cancelled (its follower failed for good and the
  // operator moved on): a new run over the table drops it before copying, and says so.
  await pgc.query(
    `CREATE TRIGGER my2pg_guard AFTER INSERT OR UPDATE OR DELETE ON gone.t FOR EACH ROW EXECUTE FUNCTION my2pg.guard_write('${runId}', 't', 'id')`,
  );
  await admin.query('INSERT INTO gone.t VALUES (2, 20)');
  const rerun = await sandbox.cli(['start', '--wait', '--schema', 'gone'], env);
  expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
  expect(rerun.stderr).toContain(`dropped the write guards of run ${runId} from 1 table: t`);
  expect(await guards()).toEqual([]);
  expect(await rowsOf('change_log')).toBe(0);
  expect(await expectSidesEqual(sides('gone'), { table: 't', columns: ['id', 'v'], schema: 'gone' })).toEqual({
    t: 2,
  });
  await admin.end();
  await pgc.end();
  await stopProcess(worker);
}, 180_000);

describe('preconditions of --follow', () => {
  async function refused(database: string, env: NodeJS.ProcessEnv, pattern: RegExp): Promise<void> {
    const pgc = await sandbox.pg();
    const runsBefore =
      (await pgc.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'my2pg'`)).rows[0].n > 0
        ? (await pgc.query('SELECT count(*)::int AS n FROM my2pg.runs')).rows[0].n
        : 0;
    // The keys of the `pre` schema's queues (named copy.<database>.<schema>.<id>).
    const preKeys = async (): Promise<string[]> => (await queueEntries(sandbox)).filter((k) => k.includes('.pre.'));
    const keysBefore = (await preKeys()).length;
    const result = await sandbox.cli(['start', '--follow', '--schema', 'pre'], env);
    expect(result.code, `${database}: ${result.stdout}${result.stderr}`).toBe(2);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).toMatch(/nothing was started/);
    const runsAfter =
      (await pgc.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'my2pg'`)).rows[0].n > 0
        ? (await pgc.query('SELECT count(*)::int AS n FROM my2pg.runs')).rows[0].n
        : 0;
    expect(runsAfter).toBe(runsBefore);
    expect((await preKeys()).length).toBe(keysBefore);
    const tables = await pgc.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'pre'`);
    expect(tables.rows[0].n).toBe(0);
    await pgc.end();
  }

  test('binary log off, STATEMENT format, MINIMAL image, a table without a key, no replication grants: each exit 2 with its own line', async () => {
    const pgc = await sandbox.pg();
    await pgc.query('CREATE SCHEMA IF NOT EXISTS pre');
    await pgc.end();
    const admin = await connect();
    await admin.query(`CREATE DATABASE pre; USE pre; CREATE TABLE keyed (id INT PRIMARY KEY); INSERT INTO keyed VALUES (1);
      CREATE USER 'app'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON *.* TO 'app'@'%';`);
    // The shared MariaDB runs with the binary log off.
    const shared = await mysql.createConnection({ uri: sandbox.mysqlUrl });
    await shared.query('CREATE TABLE keyed (id INT PRIMARY KEY)');
    await shared.end();
    await refused('shared', { MYSQL_URL: sandbox.mysqlUrl }, /binary log is off on the source/);
    try {
      await admin.query(`SET GLOBAL binlog_format = 'STATEMENT'`);
      await refused('pre', envOf('pre', 'pre'), /binary log format is STATEMENT on the source, following needs ROW/);
    } finally {
      await admin.query(`SET GLOBAL binlog_format = 'ROW'`);
    }
    try {
      await admin.query(`SET GLOBAL binlog_row_image = 'MINIMAL'`);
      await refused('pre', envOf('pre', 'pre'), /binary log row image is MINIMAL on the source, following needs FULL/);
    } finally {
      await admin.query(`SET GLOBAL binlog_row_image = 'FULL'`);
    }
    await refused(
      'pre',
      { MYSQL_URL: `mysql://app:pw@127.0.0.1:${server.port}/pre` },
      /lacks REPLICATION SLAVE and REPLICATION CLIENT/,
    );
    await admin.query(`CREATE TABLE pre.loose (a INT, b VARCHAR(10), UNIQUE KEY (a))`);
    await refused('pre', envOf('pre', 'pre'), /table loose has no primary key and no NOT NULL unique key/);
    // `plan --follow` lists the same problem, as a blocker.
    const plan = await sandbox.cli(['plan', '--follow', '--schema', 'pre'], envOf('pre', 'pre'));
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stdout).toMatch(/table loose has no primary key and no NOT NULL unique key/);
    await admin.end();
  }, 120_000);
});
