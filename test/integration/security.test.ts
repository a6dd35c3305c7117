import { randomBytes } from 'node:crypto';
import { queueContent } from '../helpers/queue.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopProcess } from '../helpers/faults.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;
const token = randomBytes(6).toString('hex');
// Characters that need URL encoding, so both spellings are searched for.
const PASSWORD = `Zq7@S3cr#t-${token}`;
const USER = `my2pg_sec_${randomBytes(3).toString('hex')}`;
const EVIL = 'x"; DROP TABLE victims; --';

function withCredentials(url: string): string {
  const u = new URL(url);
  u.username = USER;
  u.password = encodeURIComponent(PASSWORD);
  return u.toString();
}

/** Every spelling of the secret that could leak; the random token alone counts as a leak. */
const NEEDLES = [PASSWORD, encodeURIComponent(PASSWORD), token];

function leaks(text: string): string[] {
  return NEEDLES.filter((n) => text.includes(n));
}

describe('security', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('security');
    const my = await sandbox.mysql();
    await my.query('CREATE TABLE victims (id INT PRIMARY KEY, name VARCHAR(20))');
    await my.query("INSERT INTO victims VALUES (1, 'still here'), (2, 'me too')");
    await my.query('CREATE TABLE ?? (id INT PRIMARY KEY, ?? VARCHAR(40), note TEXT)', [
      EVIL,
      'na"me; DROP TABLE victims; --',
    ]);
    await my.query('INSERT INTO ?? VALUES (1, ?, ?), (2, ?, NULL)', [
      EVIL,
      "Robert'); DROP TABLE victims; --",
      'a\\tb',
      '"quoted"',
    ]);
    await my.query('CREATE TABLE breaks (id INT PRIMARY KEY, extra INT)');
    await my.query('INSERT INTO breaks VALUES (1, 1)');
    await my.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY ?`, [PASSWORD]);
    await my.query(`GRANT SELECT, SHOW VIEW ON \`${sandbox.name}\`.* TO '${USER}'@'%'`);
    await my.end();
    const pgc = await sandbox.pg();
    await pgc.query(`CREATE ROLE "${USER}" LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
    await pgc.query(`GRANT CREATE ON DATABASE "${sandbox.name}" TO "${USER}"`);
    await pgc.query(`GRANT ALL ON SCHEMA public TO "${USER}"`);
    await pgc.query(`SET ROLE "${USER}"`);
    await pgc.query('CREATE TABLE victims (id integer PRIMARY KEY, name varchar(20))');
    await pgc.query("INSERT INTO victims VALUES (99, 'target only')");
    // A target table missing a source column: its job fails for good, with an error message to scan.
    await pgc.query('CREATE TABLE breaks (id integer PRIMARY KEY)');
    await pgc.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
    const my = await (await import('mysql2/promise')).default.createConnection({ uri: sandbox.mysqlServerUrl });
    await my.query(`DROP USER IF EXISTS '${USER}'@'%'`);
    await my.end();
    const admin = new pg.Client({ connectionString: sandbox.pgServerUrl });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS "${USER}"`);
    await admin.end();
  });

  it('a migration with a distinctive password: not in the queue (Redis keys and values, or the rows of the queue schema), logs, CLI output, errors or the state tables', async () => {
    const env = {
      MYSQL_URL: withCredentials(sandbox.mysqlUrl),
      DATABASE_URL: withCredentials(sandbox.databaseUrl),
      MY2PG_LOG_LEVEL: 'trace',
    };
    const worker = sandbox.worker(['--concurrency', '2'], env);
    await waitForOutput(worker, /worker: ready/);
    const outputs: string[] = [];
    const started = await sandbox.cli(['start', '--wait', '--log-level', 'trace'], env);
    outputs.push(started.stdout, started.stderr);
    // One table failed for good (exit 1), so there is a failed job and an error message too.
    expect(started.code, started.stdout + started.stderr).toBe(1);
    expect(started.stdout).toMatch(/table breaks failed: .*extra/);
    const runId = /run (run-[\w.-]+): not verified/.exec(started.stdout)?.[1];
    expect(runId).toBeDefined();
    for (const args of [['status'], ['status', runId!, '--json'], ['retry', runId!, '--table', 'nope']]) {
      const r = await sandbox.cli(args, env);
      outputs.push(r.stdout, r.stderr);
    }
    // A refused connection prints the URL: redacted.
    const refused = await sandbox.cli(['start'], {
      ...env,
      DATABASE_URL: withCredentials(sandbox.databaseUrl).replace(':5432', ':1'),
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${USER}:***@127.0.0.1:1`);
    outputs.push(refused.stdout, refused.stderr);
    expect((await stopProcess(worker)).code).toBe(0);
    outputs.push(worker.output());

    const all = outputs.join('\n');
    expect(all).toContain(USER);
    expect(worker.output()).toMatch(/"level":(10|20|30)/);
    expect(leaks(all)).toEqual([]);

    const queued = await queueContent(sandbox);
    // Redis keeps several keys per job; the queue schema one row per job (and one per target).
    expect(queued.entries.length).toBeGreaterThan(sandbox.queueBackend === 'redis' ? 5 : 3);
    expect(queued.text).toContain('extra');
    expect(leaks(queued.text)).toEqual([]);

    const pgc = await sandbox.pg();
    try {
      const state = await pgc.query(
        `SELECT (SELECT json_agg(r) FROM my2pg.runs r)::text AS runs, (SELECT json_agg(t) FROM my2pg.run_tables t)::text AS tables`,
      );
      const text = `${state.rows[0].runs}\n${state.rows[0].tables}`;
      expect(text).toContain(`${USER}:***@`);
      expect(leaks(text)).toEqual([]);
    } finally {
      await pgc.end();
    }
  });

  it(`a source table named ${EVIL} migrates under that name; victims survives on both sides`, async () => {
    const result = await sandbox.cli(['run', '--exclude', 'breaks']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const pgc = await sandbox.pg();
    const my = await sandbox.mysql();
    try {
      const tables = await pgc.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(['breaks', 'victims', EVIL]);
      const evil = await pgc.query(
        `SELECT id::text, "na""me; DROP TABLE victims; --" AS name, note FROM public."x""; DROP TABLE victims; --" ORDER BY id`,
      );
      const [source] = await my.query('SELECT CAST(id AS CHAR) AS id, ?? AS name, note FROM ?? ORDER BY id', [
        'na"me; DROP TABLE victims; --',
        EVIL,
      ]);
      expect(evil.rows).toEqual(source);
      expect(evil.rows).toHaveLength(2);
      const victims = await pgc.query('SELECT id, name FROM victims ORDER BY id');
      expect(victims.rows).toEqual([
        { id: 1, name: 'still here' },
        { id: 2, name: 'me too' },
      ]);
      const [mysqlVictims] = await my.query('SELECT id, name FROM victims ORDER BY id');
      expect(mysqlVictims).toEqual(victims.rows);
    } finally {
      await pgc.end();
      await my.end();
    }
  });
});
