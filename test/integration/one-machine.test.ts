import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyJobId } from '../../src/queue/contract.js';
import { expectSidesEqual, SEED_TABLES } from '../helpers/compare.js';
import {
  createSlowTable,
  expectSameContent,
  queueNamesOf,
  stopProcess,
  waitMidCopy,
  waitUntil,
} from '../helpers/faults.js';
import { copyQueue, queueEntries } from '../helpers/queue.js';
import { BIN, createSeedSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';
import { cliOnTty } from '../helpers/terminal.js';

// One machine, start to finish, as a new user meets it: `run` and the commands it prints after
// a failure or an interruption (retry, resume, cancel), with no worker anywhere; two runs of
// two targets sharing one Redis and one prefix; log lines on a terminal and in a pipe.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `my2pg …` in the background, its output collected. */
function background(
  sandbox: Sandbox,
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): ChildProcess & { output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...sandbox.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return Object.assign(child, { output: () => output, exited });
}

async function expectSeedEqual(sandbox: Sandbox): Promise<void> {
  await expectSidesEqual(sandbox, SEED_TABLES);
}

/** Every constraint and index of schema public, with its definition and whether it is validated. */
async function schemaShape(sandbox: Sandbox): Promise<string[]> {
  const pgc = await sandbox.pg();
  try {
    const constraints = await pgc.query(
      `SELECT conrelid::regclass::text || ' ' || conname || ' ' || contype::text || ' ' || convalidated::text || ' ' || pg_get_constraintdef(oid) AS d
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('f', 'u', 'p', 'x', 'c') ORDER BY 1`,
    );
    const indexes = await pgc.query(
      `SELECT indexdef AS d FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`,
    );
    return [...constraints.rows.map((r: { d: string }) => r.d), ...indexes.rows.map((r: { d: string }) => r.d)];
  } finally {
    await pgc.end();
  }
}

async function runStatus(sandbox: Sandbox, runId: string): Promise<string | undefined> {
  const pgc = await sandbox.pg();
  try {
    return (await pgc.query('SELECT status FROM my2pg.runs WHERE id = $1', [runId])).rows[0]?.status as
      | string
      | undefined;
  } finally {
    await pgc.end();
  }
}

/** Waits until every table of the run but `slow` is copied: what a fault lands after. */
async function waitOthersCopied(sandbox: Sandbox, runId: string, slow: string): Promise<void> {
  await waitUntil(
    `the tables of ${runId} other than ${slow} to be copied`,
    async () => {
      const pgc: pg.Client = await sandbox.pg();
      try {
        const r = await pgc.query(
          `SELECT count(*) FILTER (WHERE status <> 'copied')::int AS open, count(*)::int AS n FROM my2pg.run_tables WHERE run_id = $1 AND table_name <> $2`,
          [runId, slow],
        );
        return r.rows[0].n > 0 && r.rows[0].open === 0;
      } finally {
        await pgc.end();
      }
    },
    60_000,
    100,
  );
}

function runIdIn(text: string): string {
  const id = /run (run-[\w.-]+): \d+ tables enqueued/.exec(text)?.[1];
  expect(id, text).toBeDefined();
  return id!;
}

describe('a table fails on one machine', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await createSeedSandbox('om_fail');
    const pgc = await sandbox.pg();
    await pgc.query('ALTER TABLE users DROP COLUMN profile_message');
    await pgc.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('on a terminal the failure is a human line under the bars, in a pipe a JSON line; the printed retry command, run as printed with no worker, finishes the run verified', async () => {
    expect(
      () => execFileSync('script', ['--version'], { stdio: 'ignore' }),
      'util-linux script is needed for a pseudo terminal',
    ).not.toThrow();
    const onTty = await cliOnTty(sandbox, ['run']);
    expect(onTty.code, onTty.screen).toBe(1);
    const lines = onTty.screen.split(/\r?\n/).map((l) => l.replace(/\x1b\[[0-9]*[A-Za-z]/g, '').replace(/\r/g, ''));
    expect(
      lines.some((l) => /^error users: copy failed: table users: .*has no column "profile_message"/.test(l)),
      onTty.screen,
    ).toBe(true);
    expect(onTty.screen).not.toContain('{"level"');
    // The bars went on below the log line: a frame was drawn after it.
    const logAt = lines.findIndex((l) => l.startsWith('error users: copy failed'));
    expect(
      lines.slice(logAt + 1).some((l) => /^\[\d\/5 done/.test(l)),
      onTty.screen,
    ).toBe(true);

    // Through a pipe (the first run's tables all failed for good, so it blocks nothing).
    const piped = await sandbox.cli(['run']);
    expect(piped.code, piped.stdout + piped.stderr).toBe(1);
    const json = piped.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; table?: string; err?: string });
    expect(
      json.find((l) => l.msg === 'copy failed'),
      piped.stderr,
    ).toMatchObject({ level: 50, table: 'users' });
    expect(piped.stderr).not.toMatch(/^error users:/m);

    const hint = /fix the cause, then: (npx my2pg retry .*)$/m.exec(piped.stdout)?.[1];
    expect(hint, piped.stdout).toBeDefined();
    const words = hint!.split(' ');
    expect(words.slice(0, 2)).toEqual(['npx', 'my2pg']);
    const fix = await sandbox.pg();
    await fix.query('ALTER TABLE users ADD COLUMN profile_message TEXT');
    await fix.end();
    // Exactly as printed, no worker running anywhere.
    const retried = await sandbox.cli(words.slice(2));
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(retried.stderr).toMatch(
      /no worker is connected to queue copy\.my2pg_t_om_fail_\w+\.public\.[0-9a-f]{8}: processing the run's jobs in this process/,
    );
    expect(retried.stdout).toContain('every table copied and verified');
    const runId = words[3]!;
    expect(await runStatus(sandbox, runId)).toBe('verified');
    await expectSeedEqual(sandbox);
    const check = await sandbox.pg();
    try {
      const fks = await check.query(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'public'::regnamespace`,
      );
      expect(fks.rows[0].n).toBe(5);
    } finally {
      await check.end();
    }
  });

  it('a wait with no worker says so after 30 s, naming how to start one; the named resume then finishes the run here', async () => {
    const waiting = background(sandbox, ['start', '--wait', '--tables', 'scores']);
    await waitForOutput(waiting, /tables enqueued/);
    const runId = runIdIn(waiting.output());
    const names = await queueNamesOf(sandbox);
    const started = Date.now();
    await waitForOutput(waiting, /no worker has been connected to queue/, 60_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25_000);
    const notice = waiting
      .output()
      .split('\n')
      .find((l) => l.includes('no worker has been connected'))!;
    expect(notice).toMatch(
      new RegExp(
        `^no worker has been connected to queue ${names.copy.replace(/\./g, '\\.')} for \\d+ s, so the run's jobs wait; start one .*: npx my2pg worker; or press Ctrl-C and process the jobs here with: npx my2pg resume ${runId} --work$`,
      ),
    );
    // One line, not one per poll.
    expect(waiting.output().split('no worker has been connected').length).toBe(2);
    waiting.kill('SIGINT');
    await waiting.exited;
    const resumed = await sandbox.cli(notice.slice(notice.indexOf('npx my2pg resume')).split(' ').slice(2));
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("--work: processing the run's jobs in this process");
    expect(resumed.stdout).toContain(`run ${runId}: every table copied and verified`);
    await expectSeedEqual(sandbox);
  });
});

describe('an interrupted run is never a dead end', () => {
  const ROWS = 300_000;
  const SLOW = 'a_big';
  // The slow table's copy stops at row 100,000 while this advisory lock is held (its trigger
  // waits for it), so a fault lands mid-copy however loaded the machine is.
  const GATE = 4242;
  let sandbox: Sandbox;
  let queue: Awaited<ReturnType<typeof copyQueue>>;
  let gate: pg.Client;
  let before: string[];
  beforeAll(async () => {
    sandbox = await createSeedSandbox('om_int');
    await createSlowTable(sandbox, SLOW, ROWS, 50_000);
    const pgc = await sandbox.pg();
    await pgc.query(`CREATE INDEX a_big_a ON ${SLOW} (a)`);
    await pgc.query(`CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_lock_shared(${GATE});
        PERFORM pg_advisory_unlock_shared(${GATE});
        RETURN NEW;
      END $$`);
    await pgc.query(
      `CREATE TRIGGER gate BEFORE INSERT ON ${SLOW} FOR EACH ROW WHEN (NEW.id = 100000) EXECUTE FUNCTION gate()`,
    );
    await pgc.end();
    gate = await sandbox.pg();
    queue = await copyQueue(sandbox);
    before = await schemaShape(sandbox);
  });
  afterAll(async () => {
    await gate?.end();
    await queue?.closeAll();
    await sandbox?.dispose();
  });
  const closeGate = () => gate.query('SELECT pg_advisory_lock($1)', [GATE]);
  // A stopped copy's backend may still wait at the gate (its client is gone): opening it lets
  // the backend see that and roll back.
  const openGate = () => gate.query('SELECT pg_advisory_unlock($1)', [GATE]);

  /** `run` in the background, interrupted by SIGINT in the middle of the slow table. */
  async function interruptedRun(): Promise<{ runId: string; output: string }> {
    await closeGate();
    const run = background(sandbox, ['run', '--concurrency', '2']);
    await waitForOutput(run, /tables enqueued/);
    const runId = runIdIn(run.output());
    await waitOthersCopied(sandbox, runId, SLOW);
    const at = await waitMidCopy(sandbox, queue, copyJobId(runId, SLOW), ROWS);
    run.kill('SIGINT');
    expect(await run.exited, run.output()).toBe(130);
    await openGate();
    // The load ran without the foreign keys and secondary indexes (read once the copy's
    // backend, which held the slow table, is gone).
    expect(await schemaShape(sandbox)).not.toEqual(before);
    // Still unfinished: the slow table's copy was stopped, not committed.
    const pgc = await sandbox.pg();
    const tables = await pgc
      .query('SELECT table_name, status FROM my2pg.run_tables WHERE run_id = $1 ORDER BY 1', [runId])
      .finally(() => pgc.end());
    const job = await queue.getJob(copyJobId(runId, SLOW));
    const seen = `${JSON.stringify(at)} ${await job?.getState()} ${JSON.stringify(tables.rows)} ${run.output()}`;
    expect(await runStatus(sandbox, runId), seen).toBe('running');
    expect(await job?.getState(), seen).toBe('waiting');
    return { runId, output: run.output() };
  }

  it('Ctrl-C during run names resume and cancel; run is refused naming both; resume finishes it exact', async () => {
    const { runId, output } = await interruptedRun();
    expect(output).toContain(`npx my2pg resume ${runId}`);
    expect(output).toContain(`npx my2pg cancel ${runId}`);

    const again = await sandbox.cli(['run']);
    expect(again.code, again.stdout + again.stderr).toBe(2);
    expect(again.stderr).toContain(`run ${runId}`);
    expect(again.stderr).toContain(`npx my2pg resume ${runId}`);
    expect(again.stderr).toContain(`npx my2pg cancel ${runId}`);

    const resumed = await sandbox.cli(['resume', runId]);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      /no worker is connected to queue copy\.\S+: processing the run's jobs in this process/,
    );
    expect(resumed.stdout).toContain(`run ${runId}: every table copied and verified`);
    expect(await runStatus(sandbox, runId)).toBe('verified');
    await expectSameContent(sandbox, SLOW, ROWS);
    await expectSeedEqual(sandbox);
    expect(await schemaShape(sandbox)).toEqual(before);
  });

  it('cancel of an interrupted run: asks for --yes without a terminal, then removes every job, restores every constraint and index, and the run can be neither resumed nor retried', async () => {
    const { runId } = await interruptedRun();
    expect((await queueEntries(sandbox)).filter((k) => k.includes(runId)).length).toBeGreaterThan(0);

    const unconfirmed = await sandbox.cli(['cancel', runId]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(`npx my2pg cancel ${runId} --yes`);
    // On a terminal it asks; anything but yes keeps the run.
    const declined = await cliOnTty(sandbox, ['cancel', runId], {
      timeoutMs: 60_000,
      reply: { prompt: '[y/N]', answer: 'n\r' },
    });
    expect(declined.code, declined.screen).toBe(2);
    expect(declined.screen).toMatch(
      new RegExp(`cancel run ${runId} \\(schema public, \\d/6 tables copied\\): remove its jobs`),
    );
    expect(declined.screen).toContain(`run ${runId}: not cancelled`);
    expect(await runStatus(sandbox, runId)).toBe('running');

    const cancelled = await sandbox.cli(['cancel', runId, '--yes']);
    expect(cancelled.code, cancelled.stdout + cancelled.stderr).toBe(0);
    expect(cancelled.stdout).toMatch(/removed \d+ jobs of run/);
    expect(cancelled.stdout).toMatch(/restored \d+ indexes and 5 foreign keys/);
    expect(cancelled.stdout).toContain(`run ${runId}: cancelled`);
    expect((await queueEntries(sandbox)).filter((k) => k.includes(runId))).toEqual([]);
    expect(await schemaShape(sandbox)).toEqual(before);
    expect(await runStatus(sandbox, runId)).toBe('cancelled');

    const resume = await sandbox.cli(['resume', runId]);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toContain(`run ${runId} was cancelled`);
    const retry = await sandbox.cli(['retry', runId, '--wait']);
    expect(retry.code).toBe(2);
    expect(retry.stderr).toContain(`run ${runId} was cancelled`);
    // The slow table's copy was rolled back: it holds what the last good run left.
    await expectSameContent(sandbox, SLOW, ROWS);
  });

  it('cancel while a worker in another process copies: the worker stops the job and rolls back, and lives on; a new run then succeeds', async () => {
    const start = await sandbox.cli(['start', '--tables', SLOW]);
    expect(start.code, start.stderr).toBe(0);
    const runId = start.stdout.trim();
    await closeGate();
    const worker = sandbox.worker(['--concurrency', '1']);
    await waitForOutput(worker, /worker: ready/);
    await waitMidCopy(sandbox, queue, copyJobId(runId, SLOW), ROWS);
    const cancelling = background(sandbox, ['cancel', runId, '--yes']);
    // The worker stops the job (it fails, for good) while its backend still waits at the gate.
    await waitUntil(
      'the worker to stop the job',
      async () => (await (await queue.getJob(copyJobId(runId, SLOW)))?.getState()) !== 'active',
      30_000,
      100,
    );
    await openGate();
    expect(await cancelling.exited, cancelling.output()).toBe(0);
    const cancelled = { stdout: cancelling.output(), stderr: cancelling.output() };
    expect(cancelled.stderr).toContain(`table ${SLOW}: job ${copyJobId(runId, SLOW)} is running; asked to stop`);
    expect(cancelled.stdout).toContain(`stopped 1 running: ${copyJobId(runId, SLOW)}`);
    expect((await queueEntries(sandbox)).filter((k) => k.includes(runId))).toEqual([]);
    expect(await schemaShape(sandbox)).toEqual(before);
    await expectSameContent(sandbox, SLOW, ROWS);
    expect(worker.exitCode).toBeNull();
    expect((await stopProcess(worker)).code).toBe(0);

    const fresh = await sandbox.cli(['run']);
    expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain('every table copied and verified');
    await expectSameContent(sandbox, SLOW, ROWS);
    await expectSeedEqual(sandbox);
    expect(await schemaShape(sandbox)).toEqual(before);
  });
});

describe('runs of two targets share one Redis and one prefix', () => {
  let a: Sandbox;
  let b: Sandbox;
  let sharedPrefix: NodeJS.ProcessEnv;
  beforeAll(async () => {
    a = await createSeedSandbox('om_a');
    b = await createSeedSandbox('om_b');
    sharedPrefix = { MY2PG_QUEUE_PREFIX: a.prefix };
  });
  afterAll(async () => {
    await a?.dispose();
    await b?.dispose();
  });

  it('two runs started together both finish verified; a worker of target A leaves target B alone; the board lists both targets', async () => {
    const [ra, rb] = await Promise.all([a.cli(['run']), b.cli(['run'], sharedPrefix)]);
    expect(ra.code, ra.stdout + ra.stderr).toBe(0);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    await expectSeedEqual(a);
    await expectSeedEqual(b);
    const namesA = await queueNamesOf(a);
    const namesB = await queueNamesOf(b);
    expect(namesA.copy).not.toBe(namesB.copy);

    const worker = a.worker(['--concurrency', '2']);
    await waitForOutput(worker, /worker: ready/);
    expect(worker.output()).toContain(namesA.copy);
    const start = await b.cli(['start'], sharedPrefix);
    expect(start.code, start.stderr).toBe(0);
    const runB = start.stdout.trim();
    const queueB = await copyQueue(b, undefined, 'public', sharedPrefix);
    try {
      // Long enough for an idle worker to have taken anything it could see.
      await new Promise((r) => setTimeout(r, 3000));
      const states = await Promise.all(
        SEED_TABLES.map(async (t) => (await (await queueB.getJob(`${runB}.${t.table}`))?.getState()) ?? 'missing'),
      );
      expect(states).toEqual(SEED_TABLES.map(() => 'waiting'));
    } finally {
      await queueB.closeAll();
    }
    const resumed = await b.cli(['resume', runB], sharedPrefix);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`no worker is connected to queue ${namesB.copy}`);
    expect(resumed.stdout).toContain(`run ${runB}: every table copied and verified`);
    await expectSeedEqual(b);
    expect(worker.output()).not.toContain(runB);

    // Bull Board finds each target's queues by name: one board shows both targets sharing a
    // Redis and prefix; on PostgreSQL each target database holds its own queue, so its board.
    const boards: [Sandbox, string[]][] =
      a.queueBackend === 'redis'
        ? [[a, [namesA.copy, namesA.finalize, namesB.copy, namesB.finalize]]]
        : [
            [a, [namesA.copy, namesA.finalize]],
            [b, [namesB.copy, namesB.finalize]],
          ];
    for (const [sandbox, expected] of boards) {
      const board = background(sandbox, ['board', '--port', '0', '--read-only'], sandbox === b ? sharedPrefix : {});
      try {
        await waitForOutput(board, /listening on http:\/\/\S+/, 20_000);
        const url = /listening on (http:\/\/\S+)/.exec(board.output())![1]!;
        const api = (await (await fetch(`${url}api/queues`)).json()) as {
          queues: { name: string; counts: Record<string, number> }[];
        };
        const names = api.queues.map((q) => q.name).sort();
        expect(names).toEqual(expected.sort());
        if (expected.includes(namesB.copy))
          expect(api.queues.find((q) => q.name === namesB.copy)?.counts.completed).toBe(10);
      } finally {
        board.kill('SIGTERM');
        await board.exited;
      }
    }
    expect((await stopProcess(worker)).code).toBe(0);
  });
});
