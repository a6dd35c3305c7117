/**
 * CHECKs and views before the freeze (docs/live-verification.md): while a --follow run follows,
 * a CHECK is added and validated and a view over two tables is created on the target; the
 * cutover adopts them and goes, both sides equal. A row that violates the CHECK written on the
 * source while following (MariaDB with check_constraint_checks = 0) does not stop the follower:
 * the CHECK goes back to the freeze, where the cutover is a no-go naming it. A schema change to a
 * column the view reads is applied with the view dropped, and the freeze creates it again.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compareCanonical } from '../helpers/compare.js';
import { stopProcess, waitUntil } from '../helpers/faults.js';
import {
  applicationWriter,
  caughtUp,
  connect,
  followingRun,
  followJob,
  sides,
  startFollowing,
  stopFollowing,
} from '../helpers/following.js';
import type { Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

beforeAll(async () => {
  ({ sandbox } = await startFollowing('early-objects', 31));
}, 60_000);

afterAll(async () => {
  await stopFollowing();
});

const TABLES = `
  CREATE TABLE item (id INT PRIMARY KEY, qty INT NOT NULL, label VARCHAR(20), CONSTRAINT qty_not_negative CHECK (qty >= 0));
  CREATE TABLE stock (id INT PRIMARY KEY, item_id INT NOT NULL, place VARCHAR(10));
  INSERT INTO item SELECT seq, seq % 7, CONCAT('i', seq) FROM seq_1_to_300;
  INSERT INTO stock SELECT seq, 1 + seq % 300, CONCAT('p', seq % 5) FROM seq_1_to_600;
  CREATE VIEW item_stock AS SELECT s.id AS stock_id, i.id AS item_id, i.qty, s.place FROM item i JOIN stock s ON s.item_id = i.id;
`;

/** The CHECKs of `schema`'s table item: name and whether validated. */
async function checksOf(pgc: pg.Client, schema: string): Promise<{ conname: string; convalidated: boolean }[]> {
  return (
    await pgc.query(
      `SELECT conname, convalidated FROM pg_constraint WHERE contype = 'c' AND conrelid = to_regclass($1) ORDER BY conname`,
      [`${schema}.item`],
    )
  ).rows;
}

/** The view item_stock's rows on each side (MySQL's database and PostgreSQL's schema `name`), ordered, as text. */
async function viewRowsOf(name: string, pgc: pg.Client): Promise<{ mysql: string[]; pg: string[] }> {
  const text = (rows: Record<string, unknown>[]): string[] =>
    rows.map((r) => [r.stock_id, r.item_id, r.qty, r.place].map(String).join('|'));
  const my = await connect(name);
  try {
    const [mysqlRows] = await my.query('SELECT * FROM item_stock ORDER BY stock_id');
    const pgRows = await pgc.query(`SELECT * FROM ${name}.item_stock ORDER BY stock_id`);
    return { mysql: text(mysqlRows as Record<string, unknown>[]), pg: text(pgRows.rows) };
  } finally {
    await my.end();
  }
}

describe('CHECKs and views before the freeze', () => {
  test('a CHECK validated and a view over two tables created while following: the cutover goes without creating them again, both sides equal', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun('eobj', TABLES);
    const writer = applicationWriter('eobj', async (my, i) => {
      await my.query(
        `INSERT INTO item VALUES (${1000 + i}, ${i % 5}, 'new'); INSERT INTO stock VALUES (${5000 + i}, ${1000 + i}, 'w'); UPDATE item SET qty = qty + 1 WHERE id = ${1 + (i % 300)}`,
      );
      await new Promise((r) => setTimeout(r, 20));
    });
    await waitUntil(
      'the CHECK to be validated and the view created while following',
      async () => {
        const checks = await checksOf(pgc, 'eobj');
        const view = await pgc.query(`SELECT 1 FROM pg_views WHERE schemaname = 'eobj' AND viewname = 'item_stock'`);
        return checks.length === 1 && checks[0]!.convalidated && view.rowCount === 1;
      },
      90_000,
      200,
    );
    // Before any cutover: the follower still follows, and the view reads the followed rows.
    expect((await followJob(runId, 'eobj')).state).toBe('active');
    expect(Number((await pgc.query('SELECT count(*) AS n FROM eobj.item_stock')).rows[0].n)).toBeGreaterThanOrEqual(
      600,
    );
    expect(await writer.stop()).toBeGreaterThan(0);

    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 120_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/cutover: GO.*finalize [\d.]+ s\), 1 CHECKs and 1 views in place before it, at /);
    const status = JSON.parse((await sandbox.cli(['status', runId, '--json'], env)).stdout);
    expect(status.follow.cutover.beforeFreeze).toEqual({ checks: 1, views: 1 });
    // Adopted, not created again: its mark is cleared, and the view is reported verified.
    const mark = await pgc.query(`SELECT obj_description(to_regclass('eobj.item_stock'), 'pg_class') AS d`);
    expect(mark.rows[0].d).toBeNull();
    expect(status.summary.views).toEqual([expect.objectContaining({ name: 'item_stock', status: 'verified' })]);
    expect(await checksOf(pgc, 'eobj')).toEqual([
      { conname: expect.stringMatching(/qty_not_negative/), convalidated: true },
    ]);

    // Both sides equal: the tables, and the view's rows.
    const canonical = await compareCanonical(sides('eobj'), { schema: 'eobj', only: ['item', 'stock'] });
    expect(canonical.differences).toEqual([]);
    const view = await viewRowsOf('eobj', pgc);
    expect(view.pg.length).toBeGreaterThan(600);
    expect(view.pg).toEqual(view.mysql);
    await admin.query('SET GLOBAL read_only = OFF');
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('a row violating the CHECK written while following (check_constraint_checks = 0): the follower goes on, the CHECK goes back to the freeze, and the cutover is a no-go naming it', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun('eviol', TABLES);
    await waitUntil(
      'the CHECK to be validated while following',
      async () => (await checksOf(pgc, 'eviol'))[0]?.convalidated === true,
      90_000,
      200,
    );
    const [check] = await checksOf(pgc, 'eviol');
    await admin.query(
      "SET SESSION check_constraint_checks = 0; UPDATE eviol.item SET qty = -5 WHERE id = 3; SET SESSION check_constraint_checks = 1; INSERT INTO eviol.item VALUES (9001, 1, 'after')",
    );
    // The follower applies the row as MySQL holds it, past the CHECK, and goes on.
    await waitUntil('the follower to catch up', () => caughtUp(runId, admin), 60_000, 100);
    expect((await followJob(runId, 'eviol')).state).toBe('active');
    expect((await pgc.query('SELECT qty FROM eviol.item WHERE id = 3')).rows[0].qty).toBe(-5);
    expect((await pgc.query('SELECT label FROM eviol.item WHERE id = 9001')).rows[0].label).toBe('after');
    expect(await checksOf(pgc, 'eviol')).toEqual([]);

    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 120_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(1);
    expect(cut.stdout).toMatch(/cutover: NO-GO/);
    expect(cut.stdout).toContain(`CHECK ${check!.conname} on item`);
    expect(cut.stdout).toMatch(/, 0 CHECKs and 1 views in place before it, at /);
    // No-go: the follower goes on following.
    expect((await followJob(runId, 'eviol')).state).toBe('active');
    await admin.query("INSERT INTO eviol.item VALUES (9002, 2, 'later')");
    await waitUntil('the follower to apply a later write', () => caughtUp(runId, admin), 60_000, 100);
    expect((await pgc.query('SELECT label FROM eviol.item WHERE id = 9002')).rows[0]?.label).toBe('later');
    await admin.query('SET GLOBAL read_only = OFF');
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);

  test('a widening MODIFY of a column a view created while following reads: applied (the view dropped with it, not held), the cutover creates the view again and goes, its rows equal', async () => {
    const { admin, pgc, env, worker, runId } = await followingRun('eddl', TABLES);
    const viewThere = async (): Promise<boolean> =>
      (await pgc.query(`SELECT 1 FROM pg_views WHERE schemaname = 'eddl' AND viewname = 'item_stock'`)).rowCount === 1;
    await waitUntil('the view to be created while following', viewThere, 90_000, 200);
    // PostgreSQL refuses to retype a column a view reads: the follower drops the view first.
    await admin.query(
      'ALTER TABLE eddl.item MODIFY qty BIGINT NOT NULL; UPDATE eddl.item SET qty = 5000000000 WHERE id = 4',
    );
    await waitUntil('the follower to apply the change', () => caughtUp(runId, admin), 60_000, 100);
    expect((await followJob(runId, 'eddl')).state).toBe('active');
    expect(await viewThere()).toBe(false);
    const cut = await sandbox.cli(['cutover', runId, '--wait', '--lock'], env, 120_000);
    expect(cut.code, cut.stdout + cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/, 1 CHECKs and 0 views in place before it, at /);
    const view = await viewRowsOf('eddl', pgc);
    expect(view.pg.filter((r) => r.includes('|5000000000|')).length).toBeGreaterThan(0);
    expect(view.pg).toEqual(view.mysql);
    await admin.query('SET GLOBAL read_only = OFF');
    await admin.end();
    await pgc.end();
    await stopProcess(worker);
  }, 180_000);
});
