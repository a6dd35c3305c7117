import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueEntries } from '../helpers/queue.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

/**
 * `my2pg plan` on a source holding every hazard it counts, beside a target with one existing
 * table that cannot take some values. Each count is checked against a direct query written
 * another way than the plan's own probes; nothing may exist afterwards.
 */
interface PlanJson {
  source: string;
  target: string;
  schema: string;
  reading: string;
  tables: {
    source: string;
    target: string;
    action: string;
    estimatedRows: number;
    rowsCounted: boolean;
    jobs: number;
    ddl: string[];
    columns: { source: string; target: string | null; mysqlType: string; pgType: string | null; reason: string }[];
    hazards: { kind: string; column: string | null; count: number | null; blocking: boolean; fix: string }[];
  }[];
  objects: { kind: string; name: string; action: string; reason: string; blocking: boolean; ddl?: string }[];
  hazards: unknown[];
  totals: { tables: number; rows: number; bytes: number; hazards: number };
  blockers: number;
  estimate: { seconds: number; basis: string } | null;
}

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await createSandbox('plan');
  const my = await sandbox.mysql();
  await my.query(`
    SET SESSION sql_mode = '';
    CREATE TABLE legacy (
      id INT PRIMARY KEY AUTO_INCREMENT,
      born DATETIME NOT NULL,
      seen DATE NULL,
      note VARCHAR(100) NULL,
      doc JSON NULL,
      big BIGINT UNSIGNED NULL,
      price DECIMAL(10,2) NOT NULL DEFAULT 0
    ) AUTO_INCREMENT = 1000;
    CREATE TABLE accounts (
      id INT PRIMARY KEY,
      visits INT NOT NULL,
      code VARCHAR(20) NOT NULL,
      tier VARCHAR(10) NOT NULL,
      active TINYINT NOT NULL,
      extra VARCHAR(10) NULL
    );
    CREATE TABLE event_log (at DATETIME NOT NULL, what VARCHAR(50) NOT NULL);
    CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
    INSERT INTO alembic_version VALUES ('abc123');
    CREATE VIEW recent_legacy AS SELECT id, note FROM legacy WHERE id > 5;
    CREATE TRIGGER legacy_touch BEFORE UPDATE ON legacy FOR EACH ROW SET NEW.note = NEW.note;
    CREATE PROCEDURE noop() BEGIN SELECT 1; END;
  `);
  // 40 rows: 5 zero dates in a NOT NULL column, 3 in a nullable one, 4 NULs, 2 JSON strings
  // holding \\u0000, 3 unsigned values beyond bigint.
  const rows: string[] = [];
  for (let i = 1; i <= 40; i += 1) {
    const born = i <= 5 ? "'0000-00-00 00:00:00'" : `'2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00'`;
    const seen = i > 30 && i <= 33 ? "'2020-00-10'" : 'NULL';
    const note = i % 10 === 0 ? `CONCAT('a', CHAR(0), 'b${i}')` : `'note ${i}'`;
    const doc = i === 7 || i === 8 ? `'{"k": "x\\\\u0000y"}'` : `'{"k": ${i}}'`;
    const big = i <= 3 ? `${18446744073709551615n - BigInt(i)}` : String(i);
    rows.push(`(${i}, ${born}, ${seen}, ${note}, ${doc}, ${big})`);
  }
  await my.query(
    `SET SESSION sql_mode = ''; INSERT INTO legacy (id, born, seen, note, doc, big) VALUES ${rows.join(', ')}`,
  );
  // accounts: 4 visits above smallint, 2 codes longer than varchar(5), 3 tiers that are no enum
  // label, 2 "active" values that are neither 0 nor 1.
  const accounts: string[] = [];
  for (let i = 1; i <= 20; i += 1) {
    accounts.push(
      `(${i}, ${i <= 4 ? 40000 + i : i}, '${i <= 2 ? 'LONGCODE' : `C${i}`}', '${i > 17 ? 'platinum' : i % 2 ? 'gold' : 'silver'}', ${i === 19 || i === 20 ? 2 : i % 2}, NULL)`,
    );
  }
  await my.query(`INSERT INTO accounts VALUES ${accounts.join(', ')}`);
  await my.query(`INSERT INTO event_log VALUES ('2024-01-01 00:00:00', 'start'), ('2024-01-02 00:00:00', 'stop')`);
  await my.end();
  const pgc = await sandbox.pg();
  await pgc.query(`
    CREATE TYPE tier AS ENUM ('gold', 'silver');
    CREATE TABLE accounts (id integer PRIMARY KEY, visits smallint NOT NULL, code varchar(5) NOT NULL, tier tier NOT NULL, active boolean NOT NULL, required_col text NOT NULL);
  `);
  await pgc.end();
}, 120_000);

afterAll(async () => {
  await sandbox?.dispose();
});

/** Relations, schemas and types in the target besides what the test made. */
async function targetObjects(): Promise<{ relations: string[]; my2pg: boolean; types: string[] }> {
  const pgc = await sandbox.pg();
  try {
    const relations = await pgc.query<{ name: string }>(
      "SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1",
    );
    const schema = await pgc.query("SELECT 1 FROM pg_namespace WHERE nspname = 'my2pg'");
    const types = await pgc.query<{ name: string }>(
      "SELECT t.typname AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e' ORDER BY 1",
    );
    return {
      relations: relations.rows.map((r) => r.name),
      my2pg: (schema.rowCount ?? 0) > 0,
      types: types.rows.map((r) => r.name),
    };
  } finally {
    await pgc.end();
  }
}

async function mysqlCount(sql: string): Promise<number> {
  const my = await sandbox.mysql();
  try {
    const [rows] = await my.query(sql);
    return Number((rows as { n: number | string }[])[0]!.n);
  } finally {
    await my.end();
  }
}

function hazard(plan: PlanJson, table: string, kind: string, column: string | null) {
  const found = plan.tables
    .find((t) => t.source === table)
    ?.hazards.find((h) => h.kind === kind && h.column === column);
  if (!found)
    throw new Error(
      `no ${kind} hazard on ${table}.${column}: ${JSON.stringify(plan.tables.find((t) => t.source === table)?.hazards)}`,
    );
  return found;
}

describe('my2pg plan', () => {
  it('counts every hazard exactly, names each blocker with its fix, and writes nothing (Redis stopped)', async () => {
    const before = await targetObjects();
    const dir = mkdtempSync(join(tmpdir(), 'my2pg-plan-'));
    const markdown = join(dir, 'plan.md');
    // Nothing listens on port 1: the plan does not need Redis (its eviction policy is only not checked).
    const { code, stdout, stderr } = await sandbox.cli(
      ['plan', '--json', '--markdown', markdown, '--column-type', 'legacy.big=bigint'],
      { REDIS_URL: 'redis://127.0.0.1:1' },
    );
    expect(stderr).toBe(
      'warning: the maxmemory-policy of Redis redis://127.0.0.1:1 could not be checked: cannot reach Redis at redis://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1; make sure it is noeviction\n',
    );
    expect(code).toBe(1);
    const plan = JSON.parse(stdout) as PlanJson;
    expect(plan.reading).toBe('count');
    expect(plan.tables.map((t) => [t.source, t.action]).sort()).toEqual([
      ['accounts', 'fill'],
      ['event_log', 'create'],
      ['legacy', 'create'],
    ]);

    // Counts against direct queries written differently from the probes.
    expect(hazard(plan, 'legacy', 'zero-date', 'born').count).toBe(
      await mysqlCount("SELECT COUNT(*) AS n FROM legacy WHERE CAST(born AS CHAR) LIKE '0000-00-00%'"),
    );
    expect(hazard(plan, 'legacy', 'zero-date', 'born').count).toBe(5);
    expect(hazard(plan, 'legacy', 'zero-date', 'born').blocking).toBe(false);
    expect(hazard(plan, 'legacy', 'zero-date', 'seen').count).toBe(
      await mysqlCount("SELECT COUNT(*) AS n FROM legacy WHERE SUBSTRING(CAST(seen AS CHAR), 6, 2) = '00'"),
    );
    expect(hazard(plan, 'legacy', 'nul-character', 'note')).toMatchObject({
      count: await mysqlCount('SELECT COUNT(*) AS n FROM legacy WHERE INSTR(note, CHAR(0)) > 0'),
      blocking: true,
    });
    expect(hazard(plan, 'legacy', 'nul-character', 'note').count).toBe(4);
    expect(hazard(plan, 'legacy', 'nul-character', 'note').fix).toMatch(/--nul strip/);
    expect(hazard(plan, 'legacy', 'invalid-json', 'doc').count).toBe(2);
    expect(hazard(plan, 'legacy', 'unsigned-beyond-bigint', 'big').count).toBe(
      await mysqlCount('SELECT COUNT(*) AS n FROM legacy WHERE big >= 9223372036854775808'),
    );
    expect(hazard(plan, 'legacy', 'unsigned-beyond-bigint', 'big').count).toBe(3);
    expect(hazard(plan, 'accounts', 'out-of-range', 'visits').count).toBe(
      await mysqlCount('SELECT COUNT(*) AS n FROM accounts WHERE visits NOT BETWEEN -32768 AND 32767'),
    );
    expect(hazard(plan, 'accounts', 'too-long', 'code').count).toBe(
      await mysqlCount('SELECT COUNT(*) AS n FROM accounts WHERE LENGTH(code) > 5'),
    );
    expect(hazard(plan, 'accounts', 'not-an-enum-label', 'tier').count).toBe(
      await mysqlCount("SELECT COUNT(*) AS n FROM accounts WHERE tier NOT IN ('gold', 'silver')"),
    );
    expect(hazard(plan, 'accounts', 'not-boolean', 'active').count).toBe(
      await mysqlCount('SELECT COUNT(*) AS n FROM accounts WHERE active > 1'),
    );
    const missing = hazard(plan, 'accounts', 'missing-target-column', 'extra');
    expect(missing).toMatchObject({ blocking: true, count: null });
    expect(missing.fix).toMatch(/ADD COLUMN/);
    expect(hazard(plan, 'accounts', 'unfilled-not-null-column', 'required_col').blocking).toBe(true);
    expect(hazard(plan, 'event_log', 'no-primary-key', null).blocking).toBe(false);
    expect(plan.blockers).toBe(
      plan.tables.flatMap((t) => t.hazards).filter((h) => h.blocking).length +
        plan.objects.filter((o) => o.blocking).length,
    );

    // Rows are counted exactly; the column mapping says why.
    const legacy = plan.tables.find((t) => t.source === 'legacy')!;
    expect(legacy).toMatchObject({ estimatedRows: 40, rowsCounted: true });
    expect(legacy.columns.find((c) => c.source === 'big')).toMatchObject({
      pgType: 'bigint',
      reason: 'column override',
    });
    expect(legacy.columns.find((c) => c.source === 'born')).toMatchObject({ pgType: 'timestamp without time zone' });
    expect(legacy.columns.find((c) => c.source === 'born')!.reason).toMatch(/nullable/);
    expect(legacy.ddl.some((s) => /CREATE TABLE "public"."legacy"/.test(s))).toBe(true);
    expect(plan.tables.find((t) => t.source === 'accounts')!.columns.find((c) => c.source === 'tier')).toMatchObject({
      pgType: 'tier',
      reason: 'existing target',
    });

    // Objects: the view translated, the trigger and procedure not migrated, sequence and alembic.
    expect(plan.objects.find((o) => o.kind === 'view' && o.name === 'recent_legacy')).toMatchObject({
      action: 'create',
      blocking: false,
    });
    expect(plan.objects.find((o) => o.name === 'recent_legacy')!.ddl).toMatch(
      /CREATE OR REPLACE VIEW "public"\."recent_legacy"/,
    );
    expect(plan.objects.find((o) => o.kind === 'trigger')).toMatchObject({
      name: 'legacy.legacy_touch',
      action: 'create',
    });
    expect(plan.objects.find((o) => o.kind === 'procedure' && o.name === 'noop')).toMatchObject({ action: 'create' });
    expect(plan.objects.find((o) => o.kind === 'sequence' && o.name === 'legacy.id')!.reason).toMatch(/1000/);
    expect(plan.objects.find((o) => o.kind === 'alembic_version')!.reason).toMatch(/abc123/);
    expect(plan.estimate?.seconds).toBeGreaterThan(0);

    // Nothing was written: PostgreSQL as before, no my2pg schema, no key under the prefix.
    expect(await targetObjects()).toEqual(before);
    expect(before.my2pg).toBe(false);
    expect(await queueEntries(sandbox)).toEqual([]);
    const md = readFileSync(markdown, 'utf8');
    expect(md).toMatch(/## Blockers/);
    expect(md).toMatch(/accounts, column extra: missing-target-column/);
  }, 120_000);

  it('prints blockers in text naming the table, the column and the fix; --quick reads no table and says so', async () => {
    const text = await sandbox.cli(['plan', '--quick'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/--quick: no table was read/);
    expect(text.stdout).toMatch(
      /table accounts, column extra: missing-target-column: the target table accounts has no column extra/,
    );
    expect(text.stdout).toMatch(/^\d+ tables, ~\d+ rows, .* blockers/m);
    const quick = JSON.parse((await sandbox.cli(['plan', '--quick', '--json'])).stdout) as PlanJson;
    expect(quick.reading).toBe('quick');
    expect(quick.tables.flatMap((t) => t.hazards).filter((h) => h.count !== null)).toEqual([]);
    expect(quick.tables.every((t) => !t.rowsCounted)).toBe(true);
  }, 120_000);

  it('exits 0 once the blockers are fixed, and 2 for usage errors or an unreachable source', async () => {
    const pgc = await sandbox.pg();
    await pgc.query(
      "ALTER TABLE accounts ADD COLUMN extra varchar(10), ALTER COLUMN required_col SET DEFAULT '', ALTER COLUMN visits TYPE integer, ALTER COLUMN code TYPE text, ALTER COLUMN active TYPE smallint USING active::int",
    );
    await pgc.query("ALTER TYPE tier ADD VALUE 'platinum'");
    await pgc.end();
    const fixed = await sandbox.cli(['plan', '--json', '--nul', 'strip', '--exclude', 'legacy']);
    const plan = JSON.parse(fixed.stdout) as PlanJson;
    expect(plan.tables.flatMap((t) => t.hazards.filter((h) => h.blocking))).toEqual([]);
    expect(fixed.code).toBe(0);
    const unknown = await sandbox.cli(['plan', '--tables', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown table.*nope/);
    const down = await sandbox.cli(['plan', '--source', 'mysql://root@127.0.0.1:1/x']);
    expect(down.code).toBe(2);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
  }, 120_000);
});
