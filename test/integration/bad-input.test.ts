import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_TABLE_JOB } from '../../src/queue/contract.js';
import { startRun, stopProcess, waitUntil } from '../helpers/faults.js';
import { copyQueue, queueEntries } from '../helpers/queue.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// Bad input: one clear line on stderr, exit 2, nothing enqueued, nothing written to the target.
let sandbox: Sandbox;
const suffix = randomBytes(3).toString('hex');
const MYSQL_USER = `my2pg_bad_${suffix}`;
const MYSQL_PASSWORD = `Right-${suffix}`;
const PG_ROLE = `my2pg_ro_${suffix}`;

function withUser(url: string, user: string, password?: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password ?? '';
  return u.toString();
}

function withPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

async function expectRefused(
  result: { code: number | null; stdout: string; stderr: string },
  message: string | RegExp,
): Promise<void> {
  expect(result.code, result.stdout + result.stderr).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^my2pg: /);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
  // Nothing enqueued: not a single key of the prefix in Redis.
  expect(await queueEntries(sandbox)).toEqual([]);
  // Nothing written to the target: no table, no schema besides public, not even my2pg's state.
  const pgc = await sandbox.pg();
  try {
    const tables = await pgc.query(
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    expect(tables.rows).toEqual([]);
    const schemas = await pgc.query(
      `SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public', 'locked') ORDER BY 1`,
    );
    expect(schemas.rows).toEqual([]);
  } finally {
    await pgc.end();
  }
}

describe('bad input', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('badinput');
    const my = await sandbox.mysql();
    await my.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))');
    await my.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')");
    await my.query(`CREATE USER '${MYSQL_USER}'@'%' IDENTIFIED BY '${MYSQL_PASSWORD}'`);
    await my.query(`GRANT SELECT ON \`${sandbox.name}\`.* TO '${MYSQL_USER}'@'%'`);
    await my.end();
    const pgc = await sandbox.pg();
    // A schema this role may not write to (and may not even use).
    await pgc.query(`CREATE ROLE "${PG_ROLE}" LOGIN`);
    await pgc.query('CREATE SCHEMA locked');
    await pgc.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await pgc.end();
  });
  afterAll(async () => {
    const my = await sandbox.mysql();
    await my.query(`DROP USER IF EXISTS '${MYSQL_USER}'@'%'`);
    await my.end();
    await sandbox?.dispose();
    const admin = new (await import('pg')).default.Client({ connectionString: sandbox.pgServerUrl });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS "${PG_ROLE}"`);
    await admin.end();
  });

  it.each([
    [
      'a source that is not a URL',
      { MYSQL_URL: 'not a url' },
      'the MySQL URL (MYSQL_URL or --source) is not a valid URL',
    ],
    ['a source with the wrong scheme', { MYSQL_URL: 'http://root@127.0.0.1/db' }, 'must start with mysql://'],
    [
      'a source with no host',
      { MYSQL_URL: 'mysql://root@:3306/db' },
      /the MySQL URL .* (has no host|is not a valid URL)/,
    ],
    ['a source with no database', { MYSQL_URL: 'mysql://root@127.0.0.1:3306' }, 'names no database'],
    [
      'a target with the wrong scheme',
      { DATABASE_URL: 'mysql://postgres@127.0.0.1/db' },
      'must start with postgresql://',
    ],
    [
      'a Redis URL with a bad port',
      { REDIS_URL: 'redis://127.0.0.1:99999' },
      'the Redis URL (REDIS_URL or --redis) is not a valid URL',
    ],
    ['an unknown MySQL ssl-mode', {}, 'ssl-mode=SOMETIMES is not supported'],
    ['an unknown PostgreSQL sslmode', {}, 'sslmode=always is not supported'],
    ['a missing CA file', {}, 'cannot read the file of ssl-ca (/nonexistent/ca.pem): ENOENT'],
  ])('%s', async (label, env, message) => {
    const extra: NodeJS.ProcessEnv = { ...env };
    if (label === 'an unknown MySQL ssl-mode') extra.MYSQL_URL = `${sandbox.mysqlUrl}?ssl-mode=SOMETIMES`;
    if (label === 'an unknown PostgreSQL sslmode') extra.DATABASE_URL = `${sandbox.databaseUrl}?sslmode=always`;
    if (label === 'a missing CA file') extra.MYSQL_URL = `${sandbox.mysqlUrl}?ssl-ca=/nonexistent/ca.pem`;
    await expectRefused(await sandbox.cli(['start'], extra), message);
  });

  it('a wrong MySQL password: one line naming the source, password not shown', async () => {
    const url = withUser(sandbox.mysqlUrl, MYSQL_USER, 'Wrong-Pw-4417');
    const result = await sandbox.cli(['start'], { MYSQL_URL: url });
    await expectRefused(result, `cannot connect to the MySQL source mysql://${MYSQL_USER}:***@`);
    expect(result.stderr).toMatch(/Access denied/);
    expect(result.stderr).not.toContain('Wrong-Pw-4417');
  });

  it('a PostgreSQL role that does not exist (this server trusts every password)', async () => {
    const result = await sandbox.cli(['start'], {
      DATABASE_URL: withUser(sandbox.databaseUrl, 'nobody_here', 'Pw-0912'),
    });
    await expectRefused(result, 'cannot connect to the PostgreSQL target postgresql://nobody_here:***@');
    expect(result.stderr).toContain('role "nobody_here" does not exist');
    expect(result.stderr).not.toContain('Pw-0912');
  });

  it.each([
    ['MySQL', 'MYSQL_URL', 'cannot connect to the MySQL source'],
    ['PostgreSQL', 'DATABASE_URL', 'cannot connect to the PostgreSQL target'],
    ['Redis', 'REDIS_URL', 'cannot reach Redis at redis://127.0.0.1:1'],
  ])('an unreachable %s', async (_label, variable, message) => {
    const base =
      variable === 'MYSQL_URL'
        ? sandbox.mysqlUrl
        : variable === 'DATABASE_URL'
          ? sandbox.databaseUrl
          : sandbox.redisUrl;
    const result = await sandbox.cli(['start'], { [variable]: withPort(base, 1) });
    await expectRefused(result, message);
    expect(result.stderr).toMatch(/ECONNREFUSED|refused/i);
  });

  it('TLS required but the servers offer none: the ssl options are applied, and refused clearly', async () => {
    const mysqlTls = await sandbox.cli(['start'], { MYSQL_URL: `${sandbox.mysqlUrl}?ssl-mode=REQUIRED` });
    await expectRefused(
      mysqlTls,
      /cannot connect to the MySQL source .*ssl-mode=REQUIRED.*: .*(secure connection|SSL)/i,
    );
    const pgTls = await sandbox.cli(['start'], { DATABASE_URL: `${sandbox.databaseUrl}?sslmode=require` });
    await expectRefused(pgTls, /cannot connect to the PostgreSQL target .*sslmode=require.*: .*SSL/i);
  });

  it('an unknown --tables name', async () => {
    await expectRefused(
      await sandbox.cli(['start', '--tables', 'items,nope']),
      'unknown table in the MySQL source: --tables nope',
    );
  });

  it('a target schema that does not exist', async () => {
    await expectRefused(
      await sandbox.cli(['start', '--schema', 'missing_here']),
      'the target schema "missing_here" does not exist in PostgreSQL',
    );
  });

  it('a target schema the user cannot write to', async () => {
    const url = withUser(sandbox.databaseUrl, PG_ROLE);
    await expectRefused(
      await sandbox.cli(['start', '--schema', 'locked'], { DATABASE_URL: url }),
      'the PostgreSQL user cannot write to schema "locked"',
    );
    await expectRefused(
      await sandbox.cli(['start'], { DATABASE_URL: url }),
      'the PostgreSQL user cannot write to schema "public"',
    );
  });

  it('a job payload in Redis that does not match the schema fails for good, naming why', async () => {
    const worker = sandbox.worker(['--concurrency', '1']);
    await waitForOutput(worker, /worker: ready/);
    const queue = await copyQueue(sandbox);
    try {
      const job = await queue.add(
        COPY_TABLE_JOB,
        { runId: 'run-x', table: 42, batchSize: -1 },
        { attempts: 3, jobId: 'forged-1' },
      );
      const failed = await waitUntil(
        'the forged job to fail',
        async () => {
          // The state first, then the job: a job read just before it failed has no reason yet.
          if ((await queue.getJobState(job.id!)) !== 'failed') return undefined;
          return queue.getJob(job.id!);
        },
        30_000,
        100,
      );
      expect(failed.failedReason).toMatch(/^copy-table: invalid job payload \(/);
      expect(failed.failedReason).toContain('table:');
      expect(failed.failedReason).toContain('targetTable:');
      expect(failed.failedReason).toContain('batchSize:');
      // Unrecoverable: no retry although three attempts were allowed.
      expect(failed.attemptsMade).toBe(1);
    } finally {
      await queue.closeAll();
    }
    expect((await stopProcess(worker)).code).toBe(0);
  });

  it('after all that, a good start still works (the refusals left nothing behind)', async () => {
    const runId = await startRun(sandbox, []);
    expect(runId).toMatch(/^run-/);
  });
});
