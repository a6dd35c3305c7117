import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyJobId } from '../../src/queue/contract.js';
import { createSlowTable, expectSameContent, stopProcess, waitForRunningRun, waitMidCopy } from '../helpers/faults.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { copyQueue } from '../helpers/queue.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// The target database restarts in the middle of a run. With the queue in the target (the
// default) the queue goes down and comes back with it; the workers and the waiting CLI must
// live through it, and the run must end exact. (With MY2PG_TEST_QUEUE=redis only the data goes.)
const ROWS = 200_000;
const BIG = 'a_big';

let base: Sandbox;
let target: PrivatePostgres;
/** The sandbox with its target on the private PostgreSQL. */
let sandbox: Sandbox;

describe('the target restarts mid-run', () => {
  beforeAll(async () => {
    base = await createSandbox('restart');
    target = await startPrivatePostgres();
    const admin = new pg.Client({ connectionString: target.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${base.name}"`);
    await admin.end();
    const url = new URL(target.url);
    url.pathname = `/${base.name}`;
    const databaseUrl = url.toString();
    sandbox = {
      ...base,
      databaseUrl,
      pgServerUrl: target.url,
      env: { ...base.env, DATABASE_URL: databaseUrl },
      cli: (args, extraEnv = {}, timeoutMs) => base.cli(args, { DATABASE_URL: databaseUrl, ...extraEnv }, timeoutMs),
      worker: (args, extraEnv = {}) => base.worker(args, { DATABASE_URL: databaseUrl, ...extraEnv }),
      pg: async () => {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        return client;
      },
    };
    await createSlowTable(sandbox, BIG, ROWS, 10_000);
  });
  afterAll(async () => {
    await base?.dispose();
    await target?.stop();
  });

  it('workers and the waiting CLI reconnect, the copy is retried, the run completes, exact', async () => {
    const worker = sandbox.worker(['--concurrency', '2']);
    await waitForOutput(worker, /worker: ready/);
    const waiting = sandbox.cli(['start', '--wait'], {}, 180_000);
    const runId = await waitForRunningRun(sandbox);
    const queue = await copyQueue(sandbox);
    try {
      await waitMidCopy(sandbox, queue, copyJobId(runId, BIG), ROWS);
    } finally {
      await queue.closeAll();
    }
    await target.restart();
    const result = await waiting;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`run ${runId}: every table copied and verified`);
    await expectSameContent(sandbox, BIG, ROWS);
    // The worker lived through it and still works: a second run on it completes too.
    expect(worker.exitCode).toBeNull();
    const again = await sandbox.cli(['start', '--wait', '--tables', BIG], {}, 120_000);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await expectSameContent(sandbox, BIG, ROWS);
    expect((await stopProcess(worker)).code).toBe(0);
  });
});
