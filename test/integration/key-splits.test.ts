import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSourceCatalog } from '../../src/dialect/mysql/catalog.js';
import { closeAll, openSource } from '../../src/run/open-databases.js';
import { planTableRanges } from '../../src/run/plan-table-ranges.js';
import { compareCanonical, expectSidesEqual } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;
const GAP = 10n ** 12n;
const gapKeys = { table: 'gap_keys', columns: ['id', 'note', 'amount'] };
const tenantKeys = { table: 'tenant_keys', columns: ['tenant_id', 'id', 'note'], key: ['tenant_id', 'id'] };
const uuidKeys = { table: 'uuid_keys', columns: ['id', 'note'] };
const noKey = { table: 'no_key', columns: ['a', 'b'], key: ['a', 'b'] };

/** A row's text, varied in length so that ranges of equal rows are not trivially of equal bytes. */
const note = (i: number): string => `note ${i} ${'x'.repeat(i % 37)}`;

describe('key ranges cut from the data', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('keysplit');
    const my = await sandbox.mysql();
    await my.query(
      'CREATE TABLE gap_keys (id BIGINT NOT NULL PRIMARY KEY, note VARCHAR(80) NULL, amount DECIMAL(12,2) NULL)',
    );
    // Two dense halves 10^12 apart: an equal-width split would put every row in two ranges.
    const gapRows = Array.from({ length: 600 }, (_, i) => [
      (i < 300 ? BigInt(i + 1) : GAP + BigInt(i)).toString(),
      note(i),
      i % 5 === 0 ? null : `${i}.25`,
    ]);
    await my.query('INSERT INTO gap_keys (id, note, amount) VALUES ?', [gapRows]);
    await my.query(
      'CREATE TABLE tenant_keys (tenant_id INT NOT NULL, id INT NOT NULL, note VARCHAR(80) NULL, PRIMARY KEY (tenant_id, id))',
    );
    await my.query('INSERT INTO tenant_keys VALUES ?', [
      Array.from({ length: 600 }, (_, i) => [1 + (i % 3), 1000 + i, note(i)]),
    ]);
    await my.query('CREATE TABLE bin_keys (id VARBINARY(16) NOT NULL PRIMARY KEY, note VARCHAR(80) NULL)');
    await my.query('INSERT INTO bin_keys VALUES ?', [
      Array.from({ length: 600 }, (_, i) => [
        Buffer.from(`${(i * 7919) % 600}`.padStart(4, '0').repeat((i % 4) + 1)),
        note(i),
      ]),
    ]);
    await my.query('CREATE TABLE uuid_keys (id VARCHAR(36) NOT NULL PRIMARY KEY, note VARCHAR(80) NULL)');
    await my.query("INSERT INTO uuid_keys SELECT UUID(), CONCAT('note ', seq) FROM seq_1_to_600");
    // Case-insensitive: MySQL orders a, B, c, D; PostgreSQL's default order may differ.
    await my.query(
      'CREATE TABLE ci_keys (code VARCHAR(8) COLLATE utf8mb4_general_ci NOT NULL PRIMARY KEY, note VARCHAR(80) NULL)',
    );
    await my.query('INSERT INTO ci_keys VALUES ?', [
      Array.from({ length: 400 }, (_, i) => [`${i % 2 === 0 ? 'a' : 'B'}${i}`, note(i)]),
    ]);
    await my.query('CREATE TABLE no_key (a INT NULL, b INT NULL)');
    await my.query('INSERT INTO no_key VALUES ?', [Array.from({ length: 300 }, (_, i) => [i % 10, i])]);
    await my.query('ANALYZE TABLE gap_keys, tenant_keys, bin_keys, uuid_keys, ci_keys, no_key');
    await my.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('an integer key with a gap of 10^12 splits into ranges of about equal bytes', async () => {
    const source = await openSource(sandbox.mysqlUrl);
    try {
      const catalog = await readSourceCatalog(source);
      const planned = [{ table: 'gap_keys', jobId: 'j' } as Parameters<typeof planTableRanges>[2][number]];
      await planTableRanges(source, catalog, planned, 100);
      const ranges = planned[0]!.ranges!;
      expect(ranges.length).toBeGreaterThanOrEqual(4);
      // Each range's bytes, read here by its bounds (the test's own SQL).
      const my = await sandbox.mysql();
      try {
        const bytes: number[] = [];
        for (const r of ranges) {
          const [rows] = await my.query(
            `SELECT COALESCE(SUM(LENGTH(CONCAT_WS(',', id, note, amount))), 0) AS b, COUNT(*) AS n FROM gap_keys WHERE (? IS NULL OR id >= ?) AND (? IS NULL OR id < ?)`,
            [r.from, r.from, r.to, r.to],
          );
          bytes.push(Number((rows as { b: string }[])[0]!.b));
        }
        const mean = bytes.reduce((a, b) => a + b, 0) / bytes.length;
        expect(Math.max(...bytes), JSON.stringify(bytes)).toBeLessThanOrEqual(2 * mean);
        expect(bytes.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      } finally {
        await my.end();
      }
    } finally {
      await closeAll(source);
    }
  });

  it('plan says why a big table stays one job', async () => {
    const result = await sandbox.cli(['plan', '--quick', '--range-rows', '100']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/table gap_keys → gap_keys: create, ~?\d+ rows, .*, [4-9] jobs/);
    expect(result.stdout).toMatch(
      /table no_key → no_key: .*, 1 job \(not split: it has no primary or unique NOT NULL key\)/,
    );
    expect(result.stdout).toMatch(
      /table uuid_keys → uuid_keys: .*, 1 job \(not split: its primary key id is varchar\(36\), not an integer\)/,
    );
  });

  it('a range failing once is retried alone; every table ends exact and verified', async () => {
    const pgc = await sandbox.pg();
    // Breaks the COPY once, at the first row of the upper half (a range after the gap).
    await pgc.query('CREATE SEQUENCE fail_once');
    await pgc.query(`CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id >= ${GAP + 400n} AND nextval('fail_once') = 1 THEN
          RAISE EXCEPTION 'injected transient failure' USING ERRCODE = '40001';
        END IF;
        RETURN NEW;
      END $$`);
    await pgc.end();
    // The trigger goes on the table my2pg creates: a run that only creates it first, then fills it.
    const created = await sandbox.cli(['run', '--tables', 'gap_keys', '--range-rows', '0']);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    const pgt = await sandbox.pg();
    await pgt.query('TRUNCATE gap_keys');
    await pgt.query('CREATE TRIGGER fail_once BEFORE INSERT ON gap_keys FOR EACH ROW EXECUTE FUNCTION fail_once()');
    await pgt.end();

    const result = await sandbox.cli(['run', '--range-rows', '100', '--batch-size', '40', '--concurrency', '2']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const ranges = Number(/gap_keys ×(\d+)/.exec(result.stderr)?.[1] ?? 0);
    expect(ranges, result.stderr).toBeGreaterThanOrEqual(4);
    expect(result.stdout).toMatch(/gap_keys\s+600\s+600\s+0\s+checksum ok/);
    const runId = /run (run-[\w.-]+): every table/.exec(result.stdout)![1]!;
    const check = await sandbox.pg();
    try {
      const attempts = await check.query(
        `SELECT attempts FROM my2pg.run_tables WHERE run_id = $1 AND table_name = 'gap_keys'`,
        [runId],
      );
      // Only the range that failed ran twice.
      expect(attempts.rows[0].attempts).toBe(ranges + 1);
    } finally {
      await check.end();
    }
    expect(await expectSidesEqual(sandbox, [gapKeys, tenantKeys, uuidKeys, noKey])).toEqual({
      gap_keys: 600,
      tenant_keys: 600,
      uuid_keys: 600,
      no_key: 300,
    });
    // Binary and case-insensitive keys: every value in canonical form, rows sorted (the sides' key orders differ).
    const canonical = await compareCanonical(sandbox, { only: ['bin_keys', 'ci_keys'] });
    expect(canonical.differences).toEqual([]);
    expect(canonical.tables).toBe(2);
    for (const t of ['tenant_keys', 'bin_keys', 'uuid_keys', 'ci_keys', 'no_key'])
      expect(result.stdout).toMatch(new RegExp(`${t}\\s+\\d+\\s+\\d+\\s+0\\s+checksum ok`));
  });
});
