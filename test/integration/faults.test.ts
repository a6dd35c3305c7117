import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attemptsOf,
  createSlowTable,
  expectSameContent,
  startRun,
  stopProcess,
  waitForRunningRun,
  waitMidCopy,
  waitRunSettled,
} from '../helpers/faults.js';
import { copyQueue, queueEntries } from '../helpers/queue.js';
import { copyJobId } from '../../src/queue/contract.js';
import { createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// Faults during a copy: each case ends with the table's content equal to the source's.
const ROWS = 300_000;
const TABLE = 'a_big';
// A killed worker's lock expires after 2 s and the survivor looks for stalled jobs every second.
const QUICK_STALL = { MY2PG_LOCK_DURATION_MS: '2000', MY2PG_STALLED_INTERVAL_MS: '1000' };

let sandbox: Sandbox;
let queue: Awaited<ReturnType<typeof copyQueue>>;

describe('faults during a copy', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('faults');
    await createSlowTable(sandbox, TABLE, ROWS, 10_000);
    queue = await copyQueue(sandbox);
  });
  afterAll(async () => {
    await queue?.closeAll();
    await sandbox?.dispose();
  });

  it('a worker SIGKILLed mid-table: another worker recovers the job (stalled-job detection), exact', async () => {
    const runId = await startRun(sandbox, ['--tables', TABLE]);
    const first = sandbox.worker(['--concurrency', '1'], QUICK_STALL);
    await waitForOutput(first, /worker: ready/);
    const at = await waitMidCopy(sandbox, queue, copyJobId(runId, TABLE), ROWS);
    expect(at.rows).toBeLessThan(ROWS);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));

    const second = sandbox.worker(['--concurrency', '1'], QUICK_STALL);
    const pgc = await sandbox.pg();
    try {
      expect(await waitRunSettled(pgc, runId)).toBe('verified');
      // The first attempt died with its worker; the second started over with TRUNCATE.
      expect(await attemptsOf(pgc, runId, TABLE)).toBe(2);
      const job = await queue.getJob(copyJobId(runId, TABLE));
      expect(await job?.getState()).toBe('completed');
    } finally {
      await pgc.end();
    }
    await expectSameContent(sandbox, TABLE, ROWS);
    expect((await stopProcess(second)).code).toBe(0);
  });

  it('the PostgreSQL backend of a running COPY is terminated: the job retries, exact', async () => {
    const runId = await startRun(sandbox, ['--tables', TABLE]);
    const worker = sandbox.worker(['--concurrency', '1']);
    const pgc = await sandbox.pg();
    try {
      await waitMidCopy(sandbox, queue, copyJobId(runId, TABLE), ROWS);
      const killed = await pgc.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY %' AND pid <> pg_backend_pid()`,
      );
      expect(killed.rows).toEqual([{ ok: true }]);
      expect(await waitRunSettled(pgc, runId)).toBe('verified');
      expect(await attemptsOf(pgc, runId, TABLE)).toBe(2);
      const job = await queue.getJob(copyJobId(runId, TABLE));
      expect(job?.attemptsMade).toBe(2);
    } finally {
      await pgc.end();
    }
    await expectSameContent(sandbox, TABLE, ROWS);
    expect((await stopProcess(worker)).code).toBe(0);
  });

  it('the MySQL connection of a running read is killed (KILL <id>): the job retries, exact', async () => {
    const runId = await startRun(sandbox, ['--tables', TABLE]);
    const worker = sandbox.worker(['--concurrency', '1']);
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      await waitMidCopy(sandbox, queue, copyJobId(runId, TABLE), ROWS);
      const [rows] = await my.query(
        `SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND info LIKE 'SELECT %FROM \`${TABLE}\`%' AND id <> CONNECTION_ID()`,
      );
      const ids = (rows as { id: number }[]).map((r) => r.id);
      expect(ids).toHaveLength(1);
      await my.query('KILL ?', [ids[0]]);
      expect(await waitRunSettled(pgc, runId)).toBe('verified');
      expect(await attemptsOf(pgc, runId, TABLE)).toBe(2);
    } finally {
      await my.end();
      await pgc.end();
    }
    await expectSameContent(sandbox, TABLE, ROWS);
    expect((await stopProcess(worker)).code).toBe(0);
  });

  it('rows inserted and deleted in MySQL during the copy: verification reports it, the run is not verified', async () => {
    const worker = sandbox.worker(['--concurrency', '1']);
    await waitForOutput(worker, /worker: ready/);
    const waiting = sandbox.cli(['start', '--wait', '--tables', TABLE]);
    const runId = await waitForRunningRun(sandbox);
    await waitMidCopy(sandbox, queue, copyJobId(runId, TABLE), ROWS);
    const my = await sandbox.mysql();
    // The copy reads a consistent snapshot, so these changes are not in the target.
    await my.query(
      `INSERT INTO \`${TABLE}\` (id, a, b) VALUES (900001, 1, 'late-1'), (900002, 2, 'late-2'), (900003, 3, 'late-3')`,
    );
    await my.query(`DELETE FROM \`${TABLE}\` WHERE id IN (5, 6)`);
    const result = await waiting;
    try {
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toContain(`run ${runId}: not verified`);
      expect(result.stdout).not.toContain('every table copied and verified');
      const pgc = await sandbox.pg();
      try {
        const run = await pgc.query('SELECT status FROM my2pg.runs WHERE id = $1', [runId]);
        expect(run.rows[0].status).toBe('not_verified');
        const table = await pgc.query(
          `SELECT status, verification->>'status' AS verdict FROM my2pg.run_tables WHERE run_id = $1 AND table_name = $2`,
          [runId, TABLE],
        );
        expect(table.rows[0]).toEqual({ status: 'copied', verdict: 'mismatch' });
      } finally {
        await pgc.end();
      }
    } finally {
      // Put the source back as the other cases expect it.
      await my.query(`DELETE FROM \`${TABLE}\` WHERE id > 900000`);
      await my.query(
        `INSERT INTO \`${TABLE}\` SELECT seq, seq * 7 % 1000, CONCAT('row-', seq), IF(seq % 10 = 0, NULL, '2024-01-01' + INTERVAL seq SECOND) FROM seq_5_to_6`,
      );
      await my.end();
    }
    expect((await stopProcess(worker)).code).toBe(0);
  });

  it('a value UPDATEd in MySQL during the copy (same row count): checksums report the row, the run is not verified', async () => {
    const worker = sandbox.worker(['--concurrency', '1']);
    await waitForOutput(worker, /worker: ready/);
    const waiting = sandbox.cli(['start', '--wait', '--tables', TABLE]);
    const runId = await waitForRunningRun(sandbox);
    await waitMidCopy(sandbox, queue, copyJobId(runId, TABLE), ROWS);
    const my = await sandbox.mysql();
    await my.query(`UPDATE \`${TABLE}\` SET b = 'changed' WHERE id = 7`);
    const result = await waiting;
    try {
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toContain(`run ${runId}: not verified`);
      expect(result.stdout).toMatch(/row id=7 differs in b/);
      const pgc = await sandbox.pg();
      try {
        const run = await pgc.query('SELECT status FROM my2pg.runs WHERE id = $1', [runId]);
        expect(run.rows[0].status).toBe('not_verified');
        const table = await pgc.query(
          `SELECT status, verification->>'status' AS verdict, source_rows, target_rows FROM my2pg.run_tables WHERE run_id = $1 AND table_name = $2`,
          [runId, TABLE],
        );
        expect(table.rows[0]).toMatchObject({
          status: 'copied',
          verdict: 'mismatch',
          source_rows: String(ROWS),
          target_rows: String(ROWS),
        });
      } finally {
        await pgc.end();
      }
    } finally {
      await my.query(`UPDATE \`${TABLE}\` SET b = 'row-7' WHERE id = 7`);
      await my.end();
    }
    expect((await stopProcess(worker)).code).toBe(0);
  });

  it('a second start for the same target while a run is active is refused; nothing enqueued, nothing written', async () => {
    // No worker yet: the first run's jobs wait in Redis, so it is active.
    const first = await startRun(sandbox, ['--tables', TABLE]);
    const keysBefore = await queueEntries(sandbox);
    const second = await sandbox.cli(['start', '--tables', TABLE]);
    expect(second.code).toBe(2);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toContain(`run ${first} (started`);
    expect(second.stderr).toContain('is still active on schema "public"');
    expect(second.stderr).toContain(`npx my2pg status ${first}`);
    // No new key (locks of earlier jobs may have expired meanwhile, so fewer is fine).
    const keysAfter = await queueEntries(sandbox);
    expect(keysAfter.filter((k) => !keysBefore.includes(k))).toEqual([]);

    // Two starts at the same moment: the advisory lock or the active run lets one through.
    const [a, b] = await Promise.all([
      sandbox.cli(['start', '--tables', TABLE]),
      sandbox.cli(['start', '--tables', TABLE]),
    ]);
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([2, 2]);

    const pgc = await sandbox.pg();
    try {
      const runs = await pgc.query(`SELECT id FROM my2pg.runs WHERE status = 'running'`);
      expect(runs.rows).toEqual([{ id: first }]);
      // The refused starts wrote nothing: the first run still completes alone, exact.
      const worker = sandbox.worker(['--concurrency', '1']);
      expect(await waitRunSettled(pgc, first)).toBe('verified');
      expect((await stopProcess(worker)).code).toBe(0);
    } finally {
      await pgc.end();
    }
    await expectSameContent(sandbox, TABLE, ROWS);

    // Once it finished, a new start goes through; two at once: exactly one wins.
    const [c, d] = await Promise.all([
      sandbox.cli(['start', '--tables', TABLE]),
      sandbox.cli(['start', '--tables', TABLE]),
    ]);
    expect([c.code, d.code].sort(), c.stderr + d.stderr).toEqual([0, 2]);
    const loser = c.code === 2 ? c : d;
    expect(loser.stderr).toMatch(/another my2pg start is preparing a run|is still active on schema "public"/);
    const winner = (c.code === 0 ? c : d).stdout.trim();

    // A retry of the finished run would truncate the new run's table: refused too.
    const retry = await sandbox.cli(['retry', first]);
    expect(retry.code).toBe(2);
    expect(retry.stderr).toContain(`run ${winner} (started`);
    expect(retry.stderr).toContain(`retrying run ${first} would truncate the same tables, so nothing was retried`);
  });
});
