import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedIntoMysql } from '../../src/demo/demo.js';
import { expectSidesEqual, SEED_COUNTS, SEED_TABLES } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

describe('--entities, created tables and bad input', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('entities');
    await loadSeedIntoMysql(sandbox.mysqlServerUrl, sandbox.name);
    const my = await sandbox.mysql();
    await my.query(
      'CREATE TABLE audit_log (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20)) AUTO_INCREMENT = 50',
    );
    await my.query("INSERT INTO audit_log (note) VALUES ('a'), ('b')");
    // Values PostgreSQL cannot hold as they are: a zero date and a NUL character.
    await my.query("SET SESSION sql_mode = ''");
    await my.query('CREATE TABLE legacy_dates (id INT PRIMARY KEY, d DATE NULL, t VARCHAR(20) NULL)');
    await my.query(
      "INSERT INTO legacy_dates VALUES (1, '0000-00-00', CONCAT('a', CHAR(0), 'b')), (2, '2024-02-29', 'ok')",
    );
    // Zero dates in a NOT NULL DATETIME and a DATE (legacy schemas run without NO_ZERO_DATE).
    await my.query('CREATE TABLE zero_dates (id INT PRIMARY KEY, at DATETIME(3) NOT NULL, born DATE NULL)');
    await my.query(
      "INSERT INTO zero_dates VALUES (1, '2024-03-01 10:00:00.125', '1990-05-17'), (2, '0000-00-00 00:00:00', '1991-01-01'), (3, '2024-03-02 11:00:00', '2024-00-10'), (4, '2024-03-03 12:00:00', NULL)",
    );
    await my.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('an unknown --tables name is an error before anything starts (exit 2)', async () => {
    const result = await sandbox.cli(['start', '--tables', 'users,nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^my2pg: unknown table in the MySQL source: --tables nope/m);
    const pgc = await sandbox.pg();
    const tables = await pgc.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    await pgc.end();
    expect(tables.rows[0].n).toBe(0);
  });

  it('an unreachable service is one line and exit 2, without the password', async () => {
    const result = await sandbox.cli(['start'], { DATABASE_URL: 'postgresql://postgres:S3cretPw@127.0.0.1:1/nowhere' });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(
      'cannot connect to the PostgreSQL target postgresql://postgres:***@127.0.0.1:1/nowhere',
    );
    expect(result.stderr).not.toContain('S3cretPw');
  });

  it("--entities migrates just the entities' tables into an empty target, creating them", async () => {
    const result = await sandbox.cli(['run', '--entities', 'examples/seed-app/entities.ts']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await expectSidesEqual(sandbox, SEED_TABLES)).toEqual(SEED_COUNTS);
    const pgc = await sandbox.pg();
    try {
      const tables = await pgc.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'alembic_version',
        'friendships',
        'game_visits',
        'monthly_scores',
        'scores',
        'users',
      ]);
      const next = await pgc.query(`SELECT nextval(pg_get_serial_sequence('users', 'id'))::int AS n`);
      expect(next.rows[0].n).toBe(34);
      // The run's tables are in public (the queue's own tables, in my2pg_queue, have foreign keys too).
      const fks = await pgc.query(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
      );
      expect(fks.rows[0].n).toBe(5);
      const idx = await pgc.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'users' ORDER BY 1`);
      expect(idx.rows.map((r) => r.indexname)).toContain('users_ix_users_email');
    } finally {
      await pgc.end();
    }
  });

  it('without --entities every table is created, unsigned bigint identity continuing after AUTO_INCREMENT', async () => {
    const result = await sandbox.cli(['run', '--tables', 'audit_log']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const pgc = await sandbox.pg();
    try {
      const rows = await pgc.query('SELECT id::text, note FROM audit_log ORDER BY id');
      expect(rows.rows).toEqual([
        { id: '50', note: 'a' },
        { id: '51', note: 'b' },
      ]);
      const next = await pgc.query(`SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))::text AS n`);
      expect(next.rows[0].n).toBe('52');
    } finally {
      await pgc.end();
    }
  });

  it('reports every value it changed to fit PostgreSQL, per table and column', async () => {
    // NUL characters are removed only when the operator says so (the default rejects the row).
    const result = await sandbox.cli(['run', '--tables', 'legacy_dates', '--nul', 'strip']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('adjusted: table legacy_dates, column d: 1 zero dates written as NULL');
    expect(result.stdout).toContain(
      'adjusted: table legacy_dates, column t: NUL characters removed from 1 values (--nul strip)',
    );
    expect(result.stdout).toContain('values: 0 tables exact, 1 with values adjusted by a policy (legacy_dates)');
    expect(result.stdout).toContain(
      'every table copied and verified (1 with values adjusted by a policy, listed above)',
    );
    const pgc = await sandbox.pg();
    try {
      const rows = await pgc.query('SELECT id, d::text, t FROM legacy_dates ORDER BY id');
      expect(rows.rows).toEqual([
        { id: 1, d: null, t: 'ab' },
        { id: 2, d: '2024-02-29', t: 'ok' },
      ]);
      const recorded = await pgc.query(`SELECT adjustments FROM my2pg.run_tables WHERE table_name = 'legacy_dates'`);
      expect(recorded.rows[0].adjustments).toEqual({
        d: { zeroDatesToNull: 1, nulCharactersRemoved: 0, sridsDropped: 0 },
        t: { zeroDatesToNull: 0, nulCharactersRemoved: 1, sridsDropped: 0 },
      });
    } finally {
      await pgc.end();
    }
  });

  it('--zero-date: NULL counted by default (NOT NULL dropped on creation), or the rows rejected and NOT NULL kept', async () => {
    const pgc = await sandbox.pg();
    try {
      for (const schema of ['zd_null', 'zd_reject']) await pgc.query(`CREATE SCHEMA ${schema}`);
      const asNull = await sandbox.cli(['run', '--tables', 'zero_dates', '--schema', 'zd_null']);
      expect(asNull.code, asNull.stdout + asNull.stderr).toBe(0);
      expect(asNull.stdout).toContain('adjusted: table zero_dates, column at: 1 zero dates written as NULL');
      expect(asNull.stdout).toContain('adjusted: table zero_dates, column born: 1 zero dates written as NULL');
      const nulls = await pgc.query(`SELECT id, at::text, born::text FROM zd_null.zero_dates ORDER BY id`);
      expect(nulls.rows).toEqual([
        { id: 1, at: '2024-03-01 10:00:00.125', born: '1990-05-17' },
        { id: 2, at: null, born: '1991-01-01' },
        { id: 3, at: '2024-03-02 11:00:00', born: null },
        { id: 4, at: '2024-03-03 12:00:00', born: null },
      ]);
      const nullable = await pgc.query(
        `SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'zd_null' AND table_name = 'zero_dates' AND column_name = 'at'`,
      );
      expect(nullable.rows[0].is_nullable).toBe('YES');

      const rejected = await sandbox.cli([
        'run',
        '--tables',
        'zero_dates',
        '--schema',
        'zd_reject',
        '--zero-date',
        'reject',
      ]);
      expect(rejected.code, rejected.stdout + rejected.stderr).toBe(1);
      const kept = await pgc.query(`SELECT id, at::text, born::text FROM zd_reject.zero_dates ORDER BY id`);
      expect(kept.rows).toEqual([
        { id: 1, at: '2024-03-01 10:00:00.125', born: '1990-05-17' },
        { id: 4, at: '2024-03-03 12:00:00', born: null },
      ]);
      const list = await pgc.query(
        `SELECT r.key_text, r.column_name, r.reason FROM my2pg.rejected_rows r JOIN my2pg.runs u ON u.id = r.run_id WHERE u.target_schema = 'zd_reject' ORDER BY r.key_text`,
      );
      expect(list.rows.map((r) => r.column_name)).toEqual(['at', 'born']);
      expect(list.rows[0].reason).toMatch(
        /zero date 0000-00-00 00:00:00(\.000)? has no PostgreSQL equivalent \(--zero-date reject\)/,
      );
      expect(list.rows[1].reason).toMatch(/zero date 2024-00-10 has no PostgreSQL equivalent/);
      const notNull = await pgc.query(
        `SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'zd_reject' AND table_name = 'zero_dates' AND column_name = 'at'`,
      );
      expect(notNull.rows[0].is_nullable).toBe('NO');
      const verdict = await pgc.query(
        `SELECT t.status, t.verification->>'status' AS verdict, t.rejected_rows FROM my2pg.run_tables t JOIN my2pg.runs u ON u.id = t.run_id WHERE u.target_schema = 'zd_reject'`,
      );
      expect(verdict.rows).toEqual([{ status: 'copied', verdict: 'rejected', rejected_rows: 2 }]);
    } finally {
      await pgc.end();
    }
  });
});
