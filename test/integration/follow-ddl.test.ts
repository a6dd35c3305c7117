/**
 * Schema changes while following, on a private MariaDB with the binary log on: each change is
 * made while an application writes, the follower applies it (docs/schema-changes.md), and the
 * run ends with `cutover --wait` GO and every value of both sides compared.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stopProcess, waitUntil } from '../helpers/faults.js';
import {
  applicationWriter,
  connect,
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

/** Columns of a target table: name → format_type, with NOT NULL and default. */
async function targetColumns(pgc: pg.Client, schema: string, table: string): Promise<Record<string, string>> {
  const { rows } = await pgc.query(
    `SELECT attname AS name, format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS def
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [`${schema}.${table}`],
  );
  return Object.fromEntries(rows.map((r: { name: string; def: string }) => [r.name, r.def]));
}

/** Until the follower holds at a schema change: its my2pg.follow row (status, error, held). */
async function heldFollower(
  pgc: pg.Client,
  runId: string,
  timeout = 30_000,
): Promise<{ status: string; error: string; held: Record<string, unknown> }> {
  return waitUntil(
    'the follower to hold',
    async () => {
      const f = (await pgc.query('SELECT status, error, held FROM my2pg.follow WHERE run_id = $1', [runId])).rows[0];
      return f?.status === 'held' ? f : undefined;
    },
    timeout,
    100,
  );
}

/** Until the follow job runs again (after a resume). */
async function followingAgain(runId: string, schema: string): Promise<void> {
  await waitUntil(
    'the follower to follow again',
    async () => (await followJob(runId, schema)).state === 'active',
    30_000,
    100,
  );
}

beforeAll(async () => {
  ({ sandbox } = await startFollowing('followddl', 12));
}, 60_000);

afterAll(async () => {
  await stopFollowing();
});

describe('schema changes while following', () => {
  test('ADD COLUMN with a DEFAULT while the application writes: the column arrives with its default, written values follow, cutover goes', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'addcol',
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL);
       INSERT INTO t (v) SELECT CONCAT('v', seq) FROM seq_1_to_2000;`,
    );
    let added = false;
    const app = applicationWriter('addcol', async (my, i) => {
      if (i % 3 === 0) await my.query('INSERT INTO t (v) VALUES (?)', [`w${i}`]);
      else if (added && i % 3 === 1) await my.query('UPDATE t SET score = ? WHERE id = ?', [i, 1 + (i % 2000)]);
      else await my.query('UPDATE t SET v = ? WHERE id = ?', [`u${i}`, 1 + ((i * 7) % 2000)]);
    });
    await waitUntil('writes before the change', async () => app.count() > 50, 30_000, 20);
    await admin.query(`ALTER TABLE addcol.t ADD COLUMN score INT NOT NULL DEFAULT 7 AFTER id`);
    added = true;
    const before = app.count();
    await waitUntil('writes after the change', async () => app.count() > before + 100, 30_000, 20);
    await app.stop();
    await untilCaughtUp(runId, admin, 'addcol');
    expect(await targetColumns(pgc, 'addcol', 't')).toEqual({
      id: 'integer not null',
      v: 'character varying(20) not null',
      score: 'integer not null default 7',
    });
    expect((await followJob(runId, 'addcol')).state).toBe('active');
    expect(await followLogs(runId, 'addcol')).toMatch(
      /schema change applied: ALTER TABLE on followed table t .*column score added/,
    );
    await cutoverAndCompare(env, runId, 'addcol', 1);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('DROP, RENAME and widening MODIFY of columns, ADD INDEX and UNIQUE, TRUNCATE, while the application writes: each applied, cutover goes', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'many',
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, a VARCHAR(10) NULL, b INT NOT NULL DEFAULT 0, c VARCHAR(20) NULL, d INT NULL);
       CREATE TABLE u (id INT PRIMARY KEY, x INT NOT NULL);
       INSERT INTO t (a, b, c, d) SELECT CONCAT('a', seq), seq, CONCAT('c', seq), seq * 3 FROM seq_1_to_1000;
       INSERT INTO u SELECT seq, seq FROM seq_1_to_300;`,
    );
    let widened = false;
    const app = applicationWriter('many', async (my, i) => {
      const text = widened ? `long value ${i} of many` : `w${i}`;
      if (i % 4 === 0) await my.query('INSERT INTO t (a) VALUES (?)', [text]);
      else if (i % 4 === 1) await my.query('UPDATE t SET a = ? WHERE id = ?', [text, 1 + ((i * 7) % 1000)]);
      else if (i % 4 === 2)
        await my.query('INSERT INTO u VALUES (?, ?) ON DUPLICATE KEY UPDATE x = x + 1', [1000 + (i % 50), i]);
      else await my.query('DELETE FROM t WHERE id = ?', [1 + ((i * 13) % 1000)]);
    });
    // Each change once the follower has applied the one before: rows logged between two changes
    // that alter the column count need binlog_row_metadata=FULL (the next test).
    const step = async (sql: string): Promise<void> => {
      await untilCaughtUp(runId, admin, 'many');
      const before = app.count();
      await admin.query(sql);
      await waitUntil('writes after the change', async () => app.count() > before + 30, 30_000, 10);
    };
    await waitUntil('writes before the changes', async () => app.count() > 30, 30_000, 20);
    await step('ALTER TABLE many.t DROP COLUMN b');
    await step('ALTER TABLE many.t RENAME COLUMN c TO c2');
    await step('ALTER TABLE many.t MODIFY a VARCHAR(40) NULL');
    widened = true;
    await step('ALTER TABLE many.t ADD UNIQUE INDEX t_c2 (c2), ADD INDEX t_a (a)');
    await step('ALTER TABLE many.t CHANGE d d BIGINT NULL');
    await step('TRUNCATE TABLE many.u');
    await app.stop();
    await untilCaughtUp(runId, admin, 'many');
    expect(await targetColumns(pgc, 'many', 't')).toEqual({
      id: 'integer not null',
      a: 'character varying(40)',
      c2: 'character varying(20)',
      d: 'bigint',
    });
    expect((await followJob(runId, 'many')).state).toBe('active');
    const logs = await followLogs(runId, 'many');
    for (const change of [
      'column b dropped',
      'column c renamed to c2',
      'column a: varchar(10) → varchar(40)',
      'index',
      'column d: int(11) → bigint(20)',
      'TRUNCATE',
    ])
      expect(logs).toContain(change);
    await cutoverAndCompare(env, runId, 'many', 2);
    const indexes = await pgc.query(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = 'many' AND tablename = 't' ORDER BY indexdef`,
    );
    expect(indexes.rows.map((r: { indexdef: string }) => r.indexdef.replace(/^.* USING /, '')).sort()).toEqual([
      'btree (a)',
      'btree (c2)',
      'btree (id)',
    ]);
    expect(indexes.rows.filter((r: { indexdef: string }) => /UNIQUE INDEX .*\(c2\)/.test(r.indexdef))).toHaveLength(1);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test("MODIFY that adds ENUM labels (one first, one between, one last) while the application writes them: the enum type takes them in MySQL's order, cutover goes", async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'enumlab',
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, e ENUM('b','d') NOT NULL DEFAULT 'b');
       INSERT INTO t (e) SELECT IF(seq % 2, 'b', 'd') FROM seq_1_to_1000;`,
    );
    let labels = ['b', 'd'];
    const app = applicationWriter('enumlab', async (my, i) => {
      const label = labels[i % labels.length]!;
      if (i % 2 === 0) await my.query('INSERT INTO t (e) VALUES (?)', [label]);
      else await my.query('UPDATE t SET e = ? WHERE id = ?', [label, 1 + ((i * 7) % 1000)]);
    });
    await waitUntil('writes before the change', async () => app.count() > 50, 30_000, 20);
    await admin.query(`ALTER TABLE enumlab.t MODIFY e ENUM('a','b','c','d','it''s') NOT NULL DEFAULT 'b'`);
    labels = ['a', 'b', 'c', 'd', "it's"];
    const before = app.count();
    await waitUntil('writes after the change', async () => app.count() > before + 100, 30_000, 20);
    await app.stop();
    await untilCaughtUp(runId, admin, 'enumlab');
    const range = await pgc.query(
      `SELECT enum_range(NULL::enumlab.t_e)::text[] AS labels, (SELECT count(*)::int FROM enumlab.t WHERE e IN ('a', 'c', 'it''s')) AS n`,
    );
    expect(range.rows[0].labels).toEqual(['a', 'b', 'c', 'd', "it's"]);
    expect(range.rows[0].n).toBeGreaterThan(0);
    expect((await followJob(runId, 'enumlab')).state).toBe('active');
    expect(await followLogs(runId, 'enumlab')).toMatch(
      /schema change applied: ALTER TABLE on followed table t .*column e: ENUM label a, c, it's added/,
    );
    // The order is MySQL's: ORDER BY gives the same rows on both sides.
    const my = (await admin.query('SELECT id FROM enumlab.t ORDER BY e, id LIMIT 20')) as unknown as [{ id: number }[]];
    const ours = await pgc.query('SELECT id FROM enumlab.t ORDER BY e, id LIMIT 20');
    expect(ours.rows.map((r: { id: number }) => r.id)).toEqual(my[0].map((r) => r.id));
    await cutoverAndCompare(env, runId, 'enumlab', 1);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('ADD and DROP FOREIGN KEY while the application writes: the dropped key leaves the target, the added one is validated at cutover, cutover goes', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'fkeys',
      `CREATE TABLE p (id INT PRIMARY KEY, v INT NOT NULL);
       CREATE TABLE c (id INT AUTO_INCREMENT PRIMARY KEY, p_id INT NOT NULL, q_id INT NULL,
         CONSTRAINT fk_old FOREIGN KEY (p_id) REFERENCES p (id));
       INSERT INTO p SELECT seq, seq FROM seq_1_to_500;
       INSERT INTO c (p_id, q_id) SELECT 1 + seq % 500, 1 + seq % 400 FROM seq_1_to_2000;`,
    );
    const app = applicationWriter('fkeys', async (my, i) => {
      if (i % 4 === 0)
        await my.query('INSERT INTO p VALUES (?, ?) ON DUPLICATE KEY UPDATE v = v + 1', [500 + (i % 300), i]);
      else if (i % 4 === 1) await my.query('INSERT INTO c (p_id, q_id) VALUES (?, ?)', [1 + (i % 500), 1 + (i % 450)]);
      else if (i % 4 === 2) await my.query('UPDATE c SET q_id = ? WHERE id = ?', [1 + (i % 480), 1 + ((i * 7) % 2000)]);
      else await my.query('DELETE FROM c WHERE id = ?', [1 + ((i * 13) % 2000)]);
    });
    const step = async (sql: string): Promise<void> => {
      await untilCaughtUp(runId, admin, 'fkeys');
      const before = app.count();
      await admin.query(sql);
      await waitUntil('writes after the change', async () => app.count() > before + 60, 30_000, 10);
    };
    await waitUntil('writes before the changes', async () => app.count() > 50, 30_000, 20);
    await step('ALTER TABLE fkeys.c ADD CONSTRAINT fk_new FOREIGN KEY (q_id) REFERENCES p (id)');
    await step('ALTER TABLE fkeys.c DROP FOREIGN KEY fk_old');
    await app.stop();
    await untilCaughtUp(runId, admin, 'fkeys');
    expect((await followJob(runId, 'fkeys')).state).toBe('active');
    const logs = await followLogs(runId, 'fkeys');
    expect(logs).toContain('foreign key fk_new added (validated by finalize at cutover)');
    expect(logs).toContain('foreign key fk_old dropped');
    await cutoverAndCompare(env, runId, 'fkeys', 2);
    const keys = await pgc.query(
      `SELECT conname, convalidated, pg_get_constraintdef(oid) AS def FROM pg_constraint
        WHERE contype = 'f' AND connamespace = 'fkeys'::regnamespace ORDER BY conname`,
    );
    expect(keys.rows).toEqual([
      {
        conname: 'fk_new',
        convalidated: true,
        def: 'FOREIGN KEY (q_id) REFERENCES fkeys.p(id) ON UPDATE RESTRICT ON DELETE RESTRICT',
      },
    ]);
    // The key holds in PostgreSQL: a row referencing no parent is refused.
    await expect(pgc.query('INSERT INTO fkeys.c (id, p_id, q_id) VALUES (999999, 1, 999999)')).rejects.toThrow(
      /foreign key/,
    );
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test("an online schema change tool's swap (pt-online-schema-change's helper table, triggers, chunked copy, RENAME TABLE t TO _t_old, _t_new TO t) while the application writes: applied as the catalog's difference, cutover goes", async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'swap',
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL);
       INSERT INTO t (v) SELECT CONCAT('v', seq) FROM seq_1_to_3000;`,
    );
    let swapped = false;
    const app = applicationWriter('swap', async (my, i) => {
      if (i % 4 === 0) await my.query('INSERT INTO t (v) VALUES (?)', [`w${i}`]);
      else if (i % 4 === 1) await my.query('UPDATE t SET v = ? WHERE id = ?', [`u${i}`, 1 + ((i * 7) % 3000)]);
      else if (i % 4 === 2) await my.query('DELETE FROM t WHERE id = ?', [1 + ((i * 13) % 3000)]);
      else if (swapped) await my.query('UPDATE t SET score = ? WHERE id = ?', [i, 1 + ((i * 11) % 3000)]);
    });
    await waitUntil('writes before the change', async () => app.count() > 50, 30_000, 20);
    // What pt-online-schema-change --alter "ADD COLUMN score INT NOT NULL DEFAULT 7" does.
    await admin.query('USE swap');
    await admin.query('CREATE TABLE _t_new LIKE t');
    await admin.query('ALTER TABLE _t_new ADD COLUMN score INT NOT NULL DEFAULT 7');
    await admin.query(
      'CREATE TRIGGER pt_osc_del AFTER DELETE ON t FOR EACH ROW DELETE IGNORE FROM _t_new WHERE id = OLD.id',
    );
    await admin.query(
      'CREATE TRIGGER pt_osc_upd AFTER UPDATE ON t FOR EACH ROW BEGIN DELETE IGNORE FROM _t_new WHERE id = OLD.id; REPLACE INTO _t_new (id, v) VALUES (NEW.id, NEW.v); END',
    );
    await admin.query(
      'CREATE TRIGGER pt_osc_ins AFTER INSERT ON t FOR EACH ROW REPLACE INTO _t_new (id, v) VALUES (NEW.id, NEW.v)',
    );
    for (let low = 1; low <= 4000; low += 500)
      await admin.query(
        'INSERT IGNORE INTO _t_new (id, v) SELECT id, v FROM t WHERE id BETWEEN ? AND ? LOCK IN SHARE MODE',
        [low, low + 499],
      );
    await admin.query('INSERT IGNORE INTO _t_new (id, v) SELECT id, v FROM t WHERE id > 4000 LOCK IN SHARE MODE');
    await admin.query('RENAME TABLE t TO _t_old, _t_new TO t');
    swapped = true;
    await admin.query('DROP TRIGGER pt_osc_del; DROP TRIGGER pt_osc_upd; DROP TRIGGER pt_osc_ins; DROP TABLE _t_old');
    const before = app.count();
    await waitUntil('writes after the change', async () => app.count() > before + 100, 30_000, 20);
    await app.stop();
    await untilCaughtUp(runId, admin, 'swap');
    expect(await targetColumns(pgc, 'swap', 't')).toEqual({
      id: 'integer not null',
      v: 'character varying(20) not null',
      score: 'integer not null default 7',
    });
    expect((await followJob(runId, 'swap')).state).toBe('active');
    expect(await followLogs(runId, 'swap')).toMatch(
      /schema change applied: RENAME TABLE on followed table t .*: column score added/,
    );
    await cutoverAndCompare(env, runId, 'swap', 1);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test("an Alembic upgrade (ADD COLUMN, CREATE INDEX, UPDATE alembic_version) while the application writes: all of it arrives, cutover goes with MySQL's alembic_version", async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'alembic',
      `CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
       INSERT INTO alembic_version VALUES ('1a2b3c4d5e6f');
       CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL);
       INSERT INTO t (v) SELECT CONCAT('v', seq) FROM seq_1_to_2000;`,
    );
    let upgraded = false;
    const app = applicationWriter('alembic', async (my, i) => {
      if (i % 3 === 0) await my.query('INSERT INTO t (v) VALUES (?)', [`w${i}`]);
      else if (upgraded && i % 3 === 1) await my.query('UPDATE t SET note = ? WHERE id = ?', [`n${i}`, 1 + (i % 2000)]);
      else await my.query('UPDATE t SET v = ? WHERE id = ?', [`u${i}`, 1 + ((i * 7) % 2000)]);
    });
    await waitUntil('writes before the upgrade', async () => app.count() > 50, 30_000, 20);
    // What `alembic upgrade head` sends MySQL for op.add_column and op.create_index: the DDL
    // commits by itself, the version row in the migration's transaction.
    const alembic = await connect('alembic');
    await alembic.query('BEGIN');
    await alembic.query('ALTER TABLE t ADD COLUMN note VARCHAR(40) NULL');
    await alembic.query('CREATE INDEX ix_t_note ON t (note)');
    await alembic.query(
      "UPDATE alembic_version SET version_num='9f8e7d6c5b4a' WHERE alembic_version.version_num = '1a2b3c4d5e6f'",
    );
    await alembic.query('COMMIT');
    await alembic.end();
    upgraded = true;
    const before = app.count();
    await waitUntil('writes after the upgrade', async () => app.count() > before + 100, 30_000, 20);
    // A later migration's op.create_index alone, the follower caught up: no ALTER brings it along.
    await untilCaughtUp(runId, admin, 'alembic');
    await admin.query('CREATE INDEX ix_t_v ON alembic.t (v)');
    await app.stop();
    await untilCaughtUp(runId, admin, 'alembic');
    expect((await followJob(runId, 'alembic')).state).toBe('active');
    const logs = await followLogs(runId, 'alembic');
    expect(logs).toMatch(/schema change applied: ALTER TABLE on followed table t .*column note added/);
    // Met as a statement of its own (the catalog already showed it at the ALTER, or not yet).
    expect(logs).toMatch(/schema change applied: CREATE INDEX on followed table t /);
    await cutoverAndCompare(env, runId, 'alembic', 2);
    expect((await pgc.query('SELECT version_num FROM alembic.alembic_version')).rows).toEqual([
      { version_num: '9f8e7d6c5b4a' },
    ]);
    const indexes = await pgc.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'alembic' AND tablename = 't'`);
    expect(indexes.rows.map((r: { indexdef: string }) => r.indexdef.replace(/^.* USING /, '')).sort()).toEqual([
      'btree (id)',
      'btree (note)',
      'btree (v)',
    ]);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test("the swap between a batch's snapshot and its read (the batch held on a PostgreSQL lock): the rows the helper table got after the snapshot are read again past the swap, cutover goes", async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'swapread',
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL);
       INSERT INTO t (v) SELECT CONCAT('v', seq) FROM seq_1_to_300;`,
    );
    await untilCaughtUp(runId, admin, 'swapread');
    // pt-online-schema-change's helper table, made before the snapshot (as the copy makes it long before its last chunk).
    await admin.query(`USE swapread; CREATE TABLE _t_new LIKE t;
      ALTER TABLE _t_new ADD COLUMN score INT NOT NULL DEFAULT 7;
      INSERT IGNORE INTO _t_new (id, v) SELECT id, v FROM t LOCK IN SHARE MODE;`);
    await untilCaughtUp(runId, admin, 'swapread');
    const locker = await sandbox.pg();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE swapread.t IN ACCESS EXCLUSIVE MODE');
    await admin.query("INSERT INTO t (v) VALUES ('inserted-1'), ('inserted-2')");
    // The follower's batch has its MySQL snapshot and waits for the target table: it reads MySQL after the swap.
    await waitUntil(
      'the batch to wait for the lock',
      async () =>
        (await pgc.query("SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'swapread.t'::regclass")).rowCount! >
        0,
      30_000,
      20,
    );
    // Its last chunk copies them after the batch's snapshot; then the swap, before the batch reads MySQL.
    await admin.query(`INSERT IGNORE INTO _t_new (id, v) SELECT id, v FROM t WHERE id > 300 LOCK IN SHARE MODE;
      RENAME TABLE t TO _t_old, _t_new TO t;
      DROP TABLE _t_old;
      INSERT INTO t (v, score) VALUES ('after', 1);`);
    await locker.query('COMMIT');
    await locker.end();
    await untilCaughtUp(runId, admin, 'swapread');
    expect((await followJob(runId, 'swapread')).state).toBe('active');
    const rows = await pgc.query(
      "SELECT v FROM swapread.t WHERE v IN ('inserted-1', 'inserted-2', 'after') ORDER BY id",
    );
    expect(rows.rows.map((r: { v: string }) => r.v)).toEqual(['inserted-1', 'inserted-2', 'after']);
    await cutoverAndCompare(env, runId, 'swapread', 1);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('changes in quick succession, the follower behind them (binlog_row_metadata=FULL): a rename the catalog already shows stays a rename, every value arrives', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'quick',
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, a VARCHAR(10) NULL, b INT NOT NULL DEFAULT 0, c VARCHAR(20) NULL);
       INSERT INTO t (a, b, c) SELECT CONCAT('a', seq), seq, CONCAT('c', seq) FROM seq_1_to_30000;`,
    );
    await admin.query(`SET GLOBAL binlog_row_metadata = 'FULL'`);
    try {
      await untilCaughtUp(runId, admin, 'quick');
      // Away while the changes and the rows around them are written: it meets them all behind.
      await stopProcess(worker, 'SIGTERM', 30_000);
      await admin.query(`USE quick;
        UPDATE t SET c = CONCAT(c, '+') WHERE id <= 25000;
        ALTER TABLE t DROP COLUMN b;
        UPDATE t SET c = CONCAT(c, '-'), a = 'x' WHERE id BETWEEN 50 AND 150;
        INSERT INTO t (a, c) VALUES ('new', 'c-new');
        ALTER TABLE t RENAME COLUMN c TO c2;
        UPDATE t SET c2 = CONCAT(c2, '!') WHERE id BETWEEN 140 AND 200;`);
      const again = await startWorker('quick', 'quick');
      await untilCaughtUp(runId, admin, 'quick');
      expect(await targetColumns(pgc, 'quick', 't')).toEqual({
        id: 'integer not null',
        a: 'character varying(10)',
        c2: 'character varying(20)',
      });
      const logs = await followLogs(runId, 'quick');
      // Met at the DROP (or earlier, by a batch whose rows MySQL already holds in the newest definition).
      expect(logs).toMatch(/schema change applied: .*: column c renamed to c2; column b dropped/);
      await cutoverAndCompare(env, runId, 'quick', 1);
      await stopProcess(again);
    } finally {
      await admin.query(`SET GLOBAL binlog_row_metadata = 'MINIMAL'`);
      await admin.end();
      await pgc.end();
    }
  }, 180_000);

  test('a column added then dropped before the follower reaches the first statement: neither lands, the rows written between do', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'twice',
      `CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL); INSERT INTO t SELECT seq, seq FROM seq_1_to_500;`,
    );
    await untilCaughtUp(runId, admin, 'twice');
    // The follower is away while both statements and the rows between them are written.
    await stopProcess(worker, 'SIGTERM', 30_000).catch((error: Error) => {
      throw new Error(`${error.message}: ${worker.output().slice(-5000)}`);
    });
    // The rows between the two statements have a column the catalog no longer has: only a binary
    // log that describes its columns lets them be read (docs/schema-changes.md).
    await admin.query(`SET GLOBAL binlog_row_metadata = 'FULL'`);
    await admin.query(`USE twice;
      ALTER TABLE t ADD COLUMN tmp INT NOT NULL DEFAULT 1;
      INSERT INTO t VALUES (501, 501, 5), (502, 502, 6);
      UPDATE t SET v = v + 1000, tmp = 9 WHERE id <= 20;
      ALTER TABLE t DROP COLUMN tmp;
      INSERT INTO t VALUES (503, 503);
      DELETE FROM t WHERE id = 2;`);
    const again = await startWorker('twice', 'twice');
    await untilCaughtUp(runId, admin, 'twice');
    expect(await targetColumns(pgc, 'twice', 't')).toEqual({ id: 'integer not null', v: 'integer not null' });
    expect((await followJob(runId, 'twice')).state).toBe('active');
    await cutoverAndCompare(env, runId, 'twice', 1);
    await admin.query(`SET GLOBAL binlog_row_metadata = 'MINIMAL'`);
    await admin.end();
    await pgc.end();
    await stopProcess(again);
  }, 180_000);

  test('a narrowing MODIFY holds the follower (status names it, cutover refuses, resume refuses while the target differs); fixed by hand, resume goes on and cutover goes', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'narrow',
      `CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL);
       INSERT INTO t (v) SELECT CONCAT('v', seq) FROM seq_1_to_500;`,
    );
    const app = applicationWriter('narrow', async (my, i) => {
      if (i % 2 === 0) await my.query('INSERT INTO t (v) VALUES (?)', [`w${i % 1000}`]);
      else await my.query('UPDATE t SET v = ? WHERE id = ?', [`u${i % 1000}`, 1 + ((i * 7) % 500)]);
    });
    await waitUntil('writes before the change', async () => app.count() > 50, 30_000, 20);
    await admin.query('ALTER TABLE narrow.t MODIFY v VARCHAR(5) NOT NULL');
    const before = app.count();
    await waitUntil('writes after the change', async () => app.count() > before + 100, 30_000, 20);
    const held = await heldFollower(pgc, runId);
    expect(held.error).toMatch(
      /^held at ALTER TABLE on followed table t at binlog\.\d+:\d+ \(ALTER TABLE narrow\.t MODIFY v VARCHAR\(5\) NOT NULL\): column v: varchar\(20\) → varchar\(5\) does not hold every value it held\. Change the target table by hand/,
    );
    expect(held.held).toMatchObject({ table: 't', statement: 'ALTER TABLE narrow.t MODIFY v VARCHAR(5) NOT NULL' });
    const status = await sandbox.cli(['status', runId], env);
    expect(status.stdout + status.stderr).toMatch(
      /follow: held at ALTER TABLE on followed table t .*varchar\(20\) → varchar\(5\)/,
    );
    const json = JSON.parse((await sandbox.cli(['status', runId, '--json'], env)).stdout);
    expect(json.follow).toMatchObject({ status: 'held', held: { table: 't' } });
    const refused = await sandbox.cli(['cutover', runId], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is (still )?held at /);
    // Resumed before the target is fixed: still held, saying what differs.
    const early = await sandbox.cli(['resume', runId], env, 60_000);
    expect(early.stdout + early.stderr).toMatch(
      /still held at t .*column v is character varying\(20\), MySQL's varchar\(5\) is character varying\(5\)/,
    );
    await app.stop();
    await pgc.query('ALTER TABLE narrow.t ALTER COLUMN v TYPE varchar(5)');
    const resumed = sandbox.cli(['resume', runId], env, 120_000);
    await followingAgain(runId, 'narrow');
    await untilCaughtUp(runId, admin, 'narrow');
    await cutoverAndCompare(env, runId, 'narrow', 1);
    expect((await resumed).code).toBe(0);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 240_000);

  test('DROP TABLE of a followed table holds, saying why and what to do; cutover refuses; resume --skip-table drops it from the run, the follower goes on and cutover goes on the others', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'droptab',
      `CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL); CREATE TABLE u (id INT PRIMARY KEY);
       INSERT INTO t SELECT seq, seq FROM seq_1_to_300; INSERT INTO u SELECT seq FROM seq_1_to_10;`,
    );
    await admin.query('USE droptab; UPDATE t SET v = v + 1 WHERE id <= 10');
    // Read before the DROP: the binary log reader cannot read rows of a table MySQL no longer has
    // (docs/schema-changes.md, "Not applied yet").
    await untilCaughtUp(runId, admin, 'droptab');
    await admin.query('USE droptab; DROP TABLE t; INSERT INTO u VALUES (11);');
    const held = await heldFollower(pgc, runId);
    expect(held.error).toMatch(
      /^held at DROP TABLE on followed table t .*: DROP TABLE of a followed table is not applied while following by this version: the target keeps the table and the rows it had\. Drop the table from the run, and follow on without it: my2pg resume \S+ --skip-table t$/,
    );
    // What came before the statement is applied, nothing after it.
    expect((await pgc.query('SELECT count(*)::int AS n FROM droptab.t WHERE v = id + 1')).rows[0].n).toBe(10);
    expect((await pgc.query('SELECT count(*)::int AS n FROM droptab.u')).rows[0].n).toBe(10);
    const refused = await sandbox.cli(['cutover', runId], env);
    expect(refused.code).toBe(2);
    const wrong = await sandbox.cli(['resume', runId, '--skip-table', 'u'], env, 60_000);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--skip-table: run \S+ is held at table t, not u/);
    const resumed = sandbox.cli(['resume', runId, '--skip-table', 't'], env, 120_000);
    await followingAgain(runId, 'droptab');
    await admin.query('USE droptab; INSERT INTO u VALUES (12), (13); DELETE FROM u WHERE id = 3;');
    await untilCaughtUp(runId, admin, 'droptab');
    const runTables = await pgc.query('SELECT table_name FROM my2pg.run_tables WHERE run_id = $1', [runId]);
    expect(runTables.rows).toEqual([{ table_name: 'u' }]);
    await cutoverAndCompare(env, runId, 'droptab', 1);
    expect((await pgc.query('SELECT array_agg(id ORDER BY id) AS ids FROM droptab.u')).rows[0].ids).toEqual([
      1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    ]);
    // The target's t is left as it was at the DROP.
    expect((await pgc.query('SELECT count(*)::int AS n FROM droptab.t')).rows[0].n).toBe(300);
    const done = await resumed;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stderr).toMatch(/table t dropped from the run: no longer followed, verified or counted at cutover/);
    // A lasting record: status names the table, when and why, after the cutover too.
    expect((await sandbox.cli(['status', runId], env)).stdout).toMatch(
      /skipped: t, dropped from the run while following \(resume --skip-table\) at \S+: DROP TABLE of a followed table is not applied while following/,
    );
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('DROP TABLE while rows of the table are still unread (the follower away): it holds at them, naming the table, rather than retrying forever', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'dropbehind',
      `CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL); CREATE TABLE u (id INT PRIMARY KEY, w INT NOT NULL);
       INSERT INTO t SELECT seq, seq FROM seq_1_to_300; INSERT INTO u SELECT seq, seq FROM seq_1_to_10;`,
    );
    await untilCaughtUp(runId, admin, 'dropbehind');
    // Away while t's rows and the DROP are written: the binary log reader meets rows of a table
    // MySQL's catalog no longer has (binlog_row_metadata is MINIMAL).
    await stopProcess(worker, 'SIGTERM', 30_000);
    await admin.query(`USE dropbehind;
      INSERT INTO u SELECT seq, seq * 2 FROM seq_11_to_15; UPDATE u SET w = 0 WHERE id = 1;
      UPDATE t SET v = v + 1 WHERE id <= 10; INSERT INTO t VALUES (301, 301);
      DROP TABLE t;
      INSERT INTO u SELECT seq, seq FROM seq_16_to_20;`);
    const again = await startWorker('dropbehind', 'dropbehind');
    const held = await heldFollower(pgc, runId, 60_000);
    expect(held.error).toMatch(
      /^held at DROP TABLE on followed table t at binlog\.\d+:\d+ \(\(rows of t logged before a DROP TABLE the follower has not reached: MySQL's catalog no longer has the table.*\): DROP TABLE of a followed table is not applied/,
    );
    expect(held.held).toMatchObject({ table: 't' });
    // The job failed for good (no retry loop), saying the same.
    const job = await waitUntil(
      'the follow job to fail for good',
      async () => {
        const j = await followJob(runId, 'dropbehind');
        return j.state === 'failed' ? j : undefined;
      },
      30_000,
      100,
    );
    expect(job.failedReason).toMatch(/^held at DROP TABLE on followed table t /);
    // Everything before t's rows is applied and exact; nothing after them; t keeps what it had.
    const u = (await pgc.query('SELECT id, w FROM dropbehind.u ORDER BY id')).rows;
    expect(u).toEqual([
      { id: 1, w: 0 },
      ...Array.from({ length: 9 }, (_, i) => ({ id: i + 2, w: i + 2 })),
      ...Array.from({ length: 5 }, (_, i) => ({ id: i + 11, w: (i + 11) * 2 })),
    ]);
    expect((await pgc.query('SELECT count(*)::int AS n, sum(v - id)::int AS d FROM dropbehind.t')).rows[0]).toEqual({
      n: 300,
      d: 0,
    });
    const refused = await sandbox.cli(['cutover', runId], env);
    expect(refused.code).toBe(2);
    const resumed = await sandbox.cli(['resume', runId], env, 60_000);
    expect(resumed.stdout + resumed.stderr).toMatch(/still held at t .*MySQL's catalog no longer has table t/);
    // Dropped from the run, the follower reads on past t's rows and the DROP: u arrives whole.
    const skipped = sandbox.cli(['resume', runId, '--skip-table', 't'], env, 120_000);
    await followingAgain(runId, 'dropbehind');
    await untilCaughtUp(runId, admin, 'dropbehind');
    await cutoverAndCompare(env, runId, 'dropbehind', 1);
    expect((await pgc.query('SELECT count(*)::int AS n FROM dropbehind.u')).rows[0].n).toBe(20);
    expect((await skipped).code).toBe(0);
    await admin.end();
    await pgc.end();
    await stopProcess(again);
  }, 240_000);

  test('--on-ddl hold: even an ADD COLUMN holds; the column added by hand, resume goes on and cutover goes', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun(
      'holdall',
      `CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL); INSERT INTO t SELECT seq, seq FROM seq_1_to_300;`,
      ['--on-ddl', 'hold'],
    );
    await admin.query(`USE holdall; UPDATE t SET v = v + 1 WHERE id <= 10;
      ALTER TABLE t ADD COLUMN w INT NULL;
      UPDATE t SET w = id * 2 WHERE id <= 50;`);
    const held = await heldFollower(pgc, runId);
    expect(held.error).toMatch(
      /^held at ALTER TABLE on followed table t .*ADD COLUMN w INT NULL\): the run holds at every schema change \(--on-ddl hold\)/,
    );
    // What came before the statement is applied, nothing after it.
    expect((await pgc.query('SELECT count(*)::int AS n FROM holdall.t WHERE v = id + 1')).rows[0].n).toBe(10);
    await pgc.query('ALTER TABLE holdall.t ADD COLUMN w integer');
    const resumed = sandbox.cli(['resume', runId], env, 120_000);
    await followingAgain(runId, 'holdall');
    await untilCaughtUp(runId, admin, 'holdall');
    await cutoverAndCompare(env, runId, 'holdall', 1);
    expect((await resumed).code).toBe(0);
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);
});
