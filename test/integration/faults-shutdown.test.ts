import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attemptsOf,
  createSlowTable,
  expectSameContent,
  startPrivateRedis,
  startRun,
  stopProcess,
  waitForRunningRun,
  waitMidCopy,
  waitRunSettled,
  type PrivateRedis,
} from '../helpers/faults.js';
import { copyQueue } from '../helpers/queue.js';
import { copyJobId } from '../../src/queue/contract.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// Shutdown signals and Redis outages; each case ends with the tables equal to the source.
const ROWS = 300_000;
const BIG = 'a_big';
const SIDE = 'b_side';

let sandbox: Sandbox;
let queue: Awaited<ReturnType<typeof copyQueue>>;

describe('worker shutdown and Redis outages', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('shutdown');
    await createSlowTable(sandbox, BIG, ROWS, 10_000);
    await createSlowTable(sandbox, SIDE, 1_000, 1_000_000);
    queue = await copyQueue(sandbox);
  });
  afterAll(async () => {
    await queue?.closeAll();
    await sandbox?.dispose();
  });

  it('SIGTERM: the worker takes no new job, finishes the active one within the grace period, exits 0', async () => {
    const runId = await startRun(sandbox, []);
    const worker = sandbox.worker(['--concurrency', '1'], { MY2PG_SHUTDOWN_GRACE_MS: '60000' });
    await waitMidCopy(sandbox, queue, copyJobId(runId, BIG), ROWS);
    // Tables are queued in name order, so the side table waits behind the big one.
    expect(await (await queue.getJob(copyJobId(runId, SIDE)))?.getState()).toBe('waiting');
    const stopped = await stopProcess(worker, 'SIGTERM');
    expect(stopped.code, worker.output()).toBe(0);
    expect(await (await queue.getJob(copyJobId(runId, BIG)))?.getState()).toBe('completed');
    expect(await (await queue.getJob(copyJobId(runId, SIDE)))?.getState()).toBe('waiting');

    const next = sandbox.worker(['--concurrency', '1']);
    const pgc = await sandbox.pg();
    try {
      expect(await waitRunSettled(pgc, runId)).toBe('verified');
      expect(await attemptsOf(pgc, runId, BIG)).toBe(1);
    } finally {
      await pgc.end();
    }
    await expectSameContent(sandbox, BIG, ROWS);
    await expectSameContent(sandbox, SIDE, 1_000);
    expect((await stopProcess(next)).code).toBe(0);
  });

  it('SIGTERM with a short grace period: the active job is handed back at once, exit 0; another worker finishes it', async () => {
    const runId = await startRun(sandbox, ['--tables', BIG]);
    const worker = sandbox.worker(['--concurrency', '1'], { MY2PG_SHUTDOWN_GRACE_MS: '300' });
    const at = await waitMidCopy(sandbox, queue, copyJobId(runId, BIG), ROWS);
    const stopped = await stopProcess(worker, 'SIGTERM');
    expect(stopped.code, worker.output()).toBe(0);
    expect(stopped.ms).toBeLessThan(5_000);
    // Back in the wait list, not left active until its lock expires.
    const job = await queue.getJob(copyJobId(runId, BIG));
    expect(await job?.getState()).toBe('waiting');
    expect(at.rows).toBeLessThan(ROWS);

    const next = sandbox.worker(['--concurrency', '1']);
    const pgc = await sandbox.pg();
    try {
      expect(await waitRunSettled(pgc, runId)).toBe('verified');
      expect(await attemptsOf(pgc, runId, BIG)).toBe(2);
    } finally {
      await pgc.end();
    }
    await expectSameContent(sandbox, BIG, ROWS);
    expect((await stopProcess(next)).code).toBe(0);
  });

  it('a second signal forces the shutdown: the job is handed back, another worker finishes it', async () => {
    const runId = await startRun(sandbox, ['--tables', BIG]);
    const worker = sandbox.worker(['--concurrency', '1'], { MY2PG_SHUTDOWN_GRACE_MS: '60000' });
    await waitMidCopy(sandbox, queue, copyJobId(runId, BIG), ROWS);
    const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
    const started = Date.now();
    worker.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    worker.kill('SIGTERM');
    const code = await exited;
    expect(code, worker.output()).toBe(130);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await (await queue.getJob(copyJobId(runId, BIG)))?.getState()).toBe('waiting');

    const next = sandbox.worker(['--concurrency', '1']);
    const pgc = await sandbox.pg();
    try {
      expect(await waitRunSettled(pgc, runId)).toBe('verified');
    } finally {
      await pgc.end();
    }
    await expectSameContent(sandbox, BIG, ROWS);
    expect((await stopProcess(next)).code).toBe(0);
  });

  describe('on a private Redis', () => {
    let redis: PrivateRedis;
    let privateQueue: Awaited<ReturnType<typeof copyQueue>>;
    beforeAll(async () => {
      redis = await startPrivateRedis();
      privateQueue = await copyQueue(sandbox, redis.url);
    });
    afterAll(async () => {
      await privateQueue?.closeAll();
      await redis?.dispose();
    });

    it('Redis restarted mid-run: workers and the waiting CLI reconnect, the run completes, exact', async () => {
      const env = { REDIS_URL: redis.url };
      const worker = sandbox.worker(['--concurrency', '2'], env);
      await waitForOutput(worker, /worker: ready/);
      const waiting = sandbox.cli(['start', '--wait'], env, 120_000);
      const runId = await waitForRunningRun(sandbox);
      await waitMidCopy(sandbox, privateQueue, copyJobId(runId, BIG), ROWS);
      await redis.kill();
      // Longer than a command's reconnect attempts (~1.5 s), so the waiting CLI sees it fail.
      await new Promise((r) => setTimeout(r, 4000));
      await redis.start();
      const result = await waiting;
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain(`run ${runId}: every table copied and verified`);
      expect(result.stderr).toContain('Redis is unreachable');
      await expectSameContent(sandbox, BIG, ROWS);
      await expectSameContent(sandbox, SIDE, 1_000);
      expect((await stopProcess(worker)).code).toBe(0);
    });

    it('every Redis client connection killed mid-run (CLIENT KILL): the run completes, exact', async () => {
      const env = { REDIS_URL: redis.url };
      const worker = sandbox.worker(['--concurrency', '2'], env);
      await waitForOutput(worker, /worker: ready/);
      const waiting = sandbox.cli(['start', '--wait'], env, 120_000);
      const runId = await waitForRunningRun(sandbox);
      await waitMidCopy(sandbox, privateQueue, copyJobId(runId, BIG), ROWS);
      const admin = new Redis(redis.url);
      try {
        const killed = await admin.client('KILL', 'TYPE', 'normal');
        expect(Number(killed)).toBeGreaterThanOrEqual(3);
      } finally {
        admin.disconnect();
      }
      const result = await waiting;
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain(`run ${runId}: every table copied and verified`);
      await expectSameContent(sandbox, BIG, ROWS);
      expect((await stopProcess(worker)).code).toBe(0);
    });
  });
});
