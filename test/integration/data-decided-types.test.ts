/**
 * tinyint(1) is a boolean only when the data says so: a Moodle-like log whose `edulevel`
 * tinyint(1) holds 0, 1 and 2 arrives as smallint with every value, `anonymous` (0/1 only)
 * as boolean, bit(1) as boolean and bit(5) as the bit string it is; the reason shows in
 * `plan`, the report and `status --json`; an override still wins. Under --follow, a later
 * write of 2 into a column made boolean stops the follower naming table, key, value and fix
 * (after it followed updates and deletes into a partitioned table).
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { followJobId } from '../../src/queue/contract.js';
import { compareCanonical, expectSidesEqual } from '../helpers/compare.js';
import { startRun, stopProcess, waitUntil } from '../helpers/faults.js';
import { copyQueue } from '../helpers/queue.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

const MOODLE = `
  CREATE TABLE mdl_logstore_standard_log (
    id BIGINT(10) NOT NULL AUTO_INCREMENT PRIMARY KEY,
    eventname VARCHAR(255) NOT NULL DEFAULT '',
    edulevel TINYINT(1) NOT NULL,
    anonymous TINYINT(1) NOT NULL DEFAULT 0,
    flagged BIT(1) NULL,
    mask BIT(5) NULL,
    maybe TINYINT(1) NULL);
  INSERT INTO mdl_logstore_standard_log (eventname, edulevel, anonymous, flagged, mask, maybe) VALUES
    ('\\\\core\\\\event\\\\user_loggedin', 0, 0, b'0', b'00000', NULL),
    ('\\\\mod_forum\\\\event\\\\post_created', 2, 1, b'1', b'10101', 1),
    ('\\\\core\\\\event\\\\course_viewed', 1, 0, NULL, b'11111', 0),
    ('\\\\mod_quiz\\\\event\\\\attempt_submitted', 2, 0, b'1', NULL, NULL),
    ('\\\\core\\\\event\\\\dashboard_viewed', 0, 1, b'0', b'00001', 1);`;

interface PlanJson {
  tables: { source: string; columns: { source: string; pgType: string | null; reason: string }[] }[];
  blockers: number;
}

describe('types decided by the data', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('datatypes');
    const my = await sandbox.mysql();
    await my.query(MOODLE);
    await my.end();
  }, 60_000);
  afterAll(async () => {
    await sandbox?.dispose();
  });

  test('plan shows each decision and its reason; an override still wins', async () => {
    const plan = await sandbox.cli(['plan', '--json']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    const columns = (JSON.parse(plan.stdout) as PlanJson).tables[0]!.columns;
    const column = (name: string) => columns.find((c) => c.source === name)!;
    expect(column('edulevel')).toMatchObject({
      pgType: 'smallint',
      reason: 'data decides: value 2 found in 2 rows',
    });
    expect(column('anonymous')).toMatchObject({
      pgType: 'boolean',
      reason: 'data decides: every value is 0, 1 or NULL',
    });
    expect(column('maybe')).toMatchObject({ pgType: 'boolean', reason: 'data decides: every value is 0, 1 or NULL' });
    expect(column('flagged')).toMatchObject({ pgType: 'boolean' });
    expect(column('mask')).toMatchObject({ pgType: 'bit varying(5)' });
    const text = await sandbox.cli(['plan']);
    expect(text.stdout).toContain('edulevel tinyint(1) → edulevel smallint (data decides: value 2 found in 2 rows)');
    // An override is the operator's choice, whatever the data holds.
    const overridden = await sandbox.cli([
      'plan',
      '--json',
      '--quick',
      '--column-type',
      'mdl_logstore_standard_log.edulevel=integer',
      '--column-type',
      'mdl_logstore_standard_log.anonymous=smallint',
    ]);
    const oc = (JSON.parse(overridden.stdout) as PlanJson).tables[0]!.columns;
    expect(oc.find((c) => c.source === 'edulevel')).toMatchObject({ pgType: 'integer', reason: 'column override' });
    expect(oc.find((c) => c.source === 'anonymous')).toMatchObject({ pgType: 'smallint', reason: 'column override' });
  });

  test('run exits 0 with every value, the reason in the report and in status --json', async () => {
    const run = await sandbox.cli(['run']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'translated: table mdl_logstore_standard_log: column edulevel tinyint(1) → smallint (data decides: value 2 found in 2 rows)',
    );
    const pgc = await sandbox.pg();
    try {
      const { rows } = await pgc.query<{ column_name: string; type: string }>(
        `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
          WHERE a.attrelid = 'public.mdl_logstore_standard_log'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
      );
      expect(Object.fromEntries(rows.map((r) => [r.column_name, r.type]))).toEqual({
        id: 'bigint',
        eventname: 'character varying(255)',
        edulevel: 'smallint',
        anonymous: 'boolean',
        flagged: 'boolean',
        mask: 'bit varying(5)',
        maybe: 'boolean',
      });
    } finally {
      await pgc.end();
    }
    await expectSidesEqual(sandbox, {
      table: 'mdl_logstore_standard_log',
      columns: ['id', 'eventname', 'edulevel', 'anonymous', 'maybe'],
      booleans: ['anonymous', 'maybe'],
    });
    const { differences, values } = await compareCanonical(sandbox);
    expect(differences).toEqual([]);
    expect(values).toBeGreaterThanOrEqual(35);
    const status = JSON.parse((await sandbox.cli(['status', '--json'])).stdout) as {
      decidedTypes: { table: string; column: string; type: string; reason: string }[];
    };
    expect(status.decidedTypes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          column: 'edulevel',
          type: 'smallint',
          reason: expect.stringMatching(/value 2 found/),
        }),
        expect.objectContaining({ column: 'anonymous', type: 'boolean' }),
        expect.objectContaining({ column: 'flagged', type: 'boolean' }),
      ]),
    );
  });
});

describe('a later write that does not fit the chosen boolean', () => {
  let server: PrivateMariadb;
  let followSandbox: Sandbox;
  beforeAll(async () => {
    followSandbox = await createSandbox('datatypes_follow');
    server = await startPrivateMariadb({ serverId: 24 });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await followSandbox?.dispose();
  });

  test('stops the follower naming table, key, value and fix', async () => {
    const admin = await mysql.createConnection({ uri: server.url, multipleStatements: true });
    await admin.query(
      `CREATE DATABASE moodle; USE moodle; CREATE TABLE log (id INT PRIMARY KEY, edulevel TINYINT(1) NOT NULL);
       INSERT INTO log VALUES (1, 0), (2, 1);
       CREATE TABLE parted (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL)
         PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION pmax VALUES LESS THAN MAXVALUE);
       INSERT INTO parted VALUES (1, 'a'), (20, 'b'), (30, 'c');`,
    );
    const env = { MYSQL_URL: `${server.url}moodle`, MY2PG_STALLED_INTERVAL_MS: '1000', MY2PG_LOCK_DURATION_MS: '3000' };
    const worker = followSandbox.worker(['--concurrency', '2'], { ...env, MY2PG_LOG_LEVEL: 'info' });
    try {
      await waitForOutput(worker, /workers ready/);
      const runId = await startRun(followSandbox, ['--follow'], env);
      const followState = async () => {
        const queue = await copyQueue(followSandbox);
        try {
          const state = await queue.getJobState(followJobId(runId));
          return { state, job: await queue.getJob(followJobId(runId)) };
        } finally {
          await queue.closeAll();
        }
      };
      await waitUntil('the follower to start', async () => (await followState()).state === 'active', 60_000, 100);
      // A partitioned table followed: updates and deletes reach the rows in its partitions.
      await admin.query(
        "UPDATE parted SET v = 'A' WHERE id = 1; UPDATE parted SET v = 'B' WHERE id = 20; DELETE FROM parted WHERE id = 30; INSERT INTO parted VALUES (5, 'e')",
      );
      const target = await followSandbox.pg();
      try {
        await waitUntil(
          'the partitioned table to follow',
          async () =>
            JSON.stringify((await target.query('SELECT id, v FROM public.parted ORDER BY id')).rows) ===
            JSON.stringify([
              { id: 1, v: 'A' },
              { id: 5, v: 'e' },
              { id: 20, v: 'B' },
            ]),
          30_000,
          100,
        );
      } finally {
        await target.end();
      }
      await admin.query('INSERT INTO log VALUES (3, 1), (7, 2)');
      const failed = await waitUntil(
        'the follow job to fail',
        async () => {
          const f = await followState();
          return f.state === 'failed' ? f.job : undefined;
        },
        30_000,
        100,
      );
      expect(failed?.failedReason).toMatch(
        /table log, key id=7: a later write put 2 into column edulevel, which its PostgreSQL column "public"\."log"\."edulevel" \(boolean\) cannot take/,
      );
      expect(failed?.failedReason).toMatch(/--column-type log\.edulevel=smallint/);
      // Stopped for good: nothing past the refused row was applied, and cutover refuses the run.
      const pgc = await followSandbox.pg();
      try {
        const { rows } = await pgc.query('SELECT id, edulevel FROM public.log ORDER BY id');
        expect(rows).toEqual([
          { id: 1, edulevel: false },
          { id: 2, edulevel: true },
        ]);
      } finally {
        await pgc.end();
      }
      const cut = await followSandbox.cli(['cutover', runId], env);
      expect(cut.code).toBe(2);
      expect(cut.stderr).toMatch(/stopped for good: table log, key id=7/);
    } finally {
      await admin.end();
      await stopProcess(worker);
    }
  }, 120_000);
});
