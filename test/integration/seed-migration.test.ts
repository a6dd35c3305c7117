import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual, SEED_COUNTS, SEED_NEXT_IDS, SEED_TABLES } from '../helpers/compare.js';
import { createSeedSandbox, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

async function expectSeedEqual(): Promise<void> {
  expect(await expectSidesEqual(sandbox, SEED_TABLES)).toEqual(SEED_COUNTS);
}

describe('the seed app migrated into an alembic-made schema', () => {
  beforeAll(async () => {
    sandbox = await createSeedSandbox('seed');
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('run exits 0 and every value, sequence, alembic revision and foreign key is right', async () => {
    const result = await sandbox.cli(['run', '--concurrency', '2']);
    expect(result.stderr + result.stdout).toContain('every table copied and verified');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^users\s+31\s+31\s+0\s+(count|checksum) ok\s/m);
    await expectSeedEqual();

    const pgc = await sandbox.pg();
    try {
      for (const [table, next] of Object.entries(SEED_NEXT_IDS)) {
        const { rows } = await pgc.query(`SELECT nextval(pg_get_serial_sequence($1, 'id'))::int AS n`, [table]);
        expect(rows[0].n, `next id of ${table}`).toBe(next);
      }
      const alembic = await pgc.query('SELECT version_num FROM alembic_version');
      expect(alembic.rows).toEqual([{ version_num: 'e9059978e80e' }]);
      const fks = await pgc.query(
        `SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' AND connamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname = 'my2pg_queue') ORDER BY conname`,
      );
      expect(fks.rows).toEqual([
        { conname: 'friendships_addressee_id_fkey', convalidated: true },
        { conname: 'friendships_requester_id_fkey', convalidated: true },
        { conname: 'game_visits_user_id_fkey', convalidated: true },
        { conname: 'monthly_scores_user_id_fkey', convalidated: true },
        { conname: 'scores_user_id_fkey', convalidated: true },
      ]);
      const types = await pgc.query(
        `SELECT data_type, udt_name FROM information_schema.columns WHERE table_name = 'friendships' AND column_name = 'status'`,
      );
      expect(types.rows[0]).toEqual({ data_type: 'USER-DEFINED', udt_name: 'friendshipstatus' });
      const recorded = await pgc.query(
        `SELECT table_name, source_rows::int, target_rows::int, status, verification->>'status' AS verdict FROM my2pg.run_tables ORDER BY table_name`,
      );
      expect(recorded.rows).toEqual(
        Object.keys(SEED_COUNTS)
          .sort()
          .map((table) => ({
            table_name: table,
            source_rows: SEED_COUNTS[table],
            target_rows: SEED_COUNTS[table],
            status: 'copied',
            verdict: 'verified',
          })),
      );
    } finally {
      await pgc.end();
    }
  });

  it('a second run over the filled target leaves exactly the source rows, no duplicates', async () => {
    const pgc = await sandbox.pg();
    // The application wrote into the target meanwhile: a rerun must replace, not add.
    await pgc.query(`INSERT INTO game_visits (ip_address, is_logged_in, visited_at) VALUES ('10.0.0.1', false, now())`);
    await pgc.end();
    const result = await sandbox.cli(['run']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    await expectSeedEqual();
  });

  it('status --json reports the latest run table by table', async () => {
    const result = await sandbox.cli(['status', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as {
      run: { status: string };
      tables: { table: string; status: string; jobState: string; sourceRows: number; targetRows: number }[];
      summary: { verified: boolean; tables: { table: string; status: string; method: string; sourceRows: number }[] };
    };
    expect(status.run.status).toBe('verified');
    expect(status.tables.map((t) => [t.table, t.status, t.jobState, t.sourceRows, t.targetRows])).toEqual(
      Object.keys(SEED_COUNTS)
        .sort()
        .map((t) => [t, 'verified', 'completed', SEED_COUNTS[t], SEED_COUNTS[t]]),
    );
    // Each table's verification is stored once (run_tables); the summary shows it as finalize returned it.
    expect(status.summary.verified).toBe(true);
    expect(status.summary.tables.map((t) => [t.table, t.status, t.method, t.sourceRows])).toEqual(
      Object.keys(SEED_COUNTS)
        .sort()
        .map((t) => [t, 'verified', 'checksum', SEED_COUNTS[t]]),
    );
  });
});
