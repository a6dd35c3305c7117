import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual, SEED_TABLES } from '../helpers/compare.js';
import { copyJobId, finalizeJobId } from '../../src/queue/contract.js';
import type { QueueNames } from '../../src/queue/target-scope.js';
import { queueNamesOf } from '../helpers/faults.js';
import { BIN, createSeedSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// The operator's path through Bull Board, in a real headless Chromium (Debian's, driven by
// playwright-core): sign in, see the run's table jobs and their progress, open the failed
// one, fix the cause, press Retry, and watch the table complete and finalize verify the run.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = `${ROOT}/test-artifacts`;
const CHROMIUM = process.env.MY2PG_TEST_CHROMIUM ?? '/usr/bin/chromium';
const USER = 'operator';
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}`;

let sandbox: Sandbox;
// The target's queues: copy.<database>.public.<hash> and finalize.<…>.
let names: QueueNames;
let browser: Browser | undefined;
const boards: ChildProcess[] = [];

/** Starts `my2pg board` on a free port; resolves with its URL once it listens. */
async function startBoard(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'board', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...sandbox.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  boards.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const handle = { child, output: () => output };
  await waitForOutput(handle, /listening on http:\/\/\S+/, 20_000);
  const url = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  return { ...handle, url };
}

function authHeader(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** Bull Board's job actions are icon buttons with tooltips; this presses the one whose tooltip says `label`. */
async function pressJobAction(page: Page, label: string): Promise<void> {
  const triggers = page.locator('[data-base-ui-tooltip-trigger] > button');
  await triggers.first().waitFor();
  const count = await triggers.count();
  for (let i = 0; i < count; i += 1) {
    await triggers.nth(i).hover();
    const tooltip = page.getByText(label, { exact: true });
    if (
      await tooltip.waitFor({ state: 'visible', timeout: 1500 }).then(
        () => true,
        () => false,
      )
    ) {
      await triggers.nth(i).click();
      return;
    }
  }
  throw new Error(`no job action "${label}" on ${page.url()}`);
}

async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('my2pg board', () => {
  beforeAll(async () => {
    sandbox = await createSeedSandbox('board');
    names = await queueNamesOf(sandbox);
  });
  afterAll(async () => {
    await browser?.close();
    for (const child of boards) if (child.exitCode === null) child.kill('SIGKILL');
    await sandbox?.dispose();
  });

  it('refuses a non-loopback host without BOARD_USER and BOARD_PASSWORD: one line, exit 2', async () => {
    const result = await sandbox.cli(['board', '--host', '0.0.0.0', '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'my2pg: board: refusing to listen on 0.0.0.0 without authentication; set BOARD_USER and BOARD_PASSWORD, or use --host 127.0.0.1',
    ]);
  });

  it('an operator signs in, sees the jobs and their progress, retries the failed table in the UI, and the run is verified', async () => {
    expect(existsSync(CHROMIUM), `Chromium at ${CHROMIUM} (apt-get install chromium, or set MY2PG_TEST_CHROMIUM)`).toBe(
      true,
    );
    const pgc = await sandbox.pg();
    await pgc.query('ALTER TABLE users DROP COLUMN profile_message');
    await pgc.end();
    const worker = sandbox.worker(['--concurrency', '2']);
    await waitForOutput(worker, /worker: ready/);
    const failed = await sandbox.cli(['start', '--wait']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    const runId = /run (run-[\w.-]+): not verified/.exec(failed.stdout)![1]!;
    const usersJobId = copyJobId(runId, 'users');

    const board = await startBoard([], { BOARD_USER: USER, BOARD_PASSWORD: PASSWORD });
    expect(board.output()).not.toContain(PASSWORD);

    // Without the right credentials: 401 with a challenge, so a browser asks for them.
    const anonymous = await fetch(board.url);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="my2pg board"/);
    expect((await fetch(`${board.url}api/queues`, { headers: authHeader(USER, 'wrong') })).status).toBe(401);
    expect((await fetch(`${board.url}api/queues`, { headers: authHeader('someone', PASSWORD) })).status).toBe(401);
    const api = await fetch(`${board.url}api/queues?activeQueue=${names.copy}&status=completed`, {
      headers: authHeader(USER, PASSWORD),
    });
    expect(api.status).toBe(200);
    const apiText = await api.text();
    expect(apiText).not.toContain(PASSWORD);
    // Job payloads and return values carry ids and counts, never a URL with credentials.
    expect(apiText).not.toMatch(/[a-z]+:\/\/[^"\s/]*@/);
    const queues = JSON.parse(apiText) as {
      queues: {
        name: string;
        counts: Record<string, number>;
        jobs: { name: string; progress: Record<string, unknown> }[];
      }[];
    };
    const copyQueue = queues.queues.find((q) => q.name === names.copy)!;
    expect(copyQueue.counts).toMatchObject({ completed: 4, failed: 1 });
    expect(copyQueue.jobs.find((j) => j.name === 'copy-table game_visits')?.progress).toMatchObject({
      progress: 100,
      rows: 375,
      total: 375,
      eta: 'done',
    });

    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1400, height: 1000 },
    });
    // The page links a web font; nothing may leave this machine.
    await context.route('**/*', (route) =>
      new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort(),
    );
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);

    const home = await page.goto(board.url);
    expect(home?.status()).toBe(200);
    await page.getByRole('link', { name: names.copy, exact: true }).first().waitFor();
    await page.getByRole('link', { name: names.finalize, exact: true }).first().waitFor();

    // The completed table jobs, each with its progress ring at 100% and its rows in the Progress tab.
    await page.goto(`${board.url}queue/${names.copy}?status=completed`);
    for (const table of ['friendships', 'game_visits', 'monthly_scores', 'scores'])
      await page.getByText(`copy-table ${table}`, { exact: true }).waitFor();
    expect(await page.getByText('100%', { exact: true }).count()).toBe(4);
    const visitsCard = page
      .locator('div')
      .filter({ has: page.getByText('copy-table game_visits', { exact: true }) })
      .filter({ has: page.getByRole('tab', { name: 'Progress' }) })
      .last();
    await visitsCard.getByRole('tab', { name: 'Progress' }).click();
    await visitsCard.getByText('rowsPerSecond').waitFor();
    expect(await visitsCard.textContent()).toMatch(/rows:\s*375/);

    // The failed job: open it from the failed list and read why it failed.
    await page.goto(`${board.url}queue/${names.copy}?status=failed`);
    await page.getByText('copy-table users', { exact: true }).waitFor();
    await page.getByRole('link', { name: usersJobId, exact: true }).click();
    await page.waitForURL((url) => url.pathname === `/queue/${names.copy}/${usersJobId}`);
    await page
      .getByText(/has no column "profile_message"/)
      .first()
      .waitFor();
    // The flow tree of the run: finalize waits on its five table jobs, one of them failed.
    await page.getByText('1 unfinished').waitFor();
    await page
      .getByText(/^waiting-children$/i)
      .first()
      .waitFor();
    await page.screenshot({ path: `${ARTIFACTS}/board-failed-job.png`, fullPage: true });

    // The operator fixes the cause, then presses Retry and confirms.
    const fix = await sandbox.pg();
    await fix.query('ALTER TABLE users ADD COLUMN profile_message TEXT');
    await fix.end();
    await pressJobAction(page, 'Retry');
    await page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click();

    // The page follows the job to completion; finalize then verifies the whole run.
    await page.getByText('attempt #2').waitFor({ timeout: 45_000 });
    await page.getByText('Finished at').first().waitFor({ timeout: 45_000 });
    const check = await sandbox.pg();
    try {
      const run = await waitFor(
        'the run to be verified',
        async () =>
          (await check.query('SELECT status FROM my2pg.runs WHERE id = $1', [runId])).rows[0]?.status as string,
        (status) => status === 'verified',
      );
      expect(run).toBe('verified');
      await page.reload();
      await page.getByText('5 done').waitFor({ timeout: 30_000 });
      await page.getByRole('tab', { name: 'Logs' }).first().click();
      await page
        .getByText(/attempt 2: copying users/)
        .first()
        .waitFor();
      await page.getByRole('tab', { name: 'Data' }).first().click();
      await page.screenshot({ path: `${ARTIFACTS}/board.png`, fullPage: true });

      await expectSidesEqual(sandbox, SEED_TABLES);
    } finally {
      await check.end();
    }

    // finalize's return value, the verification record, is what the board shows for the run.
    const finalizeJob = (await (
      await fetch(`${board.url}api/queues/${names.finalize}/${finalizeJobId(runId)}`, {
        headers: authHeader(USER, PASSWORD),
      })
    ).json()) as {
      job: {
        returnValue: { verified: boolean; tables: { table: string; status: string }[] };
        progress: Record<string, unknown>;
      };
    };
    expect(finalizeJob.job.returnValue.verified).toBe(true);
    // Its progress is the phase it reported last: every table verified, rows compared.
    expect(finalizeJob.job.progress).toMatchObject({ progress: 100, phase: 'verification', done: 5, total: 5 });
    expect(finalizeJob.job.progress.step).toMatch(/^verification 5\/5 tables \(\w+: [\d,]+ rows compared/);
    expect(finalizeJob.job.returnValue.tables.map((t) => [t.table, t.status]).sort()).toEqual(
      SEED_TABLES.map((t) => [t.table, 'verified']).sort(),
    );

    // A completed table is not copied again behind finalize's back, not even through the API.
    const retryCompleted = await fetch(`${board.url}api/queues/${names.copy}/${copyJobId(runId, 'scores')}/retry`, {
      method: 'PUT',
      headers: authHeader(USER, PASSWORD),
    });
    expect(retryCompleted.status).toBe(409);
    expect(await retryCompleted.text()).toContain('start a new run');
    expect(
      (
        await fetch(`${board.url}api/queues/${names.copy}/retry/completed`, {
          method: 'PUT',
          headers: authHeader(USER, PASSWORD),
        })
      ).status,
    ).toBe(409);
    const scores = (await (
      await fetch(`${board.url}api/queues/${names.copy}/${copyJobId(runId, 'scores')}`, {
        headers: authHeader(USER, PASSWORD),
      })
    ).json()) as { job: { attempts: number; finishedOn: number } };
    expect(scores.job.attempts).toBe(1);

    board.child.kill('SIGTERM');
    await new Promise((resolve) => board.child.once('exit', resolve));
    expect(board.child.exitCode).toBe(0);
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
  });

  it('--read-only shows the jobs but refuses every change', async () => {
    const board = await startBoard(['--read-only']);
    const queues = (await (await fetch(`${board.url}api/queues`)).json()) as {
      queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[];
    };
    expect(queues.queues.map((q) => [q.name, q.readOnlyMode, q.allowRetries]).sort()).toEqual([
      [names.copy, true, false],
      [names.finalize, true, false],
    ]);
    const pgc = await sandbox.pg();
    const runId = (await pgc.query('SELECT id FROM my2pg.runs ORDER BY created_at DESC LIMIT 1')).rows[0].id as string;
    await pgc.end();
    const retry = await fetch(`${board.url}api/queues/${names.copy}/${copyJobId(runId, 'users')}/retry`, {
      method: 'PUT',
    });
    expect(retry.status).toBe(405);
    const clean = await fetch(`${board.url}api/queues/${names.copy}/clean/completed`, { method: 'PUT' });
    expect(clean.status).toBe(405);
    const job = (await (await fetch(`${board.url}api/queues/${names.copy}/${copyJobId(runId, 'users')}`)).json()) as {
      job: { name: string };
    };
    expect(job.job.name).toBe('copy-table users');
    board.child.kill('SIGTERM');
    await new Promise((resolve) => board.child.once('exit', resolve));
  });
});
