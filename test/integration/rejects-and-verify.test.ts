import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSides } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

// 4,000 readings; every 500th has a value its existing PostgreSQL column cannot hold.
const ROWS = 4000;
const BAD: Record<number, { column: string; reason: RegExp }> = {
  500: { column: 'flag', reason: /not 0 or 1/ },
  1000: { column: 'small', reason: /out of range for type smallint/ },
  1500: { column: 'dur', reason: /invalid input syntax for type time/ },
  2000: { column: 'small', reason: /out of range for type smallint/ },
  3999: { column: 'flag', reason: /not 0 or 1/ },
};

/** The test table on both sides (flag as 0/1 on both). */
const READINGS = { table: 'readings', columns: ['id', 'flag', 'small', 'dur', 'note'], booleans: ['flag'] };

describe('rejected rows and checksum verification', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('rejects');
    const my = await sandbox.mysql();
    await my.query(
      `CREATE TABLE readings (id INT PRIMARY KEY, flag TINYINT NOT NULL, small INT NOT NULL, dur TIME(2) NOT NULL, note VARCHAR(40) NULL)`,
    );
    const values: string[] = [];
    for (let id = 1; id <= ROWS; id += 1) {
      const bad = BAD[id];
      const flag = bad?.column === 'flag' ? 2 : id % 2;
      const small = bad?.column === 'small' ? 70000 + id : id;
      const dur = bad?.column === 'dur' ? '-01:00:00' : `${String(id % 24).padStart(2, '0')}:30:00.25`;
      values.push(`(${id}, ${flag}, ${small}, '${dur}', ${id % 7 === 0 ? 'NULL' : `'note ${id}\\t\\\\'`})`);
    }
    await my.query(`INSERT INTO readings VALUES ${values.join(',')}`);
    await my.query(`CREATE TABLE docs (slug VARCHAR(20) PRIMARY KEY, body JSON, price DECIMAL(12,4))`);
    await my.query(
      `INSERT INTO docs VALUES ('a', '{"n": 12345678901234567890, "s": "é"}', 1.5), ('B', '[1, 2.50]', -0.0001), ('c', NULL, NULL)`,
    );
    await my.query(`CREATE TABLE bag (word VARCHAR(10), n INT)`);
    await my.query(`INSERT INTO bag VALUES ('x', 1), ('x', 1), ('y', NULL)`);
    await my.end();
    // The target exists already (an application's migrations made it): data-only copy.
    const pgc = await sandbox.pg();
    await pgc.query(
      `CREATE TABLE readings (id integer PRIMARY KEY, flag boolean NOT NULL, small smallint NOT NULL, dur time NOT NULL, note text)`,
    );
    await pgc.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('rejects each bad row with its reason, lands the good ones, exits 1; --allow-rejects exits 0', async () => {
    const first = await sandbox.cli(['run', '--batch-size', '300']);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/table readings: 5 rows rejected/);
    expect(first.stdout).toMatch(
      /rejected: table readings, row \{"id":1000\}, column small: value "71000" is out of range for type smallint/,
    );

    const { source, target } = await readSides(sandbox, READINGS);
    const good = source.filter((r) => !BAD[Number(r[0])]);
    expect(target.length).toBe(ROWS - Object.keys(BAD).length);
    expect(target).toEqual(good);

    const pgc = await sandbox.pg();
    try {
      const rejected = await pgc.query(
        `SELECT run_id, key, column_name, reason, sqlstate, "row" FROM my2pg.rejected_rows WHERE table_name = 'readings' ORDER BY (key->>'id')::int`,
      );
      expect(rejected.rows.map((r) => Number(r.key.id))).toEqual(Object.keys(BAD).map(Number));
      for (const row of rejected.rows) {
        const bad = BAD[Number(row.key.id)]!;
        expect(row.column_name).toBe(bad.column);
        expect(row.reason).toMatch(bad.reason);
        expect(String(row.row.id)).toBe(String(row.key.id));
      }
      expect(rejected.rows.find((r) => Number(r.key.id) === 1500)!.sqlstate).toBe('22007');
      expect(rejected.rows.find((r) => Number(r.key.id) === 500)!.sqlstate).toBeNull();
      const table = await pgc.query(
        `SELECT status, rejected_rows, verification FROM my2pg.run_tables WHERE table_name = 'readings' AND run_id = $1`,
        [rejected.rows[0].run_id],
      );
      expect(table.rows[0]).toMatchObject({ status: 'copied', rejected_rows: 5 });
      expect(table.rows[0].verification).toMatchObject({
        method: 'checksum',
        status: 'rejected',
        rejected: 5,
        sourceRows: ROWS,
        targetRows: ROWS - 5,
      });
    } finally {
      await pgc.end();
    }

    const status = await sandbox.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /rejected: table readings, row \{"id":1500\}, column dur: invalid input syntax for type time/,
    );

    // This time in key-range jobs: each range sets aside its own refused rows.
    const allowed = await sandbox.cli(['run', '--allow-rejects', '--batch-size', '1000', '--range-rows', '1000']);
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/split into key ranges: readings ×\d+/);
    expect(allowed.stdout).toMatch(/every table copied and verified/);
    const again = await readSides(sandbox, READINGS);
    expect(again.target).toEqual(target);
    const check = await sandbox.pg();
    try {
      // One run's rows, not two: a rerun replaces its own list.
      const counts = await check.query(
        `SELECT run_id, count(*)::int AS n FROM my2pg.rejected_rows GROUP BY run_id ORDER BY min(created_at)`,
      );
      expect(counts.rows.map((r) => r.n)).toEqual([5, 5]);
    } finally {
      await check.end();
    }
  });

  it('checksum verification names a changed value, a missing row and an extra row made after the copy', async () => {
    const pgc = await sandbox.pg();
    try {
      await pgc.query(`UPDATE readings SET note = 'changed' WHERE id = 1234`);
      await pgc.query(`DELETE FROM readings WHERE id = 3001`);
      await pgc.query(`INSERT INTO readings VALUES (100000, true, 1, '01:00:00', 'extra')`);
      await pgc.query(`UPDATE docs SET body = '{"n": 12345678901234567891, "s": "é"}' WHERE slug = 'a'`);
      await pgc.query(`UPDATE bag SET n = 2 WHERE word = 'y'`);
    } finally {
      await pgc.end();
    }
    const verify = await sandbox.cli(['verify', '--json']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    const summary = JSON.parse(verify.stdout) as {
      verified: boolean;
      tables: {
        table: string;
        status: string;
        differences: { kind: string; key: Record<string, string>; columns?: string[] }[];
        mismatchedRanges: unknown[];
      }[];
    };
    expect(summary.verified).toBe(false);
    const readings = summary.tables.find((t) => t.table === 'readings')!;
    expect(readings.status).toBe('mismatch');
    expect(readings.differences).toEqual(
      expect.arrayContaining([
        { kind: 'changed', key: { id: '1234' }, columns: ['note'] },
        { kind: 'missing', key: { id: '3001' } },
        { kind: 'extra', key: { id: '100000' } },
      ]),
    );
    expect(readings.differences).toHaveLength(3);
    expect(readings.mismatchedRanges.length).toBeGreaterThan(0);
    const docs = summary.tables.find((t) => t.table === 'docs')!;
    expect(docs.differences).toEqual([{ kind: 'changed', key: { slug: 'a' }, columns: ['body'] }]);
    const bag = summary.tables.find((t) => t.table === 'bag')!;
    expect(bag.status).toBe('mismatch');
    expect(bag.differences.map((d) => d.kind).sort()).toEqual(['extra', 'missing']);

    const text = await sandbox.cli(['verify']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/table readings: .*row id=1234 differs in note/);
    expect(text.stdout).toMatch(/row id=3001 is missing from PostgreSQL/);
    expect(text.stdout).toMatch(/row id=100000 is only in PostgreSQL/);

    // Put the target right again: verify agrees.
    const fix = await sandbox.pg();
    try {
      await fix.query(`UPDATE readings SET note = 'note 1234' || E'\\t\\\\' WHERE id = 1234`);
      await fix.query(`INSERT INTO readings VALUES (3001, true, 3001, '01:30:00.25', 'note 3001' || E'\\t\\\\')`);
      await fix.query(`DELETE FROM readings WHERE id = 100000`);
      await fix.query(`UPDATE docs SET body = '{"n": 12345678901234567890, "s": "é"}' WHERE slug = 'a'`);
      await fix.query(`UPDATE bag SET n = NULL WHERE word = 'y'`);
    } finally {
      await fix.end();
    }
    const ok = await sandbox.cli(['verify']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/verified \(checksum\)/);
  });
});
