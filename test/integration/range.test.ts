import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyTable } from '../../src/copy/copy-table.js';
import { closeAll, openSource, openTarget } from '../../src/run/open-databases.js';
import { copyJobId, rangeJobId } from '../../src/queue/contract.js';
import { expectSidesEqual, readSides, SEED_TABLES } from '../helpers/compare.js';
import { createSeedSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';
import { copyQueue } from '../helpers/queue.js';

let sandbox: Sandbox;
const visits = SEED_TABLES.find((t) => t.table === 'game_visits')!;
const BIG_BASE = 18446744073709549000n; // near 2^64 - 1: BIGINT UNSIGNED keys must split exactly

const bigKeys = { table: 'big_keys', columns: ['id', 'note', 'amount'] };

describe('key-range jobs and index rebuild', () => {
  beforeAll(async () => {
    sandbox = await createSeedSandbox('range');
    const my = await sandbox.mysql();
    await my.query(
      'CREATE TABLE big_keys (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, note VARCHAR(40) NULL, amount DECIMAL(12,2) NULL)',
    );
    const rows = Array.from({ length: 250 }, (_, i) => [
      (BIG_BASE + BigInt(i * 10)).toString(),
      i % 7 === 0 ? null : `ключ ${i} 🎲\ttab`,
      i % 5 === 0 ? null : `${i}.25`,
    ]);
    await my.query('INSERT INTO big_keys (id, note, amount) VALUES ?', [rows]);
    // Planning splits by information_schema's row estimate; make it current.
    await my.query('ANALYZE TABLE game_visits, big_keys, users');
    await my.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('a range that fails is retried alone; the table ends exact and its indexes are rebuilt', async () => {
    const pgc = await sandbox.pg();
    // Breaks the COPY once, at the first row of id 500 or more (a middle range).
    await pgc.query(`CREATE SEQUENCE fail_once`);
    await pgc.query(`CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id >= 500 THEN
          IF nextval('fail_once') = 1 THEN
            RAISE EXCEPTION 'injected transient failure' USING ERRCODE = '40001';
          END IF;
        END IF;
        RETURN NEW;
      END $$`);
    await pgc.query(`CREATE TRIGGER fail_once BEFORE INSERT ON game_visits FOR EACH ROW EXECUTE FUNCTION fail_once()`);
    await pgc.end();

    const result = await sandbox.cli(['run', '--range-rows', '100', '--batch-size', '40', '--concurrency', '3']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const split = /game_visits ×(\d+)/.exec(result.stderr);
    expect(split, result.stderr).not.toBeNull();
    const ranges = Number(split![1]);
    expect(ranges).toBeGreaterThanOrEqual(3);
    expect(result.stderr).toMatch(/big_keys ×\d+/);
    expect(result.stderr).toMatch(/5 foreign keys and [1-9]\d* indexes dropped for the load/);
    expect(result.stdout).toMatch(/game_visits\s+375\s+375\s+0\s+checksum ok/);

    expect(await expectSidesEqual(sandbox, visits)).toEqual({ game_visits: 375 });
    expect(await expectSidesEqual(sandbox, bigKeys)).toEqual({ big_keys: 250 });

    // Only the range holding id 500 ran twice: one more attempt than there are ranges.
    const check = await sandbox.pg();
    const runId = /run (run-[\w.-]+): every table/.exec(result.stdout)![1]!;
    try {
      const attempts = await check.query(
        `SELECT attempts FROM my2pg.run_tables WHERE run_id = $1 AND table_name = 'game_visits'`,
        [runId],
      );
      expect(attempts.rows[0].attempts).toBe(ranges + 1);
      // The indexes dropped for the load are back, unique constraints included, and saved as restored.
      const indexes = await check.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%pkey' AND indexname <> 'alembic_version_pkc' ORDER BY indexname`,
      );
      expect(indexes.rows.map((r) => r.indexname)).toEqual([
        'ix_game_visits_visited_at',
        'ix_scores_user_id',
        'ix_users_email',
        'ix_users_id',
        'uq_friendship',
        'uq_user_year_month',
      ]);
      const uniques = await check.query(
        `SELECT conname FROM pg_constraint WHERE contype = 'u' AND connamespace = 'public'::regnamespace ORDER BY conname`,
      );
      expect(uniques.rows.map((r) => r.conname)).toEqual(['uq_friendship', 'uq_user_year_month']);
      const saved = await check.query(
        `SELECT count(*)::int AS n, count(*) FILTER (WHERE restored_at IS NULL OR error IS NOT NULL)::int AS open FROM my2pg.saved_constraints WHERE run_id = $1 AND kind = 'index'`,
        [runId],
      );
      expect(saved.rows[0].n).toBeGreaterThanOrEqual(6);
      expect(saved.rows[0].open).toBe(0);
      await check.query('DROP TRIGGER fail_once ON game_visits');
    } finally {
      await check.end();
    }
    const queue = await copyQueue(sandbox);
    try {
      const retried: string[] = [];
      for (let i = 0; i < ranges; i += 1) {
        const id = rangeJobId(copyJobId(runId, 'game_visits'), i);
        const job = await queue.getJob(id);
        expect(await job?.getState(), id).toBe('completed');
        const { logs } = await queue.getJobLogs(id);
        if (logs.some((line) => line.includes('failed, will retry'))) retried.push(id);
      }
      expect(retried.length).toBe(1);
    } finally {
      await queue.closeAll();
    }
  });

  it('a range job run twice, over changed and extra rows, ends exact and leaves other ranges alone', async () => {
    const pgc = await sandbox.pg();
    // Inside the range [200, 400): a changed value, a missing row and a row MySQL does not have.
    await pgc.query(
      `UPDATE game_visits SET ip_address = 'tampered' WHERE id = (SELECT min(id) FROM game_visits WHERE id >= 200)`,
    );
    await pgc.query(`DELETE FROM game_visits WHERE id = (SELECT max(id) FROM game_visits WHERE id < 400)`);
    await pgc.query(
      `INSERT INTO game_visits (id, ip_address, is_logged_in, visited_at) VALUES (399, '10.0.0.1', true, now()) ON CONFLICT (id) DO NOTHING`,
    );
    // Outside the range: must survive the range job untouched.
    await pgc.query(`UPDATE game_visits SET ip_address = 'outside' WHERE id = (SELECT max(id) FROM game_visits)`);
    await pgc.end();

    const source = await openSource(sandbox.mysqlUrl);
    const target = await openTarget(sandbox.databaseUrl);
    try {
      const input = {
        table: 'game_visits',
        targetSchema: 'public',
        targetTable: 'game_visits',
        batchSize: 7,
        range: { column: 'id', from: '200', to: '400' },
      };
      const first = await copyTable(source, target, input);
      const second = await copyTable(source, target, input);
      expect(second.rows).toBe(first.rows);
      expect(first.rows).toBeGreaterThan(0);
      const big = {
        table: 'big_keys',
        targetSchema: 'public',
        targetTable: 'big_keys',
        batchSize: 5,
        range: { column: 'id', from: (BIG_BASE + 100n).toString(), to: null },
      };
      await copyTable(source, target, big);
      expect((await copyTable(source, target, big)).rows).toBe(240);
    } finally {
      await closeAll(source, target);
    }
    const { source: s, target: t } = await readSides(sandbox, visits);
    const inRange = (rows: (string | null)[][]) => rows.filter((r) => Number(r[0]) >= 200 && Number(r[0]) < 400);
    expect(inRange(t)).toEqual(inRange(s));
    expect(t.length).toBe(s.length);
    const check = await sandbox.pg();
    try {
      const outside = await check.query(
        `SELECT ip_address FROM game_visits WHERE id = (SELECT max(id) FROM game_visits)`,
      );
      expect(outside.rows[0].ip_address).toBe('outside');
    } finally {
      await check.end();
    }
    expect(await expectSidesEqual(sandbox, bigKeys)).toEqual({ big_keys: 250 });
  });
  it('a range that fails for good is reported; retry --table re-queues only that range', async () => {
    const pgc = await sandbox.pg();
    await pgc.query(`CREATE FUNCTION fail_hard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id >= 500 AND NEW.id < 520 THEN
          -- 42501 (not a refused value, which would reject the row): the range fails for good.
          RAISE EXCEPTION 'injected permanent failure' USING ERRCODE = '42501';
        END IF;
        RETURN NEW;
      END $$`);
    await pgc.query(`CREATE TRIGGER fail_hard BEFORE INSERT ON game_visits FOR EACH ROW EXECUTE FUNCTION fail_hard()`);
    await pgc.end();
    const worker = sandbox.worker(['--concurrency', '2']);
    await waitForOutput(worker, /worker: ready/);

    const failed = await sandbox.cli(['start', '--wait', '--range-rows', '100', '--tables', 'game_visits']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(/table game_visits failed: range r\d+: .*injected permanent failure/);
    const runId = /run (run-[\w.-]+): not verified/.exec(failed.stdout)![1]!;
    expect(failed.stdout).toContain(`npx my2pg retry ${runId} --table game_visits --wait`);

    const queue = await copyQueue(sandbox);
    const ranges = Number(/game_visits ×(\d+)/.exec(failed.stderr)![1]);
    const attemptLines = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < ranges; i += 1)
        out.push(
          (await queue.getJobLogs(rangeJobId(copyJobId(runId, 'game_visits'), i))).logs.filter((l) =>
            l.startsWith('attempt'),
          ).length,
        );
      return out;
    };
    try {
      const states = await Promise.all(
        Array.from({ length: ranges }, (_, i) =>
          queue.getJob(rangeJobId(copyJobId(runId, 'game_visits'), i)).then((j) => j!.getState()),
        ),
      );
      expect(states.filter((st) => st === 'failed').length).toBe(1);
      const before = await attemptLines();

      const fix = await sandbox.pg();
      await fix.query('DROP TRIGGER fail_hard ON game_visits');
      await fix.end();
      const retried = await sandbox.cli(['retry', runId, '--table', 'game_visits', '--wait']);
      expect(retried.code, retried.stdout + retried.stderr).toBe(0);
      expect(retried.stdout).toContain('every table copied and verified');
      // Only the failed range ran again; the others kept their one attempt.
      const after = await attemptLines();
      const failedIndex = states.indexOf('failed');
      expect(after).toEqual(before.map((n, i) => (i === failedIndex ? n + 1 : n)));
    } finally {
      await queue.closeAll();
    }
    expect(await expectSidesEqual(sandbox, visits)).toEqual({ game_visits: 375 });
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
  });
  it('indexes are saved before they are dropped, and a finalize that finds some already rebuilt carries on', async () => {
    const started = await sandbox.cli(['start', '--tables', 'users,friendships,scores', '--range-rows', '0']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const pgc = await sandbox.pg();
    try {
      // Between prepare and finalize: the secondary indexes are gone and their definitions saved.
      const left = await pgc.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('users', 'friendships', 'scores') AND indexname NOT LIKE '%pkey' ORDER BY 1`,
      );
      expect(left.rows).toEqual([]);
      const saved = await pgc.query(
        `SELECT table_name, name, definition FROM my2pg.saved_constraints WHERE run_id = $1 AND kind = 'index' AND restored_at IS NULL ORDER BY name`,
        [runId],
      );
      expect(saved.rows.map((r) => r.name)).toEqual([
        'ix_scores_user_id',
        'ix_users_email',
        'ix_users_id',
        'uq_friendship',
      ]);
      expect(saved.rows.find((r) => r.name === 'uq_friendship').definition).toBe(
        'ALTER TABLE "public"."friendships" ADD CONSTRAINT "uq_friendship" UNIQUE (requester_id, addressee_id)',
      );
      expect(saved.rows.find((r) => r.name === 'ix_users_email').definition).toBe(
        'CREATE UNIQUE INDEX IF NOT EXISTS ix_users_email ON public.users USING btree (email)',
      );
      // As if a finalize had rebuilt these two and crashed before recording it.
      await pgc.query(saved.rows.find((r) => r.name === 'ix_users_email').definition);
      await pgc.query(saved.rows.find((r) => r.name === 'uq_friendship').definition);
    } finally {
      await pgc.end();
    }
    const worker = sandbox.worker(['--concurrency', '2']);
    await waitForOutput(worker, /worker: ready/);
    const check = await sandbox.pg();
    try {
      const t0 = Date.now();
      let status = 'running';
      while (status === 'running' && Date.now() - t0 < 60_000) {
        await new Promise((r) => setTimeout(r, 300));
        status = (await check.query('SELECT status FROM my2pg.runs WHERE id = $1', [runId])).rows[0].status;
      }
      expect(status).toBe('verified');
      const indexes = await check.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('users', 'friendships', 'scores') AND indexname NOT LIKE '%pkey' ORDER BY 1`,
      );
      expect(indexes.rows.map((r) => r.indexname)).toEqual([
        'ix_scores_user_id',
        'ix_users_email',
        'ix_users_id',
        'uq_friendship',
      ]);
      const open = await check.query(
        `SELECT count(*)::int AS n FROM my2pg.saved_constraints WHERE run_id = $1 AND (restored_at IS NULL OR error IS NOT NULL)`,
        [runId],
      );
      expect(open.rows[0].n).toBe(0);
    } finally {
      await check.end();
    }
    await expectSidesEqual(
      sandbox,
      SEED_TABLES.filter((x) => ['users', 'friendships', 'scores'].includes(x.table)),
    );
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
  });
});
