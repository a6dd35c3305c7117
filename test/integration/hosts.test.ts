import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual } from '../helpers/compare.js';
import { startRun, waitRunSettled, waitUntil } from '../helpers/faults.js';
import { createSandbox, waitForOutput, withDatabase, type Sandbox } from '../helpers/sandbox.js';

// Workers on other hosts: the producer has the migration file, a worker only its URLs. Another
// working directory stands in for another host (nothing of the producer's disk is there).
const WHERE = 'id % 3 <> 0';

let sandbox: Sandbox;
let producerDir: string;
let workerDir: string;
/** The target, to read the run's state. */
let pgc: pg.Client;

/** Waits for a background worker to exit and returns its code. */
function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.once('exit', r));
}

describe('workers on other hosts: nothing a worker needs lives only with the producer', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('hosts');
    producerDir = mkdtempSync(join(tmpdir(), 'my2pg-producer-'));
    workerDir = mkdtempSync(join(tmpdir(), 'my2pg-worker-'));
    const my = await sandbox.mysql();
    await my.query(
      'CREATE TABLE visits (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL, amount DECIMAL(10,2), seen DATETIME NOT NULL)',
    );
    const rows: string[] = [];
    for (let i = 1; i <= 3000; i += 1)
      rows.push(
        `(${i}, 'visit ${i}', ${i % 11 === 0 ? 'NULL' : (i * 0.75).toFixed(2)}, '2024-03-01 10:00:00' + INTERVAL ${i} MINUTE)`,
      );
    await my.query(`INSERT INTO visits VALUES ${rows.join(', ')}`);
    await my.query('ANALYZE TABLE visits');
    await my.end();
    pgc = await sandbox.pg();
  });
  afterAll(async () => {
    await pgc?.end();
    await sandbox?.dispose();
    for (const dir of [producerDir, workerDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a run started with a migration file (rename, where, ranges) is worked exact by a worker elsewhere with only the URLs; a worker on the wrong database or without its CA file is told at start (exit 2), one started early fails the jobs for good and retry goes on', async () => {
    const config = join(producerDir, 'my2pg.yaml');
    writeFileSync(
      config,
      `rangeRows: 500\nrename:\n  tables:\n    visits: site_visits\n  columns:\n    visits:\n      label: title\nwhere:\n  visits: ${JSON.stringify(WHERE)}\n`,
    );
    // A worker started before the run, its MySQL URL naming another database: the run's jobs fail
    // for good, saying which database the run reads (it would otherwise copy that one's tables).
    const early = sandbox.worker(
      ['--concurrency', '1'],
      { MYSQL_URL: withDatabase(sandbox.mysqlServerUrl, 'mysql') },
      workerDir,
    );
    await waitForOutput(early, /worker: ready/);
    const runId = await startRun(sandbox, ['--config', config]);
    const lastError = await waitUntil('the early worker to fail a job of the run for good', async () => {
      const r = await pgc.query<{ status: string; last_error: string | null }>(
        "SELECT status, last_error FROM my2pg.run_tables WHERE run_id = $1 AND table_name = 'visits'",
        [runId],
      );
      return r.rows[0]?.status === 'failed' ? r.rows[0].last_error : undefined;
    });
    expect(lastError).toContain(`run ${runId} copies MySQL database ${sandbox.name}, but this worker's source URL`);
    expect(lastError).toContain(`names database mysql: point it at ${sandbox.name} and retry the run`);
    early.kill('SIGTERM');
    expect(await exitOf(early)).toBe(0);

    // A worker whose MySQL URL names another database than the running run's: refused at start.
    const wrongDatabase = sandbox.worker([], { MYSQL_URL: withDatabase(sandbox.mysqlServerUrl, 'mysql') }, workerDir);
    expect(await exitOf(wrongDatabase), wrongDatabase.output()).toBe(2);
    expect(wrongDatabase.output()).toContain(
      `run ${runId} (schema public) copies MySQL database ${sandbox.name}, but this worker's source URL (MYSQL_URL, --source or the migration file) names database mysql`,
    );

    // A CA file that this host lacks: exit 2 before any job, naming the file, the variable and the fix.
    const noCa = sandbox.worker([], { MYSQL_URL: `${sandbox.mysqlUrl}?ssl-ca=/nonexistent/hosts-ca.pem` }, workerDir);
    expect(await exitOf(noCa), noCa.output()).toBe(2);
    expect(noCa.output()).toContain(
      'the MySQL URL (MYSQL_URL or --source): cannot read the file of ssl-ca (/nonexistent/hosts-ca.pem): ENOENT',
    );
    expect(noCa.output()).toContain('copy the file to /nonexistent/hosts-ca.pem on this host, or set ssl-ca');

    // A worker of another schema says which schema has a run in progress instead of waiting silently.
    const otherSchema = sandbox.worker([], { MY2PG_SCHEMA: 'elsewhere' }, workerDir);
    await waitForOutput(otherSchema, /worker: ready/);
    expect(otherSchema.output()).toContain(
      `no run in progress in schema elsewhere, whose jobs this worker takes; run ${runId} is in progress in schema public: start the worker with MY2PG_SCHEMA=public`,
    );
    otherSchema.kill('SIGTERM');
    expect(await exitOf(otherSchema)).toBe(0);

    // The worker: another directory, no migration file, only the environment's URLs.
    // Once pointed right, `retry` puts the failed jobs back and the run ends verified.
    const worker = sandbox.worker(['--concurrency', '2'], {}, workerDir);
    await waitForOutput(worker, /worker: ready/);
    try {
      const retried = await sandbox.cli(['retry', runId, '--no-work', '--wait']);
      expect(retried.code, retried.stdout + retried.stderr + worker.output()).toBe(0);
      expect(await waitRunSettled(pgc, runId), worker.output()).toBe('verified');
      // Split into range jobs, as the producer's file asked: the ranges came with the jobs.
      const ranges = await pgc.query<{ n: number }>(
        "SELECT (options->'ranges'->>'visits')::int AS n FROM my2pg.runs WHERE id = $1",
        [runId],
      );
      expect(ranges.rows[0]!.n).toBeGreaterThan(1);
    } finally {
      worker.kill('SIGTERM');
      await exitOf(worker);
    }
    const counts = await expectSidesEqual(sandbox, {
      table: 'visits',
      columns: ['id', 'label', 'amount', 'seen'],
      targetTable: 'site_visits',
      targetColumns: ['id', 'title', 'amount', 'seen'],
      where: WHERE,
    });
    expect(counts.visits).toBe(2000);
  });
});
