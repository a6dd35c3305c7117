import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyJobId } from '../../src/queue/contract.js';
import {
  createSlowTable,
  expectSameContent,
  startRun,
  stopProcess,
  waitRunSettled,
  waitUntil,
} from '../helpers/faults.js';
import { copyQueue } from '../helpers/queue.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// A job that stops moving inside a live worker: BullMQ renews its lock, so only my2pg's
// watchdog can end it. A MySQL table locked by another session stands in for a source that
// stops answering: the copy's SELECT waits on the lock and no row comes.
const TABLE = 'locked';
const ROWS = 5000;

let sandbox: Sandbox;
let queue: Awaited<ReturnType<typeof copyQueue>>;

describe('the watchdog', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('stall');
    await createSlowTable(sandbox, TABLE, ROWS, 1_000_000);
    queue = await copyQueue(sandbox);
  });
  afterAll(async () => {
    await queue?.closeAll();
    await sandbox?.dispose();
  });

  it('shows a copy with no row from MySQL as stalled, ends its attempt at --stall-timeout, and the retry ends exact once the lock goes', async () => {
    const runId = await startRun(sandbox, ['--tables', TABLE]);
    const locker = await sandbox.mysql();
    await locker.query(`LOCK TABLES \`${TABLE}\` WRITE`);
    const worker = sandbox.worker(['--concurrency', '1', '--stall-timeout', '3']);
    const jobId = copyJobId(runId, TABLE);
    try {
      await waitForOutput(worker, /worker: ready/);
      // Shown (status, Bull Board) before the watchdog acts.
      const shown = await waitUntil(
        'the job shown as stalled',
        async () => ((await queue.getJob(jobId))?.progress as { stalled?: { since: string; where: string } })?.stalled,
        30_000,
      );
      expect(shown.where).toBe(`reading the rows of ${TABLE}: no row from MySQL since the SELECT was sent`);
      expect(Number.isNaN(Date.parse(shown.since))).toBe(false);
      // Then it ends the attempt with a message naming where it waited.
      const ended = await waitUntil(
        'an attempt ended by the watchdog',
        async () => {
          const job = await queue.getJob(jobId);
          return job?.stacktrace?.find((s) => s.startsWith('StallError'));
        },
        30_000,
      );
      expect(ended).toContain(
        `stalled: no progress for 3 s (--stall-timeout) while reading the rows of ${TABLE}: no row from MySQL since the SELECT was sent`,
      );
      await locker.query('UNLOCK TABLES');
      const pgc = await sandbox.pg();
      try {
        expect(await waitRunSettled(pgc, runId)).toBe('verified');
      } finally {
        await pgc.end();
      }
      await expectSameContent(sandbox, TABLE, ROWS);
      const { logs } = await queue.getJobLogs(jobId);
      expect(logs.some((l) => /^attempt 1 ended by the watchdog: stalled: no progress for 3 s/.test(l))).toBe(true);
      const status = await sandbox.cli(['status', runId, '--json']);
      const table = (JSON.parse(status.stdout) as { tables: { table: string; watchdogAttempts: number }[] }).tables[0]!;
      expect(table.watchdogAttempts).toBe(1);
      const text = await sandbox.cli(['status', runId]);
      expect(text.stdout).toContain(`watchdog: 1 attempt ended for lack of progress (${TABLE} 1), retried`);
      // The worker lived through it.
      expect(worker.exitCode).toBeNull();
    } finally {
      await locker.end().catch(() => undefined);
      expect((await stopProcess(worker)).code).toBe(0);
    }
  });
});
