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

  it.each([
    // table, the test's own condition for `key >= ?` and `key < ?` (bounds as my2pg writes them), the row's bytes
    ['gap_keys', 'id >= ?', 'id < ?', (b: string) => [b], "CONCAT_WS(',', id, note, amount)"],
    [
      'tenant_keys',
      '(tenant_id, id) >= (?, ?)',
      '(tenant_id, id) < (?, ?)',
      (b: string) => JSON.parse(b) as string[],
      "CONCAT_WS(',', tenant_id, id, note)",
    ],
    [
      'bin_keys',
      'id >= UNHEX(?)',
      'id < UNHEX(?)',
      (b: string) => JSON.parse(b) as string[],
      "CONCAT_WS(',', id, note)",
    ],
  ] as const)(
    '%s splits into at least 4 ranges, none over twice the mean bytes',
    async (table, ge, lt, values, row) => {
      const source = await openSource(sandbox.mysqlUrl);
      try {
        const catalog = await readSourceCatalog(source);
        const planned = [{ table, jobId: 'j' } as Parameters<typeof planTableRanges>[2][number]];
        await planTableRanges(source, catalog, planned, 100);
        const ranges = planned[0]!.ranges ?? [];
        expect(ranges.length).toBeGreaterThanOrEqual(4);
        // Each range's rows and bytes, read here by its bounds (the test's own SQL).
        const my = await sandbox.mysql();
        try {
          const bytes: number[] = [];
          let rows = 0;
          for (const r of ranges) {
            const where = [...(r.from === null ? [] : [ge]), ...(r.to === null ? [] : [lt])];
            const [result] = await my.query(
              `SELECT COALESCE(SUM(LENGTH(${row})), 0) AS b, COUNT(*) AS n FROM ${table}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`,
              [...(r.from === null ? [] : values(r.from)), ...(r.to === null ? [] : values(r.to))],
            );
            bytes.push(Number((result as { b: string }[])[0]!.b));
            rows += Number((result as { n: string }[])[0]!.n);
          }
          // Every row in exactly one range: the ranges' rows add up to the table's.
          expect(rows).toBe(600);
          const mean = bytes.reduce((a, b) => a + b, 0) / bytes.length;
          expect(Math.max(...bytes), JSON.stringify(bytes)).toBeLessThanOrEqual(2 * mean);
        } finally {
          await my.end();
        }
      } finally {
        await closeAll(source);
      }
    },
  );

  it('plan says why a big table stays one job', async () => {
    const result = await sandbox.cli(['plan', '--quick', '--range-rows', '100']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/table gap_keys → gap_keys: create, ~?\d+ rows, .*, [4-9] jobs/);
    expect(result.stdout).toMatch(/table tenant_keys → tenant_keys: create, .*, [4-9] jobs/);
    expect(result.stdout).toMatch(/table bin_keys → bin_keys: create, .*, [4-9] jobs/);
    expect(result.stdout).toContain(
      '1 job (not split: its primary key column id is text (varchar(36), collation order); only integer and binary keys are split)',
    );
    expect(result.stdout).toMatch(
      /table no_key → no_key: .*, 1 job \(not split: it has no primary or unique NOT NULL key\)/,
    );
  });

  it('a range failing once is retried alone; every table ends exact and verified', async () => {
    // Breaks the COPY of each split table once, at a row of a middle range (for gap_keys, after the gap).
    const failAt: Record<string, string> = {
      gap_keys: `NEW.id >= ${GAP + 400n}`,
      tenant_keys: '(NEW.tenant_id, NEW.id) >= (2, 1300)',
      bin_keys: "NEW.id >= '\\x30333030'::bytea",
    };
    // The triggers go on the tables my2pg creates: a first run creates and fills them, then they are emptied.
    const created = await sandbox.cli(['run', '--tables', Object.keys(failAt).join(','), '--range-rows', '0']);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    const pgt = await sandbox.pg();
    for (const [table, condition] of Object.entries(failAt)) {
      await pgt.query(`TRUNCATE ${table}`);
      await pgt.query(`CREATE SEQUENCE ${table}_fail`);
      await pgt.query(`CREATE FUNCTION ${table}_fail() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF ${condition} AND nextval('${table}_fail') = 1 THEN
            RAISE EXCEPTION 'injected transient failure' USING ERRCODE = '40001';
          END IF;
          RETURN NEW;
        END $$`);
      await pgt.query(
        `CREATE TRIGGER fail_once BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_fail()`,
      );
    }
    await pgt.end();

    const result = await sandbox.cli(['run', '--range-rows', '100', '--batch-size', '40', '--concurrency', '2']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const runId = /run (run-[\w.-]+): every table/.exec(result.stdout)![1]!;
    const check = await sandbox.pg();
    try {
      for (const table of Object.keys(failAt)) {
        const ranges = Number(new RegExp(`${table} ×(\\d+)`).exec(result.stderr)?.[1] ?? 0);
        expect(ranges, `${table}: ${result.stderr}`).toBeGreaterThanOrEqual(4);
        expect(result.stdout).toMatch(new RegExp(`${table}\\s+600\\s+600\\s+0\\s+checksum ok`));
        const attempts = await check.query(
          `SELECT attempts FROM my2pg.run_tables WHERE run_id = $1 AND table_name = $2`,
          [runId, table],
        );
        // Only the range that failed ran twice.
        expect(attempts.rows[0].attempts, table).toBe(ranges + 1);
      }
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
