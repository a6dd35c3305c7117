import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual, SEED_TABLES } from '../helpers/compare.js';
import { createSeedSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

describe('failures and retries', () => {
  beforeAll(async () => {
    sandbox = await createSeedSandbox('retry');
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('a copy that fails midway is retried and ends with exactly the source rows', async () => {
    const pgc = await sandbox.pg();
    // Rows left from an earlier attempt, and a trigger that breaks the first COPY after 299 rows.
    await pgc.query(
      `INSERT INTO game_visits (id, ip_address, is_logged_in, visited_at) VALUES (9001, '10.9.9.9', false, now())`,
    );
    await pgc.query(`CREATE SEQUENCE fail_once`);
    await pgc.query(`CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id = 300 AND nextval('fail_once') = 1 THEN
          RAISE EXCEPTION 'injected transient failure' USING ERRCODE = '40001';
        END IF;
        RETURN NEW;
      END $$`);
    await pgc.query(`CREATE TRIGGER fail_once BEFORE INSERT ON game_visits FOR EACH ROW EXECUTE FUNCTION fail_once()`);
    await pgc.end();

    const result = await sandbox.cli(['run', '--batch-size', '50']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await expectSidesEqual(sandbox, SEED_TABLES.find((x) => x.table === 'game_visits')!)).toEqual({
      game_visits: 375,
    });
    const check = await sandbox.pg();
    try {
      const attempts = await check.query(
        `SELECT attempts FROM my2pg.run_tables WHERE table_name = 'game_visits' ORDER BY started_at DESC LIMIT 1`,
      );
      expect(attempts.rows[0].attempts).toBe(2);
      await check.query('DROP TRIGGER fail_once ON game_visits');
    } finally {
      await check.end();
    }
  });

  it('a table that fails for good makes start --wait exit 1; retry --table after the fix exits 0', async () => {
    const pgc = await sandbox.pg();
    await pgc.query('ALTER TABLE users DROP COLUMN profile_message');
    await pgc.end();
    const worker = sandbox.worker(['--concurrency', '2']);
    await waitForOutput(worker, /worker: ready/);

    const failed = await sandbox.cli(['start', '--wait']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toMatch(/table users failed: .*profile_message/);
    const runId = /run (run-[\w.-]+): not verified/.exec(failed.stdout)?.[1];
    expect(runId).toBeDefined();
    expect(failed.stdout).toContain(`npx my2pg retry ${runId} --table users --wait`);

    const fix = await sandbox.pg();
    await fix.query('ALTER TABLE users ADD COLUMN profile_message TEXT');
    const alembicBefore = await fix.query('SELECT version_num FROM alembic_version');
    await fix.end();

    const retried = await sandbox.cli(['retry', runId!, '--table', 'users', '--wait']);
    expect(retried.code, retried.stdout + retried.stderr).toBe(0);
    expect(retried.stdout).toContain('every table copied and verified');

    await expectSidesEqual(sandbox, SEED_TABLES.find((x) => x.table === 'users')!);
    const after = await sandbox.pg();
    try {
      const run = await after.query('SELECT status, summary IS NOT NULL AS finalized FROM my2pg.runs WHERE id = $1', [
        runId,
      ]);
      expect(run.rows[0]).toEqual({ status: 'verified', finalized: true });
      const alembic = await after.query('SELECT version_num FROM alembic_version');
      expect(alembic.rows).toEqual([{ version_num: 'e9059978e80e' }]);
      expect(alembicBefore.rows.length).toBe(1);
      const fks = await after.query(
        // The run's tables are in public; the queue's own tables (my2pg_queue) have foreign keys too.
        `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'public'::regnamespace`,
      );
      expect(fks.rows[0].n).toBe(5);
    } finally {
      await after.end();
    }
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
    expect(worker.exitCode).toBe(0);
  });
});
