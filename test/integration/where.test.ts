import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual, readSides } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

// A date condition on a table split into key ranges (with a `?` inside a literal, which must not
// be taken for a bound value), and a string condition holding a quote on a small table.
const ORDERS_WHERE = "created_at >= '2024-01-01' AND note <> 'skip?'";
const CUSTOMERS_WHERE = "name <> 'O''Brien'";
const ORDERS = { table: 'orders', columns: ['id', 'customer_id', 'created_at', 'note', 'amount'], where: ORDERS_WHERE };
const CUSTOMERS = { table: 'customers', columns: ['id', 'name'], where: CUSTOMERS_WHERE };

let sandbox: Sandbox;
let dir: string;

/** Writes a migration file into the test's temporary directory and returns its path. */
function migrationFile(name: string, where: Record<string, string>, extra = ''): string {
  const path = join(dir, name);
  const lines = Object.entries(where).map(([table, condition]) => `  ${table}: ${JSON.stringify(condition)}`);
  writeFileSync(path, `rangeRows: 1000\n${extra}where:\n${lines.join('\n')}\n`);
  return path;
}

/** The tables in the target's public schema and whether my2pg's state schema exists. */
async function targetObjects(): Promise<{ tables: string[]; stateSchema: boolean }> {
  const pgc = await sandbox.pg();
  try {
    const tables = await pgc.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    const state = await pgc.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'my2pg'`);
    return { tables: tables.rows.map((r) => r.name), stateSchema: state.rows[0]!.n > 0 };
  } finally {
    await pgc.end();
  }
}

describe('migration file where: only the chosen rows are copied and verified', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('where');
    dir = mkdtempSync(join(tmpdir(), 'my2pg-where-'));
    const my = await sandbox.mysql();
    await my.query('CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)');
    await my.query(
      "INSERT INTO customers VALUES (1, 'Ann'), (2, 'O''Brien'), (3, 'Bo'), (4, 'Cy'), (5, 'Di'), (6, 'what?')",
    );
    await my.query(
      'CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, created_at DATETIME NOT NULL, note VARCHAR(40) NOT NULL, amount DECIMAL(10,2) NOT NULL, CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id))',
    );
    // 5000 rows over two years (2023 and 2024: about half match the date), every 7th row's note
    // 'skip?'; orders of O'Brien (customer 2) only in 2023, so the filtered copy keeps its FK.
    const rows: string[] = [];
    for (let i = 1; i <= 5000; i += 1) {
      const day = new Date(Date.UTC(2023, 0, 1) + Math.floor((i * 730) / 5000) * 86_400_000).toISOString().slice(0, 10);
      const customer = day < '2024' ? 1 + (i % 6) : [1, 3, 4, 5, 6][i % 5]!;
      rows.push(
        `(${customer}, '${day} 12:${String(i % 60).padStart(2, '0')}:00', '${i % 7 === 0 ? 'skip?' : `order ${i}`}', ${(i * 1.25).toFixed(2)})`,
      );
    }
    await my.query(`INSERT INTO orders (customer_id, created_at, note, amount) VALUES ${rows.join(', ')}`);
    await my.query('ANALYZE TABLE orders, customers');
    await my.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses unknown tables and conditions MySQL rejects, all at once, before anything is written (exit 2)', async () => {
    const config = migrationFile('bad.yaml', {
      orderz: 'id > 0',
      orders: 'no_such_column = 1',
      customers: '1; DROP TABLE orders',
    });
    const result = await sandbox.cli(['run', '--config', config]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain('where.orderz: the source has no table orderz');
    expect(result.stderr).toMatch(/where\.orders: MySQL refused the condition: Unknown column 'no_such_column'/);
    expect(result.stderr).toContain('where.customers: a condition cannot hold ";"');
    expect(await targetObjects()).toEqual({ tables: [], stateSchema: false });
  });

  it('refuses a condition that closes the parentheses it is put in (exit 2)', async () => {
    const config = migrationFile('escape.yaml', { orders: '1=1) OR (1=1' });
    const result = await sandbox.cli(['run', '--config', config]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain(
      'where.orders: the ")" at character 4 closes a parenthesis the condition did not open',
    );
    expect(await targetObjects()).toEqual({ tables: [], stateSchema: false });
  });

  it('copies exactly the matching rows, split into key ranges, and verifies them', async () => {
    const config = migrationFile('good.yaml', { orders: ORDERS_WHERE, customers: CUSTOMERS_WHERE });
    const result = await sandbox.cli(['run', '--config', config], {}, 180_000);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`orders (where: ${ORDERS_WHERE})`);
    expect(result.stdout).toContain(`customers (where: ${CUSTOMERS_WHERE})`);
    const counts = await expectSidesEqual(sandbox, [ORDERS, CUSTOMERS]);
    // The condition really filtered: fewer rows than the source holds, but not none.
    expect(counts.orders).toBeGreaterThan(1500);
    expect(counts.orders).toBeLessThan(2500);
    expect(counts.customers).toBe(5);
    const all = await readSides(sandbox, { table: 'orders', columns: ['id'] });
    expect(all.source.length).toBe(5000);
    const pgc = await sandbox.pg();
    try {
      const run = await pgc.query<{ options: { ranges: Record<string, number>; where: Record<string, string> } }>(
        'SELECT options FROM my2pg.runs ORDER BY created_at DESC LIMIT 1',
      );
      // Split by the matching rows (about 2100 at 1000 per range), not by the table's 5000.
      expect(run.rows[0]!.options.ranges.orders).toBeGreaterThanOrEqual(2);
      expect(run.rows[0]!.options.ranges.orders).toBeLessThanOrEqual(3);
      expect(run.rows[0]!.options.where).toEqual({ orders: ORDERS_WHERE, customers: CUSTOMERS_WHERE });
      // The sequence continues after MySQL's AUTO_INCREMENT, past every id of the source.
      const next = await pgc.query<{ n: string }>(`SELECT nextval(pg_get_serial_sequence('orders', 'id'))::text AS n`);
      expect(BigInt(next.rows[0]!.n)).toBeGreaterThanOrEqual(5001n);
      const fks = await pgc.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname = 'my2pg_queue')`,
      );
      expect(fks.rows[0]!.n).toBe(1);
    } finally {
      await pgc.end();
    }
  });

  it('verify compares only the matching source rows: a change outside them is ignored, one inside is found', async () => {
    const my = await sandbox.mysql();
    try {
      // Rows the conditions leave out, changed and still left out: nothing to see.
      await my.query("UPDATE orders SET amount = amount + 1 WHERE created_at < '2024-01-01' ORDER BY id LIMIT 1");
      await my.query(
        "UPDATE orders SET amount = amount + 1 WHERE created_at >= '2024-01-01' AND note = 'skip?' ORDER BY id LIMIT 1",
      );
      const outside = await sandbox.cli(['verify']);
      expect(outside.code, outside.stdout + outside.stderr).toBe(0);

      await my.query(
        "UPDATE orders SET amount = amount + 1 WHERE created_at >= '2024-06-01' AND note <> 'skip?' ORDER BY id LIMIT 1",
      );
      const changed = await sandbox.cli(['verify']);
      expect(changed.code, changed.stdout + changed.stderr).toBe(1);
      expect(changed.stdout + changed.stderr).toMatch(
        /table orders \(where: [^)]*\): \d+ rows in MySQL match the condition, \d+ in PostgreSQL.* differs in amount/,
      );
      expect(changed.stdout).toMatch(/^customers \(where: name <> 'O''Brien'\) +5 +5 +0 +checksum ok/m);
      // The same number of rows on both sides: the count compares the matching rows with every target row.
      const count = await sandbox.cli(['verify', '--method', 'count']);
      expect(count.code, count.stdout + count.stderr).toBe(0);

      // A row that comes to match the condition is missing from the target.
      await my.query(
        "UPDATE orders SET note = 'no longer skipped' WHERE created_at >= '2024-01-01' AND note = 'skip?' ORDER BY id LIMIT 1",
      );
      const missing = await sandbox.cli(['verify']);
      expect(missing.code, missing.stdout + missing.stderr).toBe(1);
      expect(missing.stdout + missing.stderr).toMatch(/table orders \(where: [^)]*\): .* is missing from PostgreSQL/);
    } finally {
      await my.end();
    }
  });

  it('careful copy: rows PostgreSQL refuses are rejected only among the matching rows', async () => {
    const my = await sandbox.mysql();
    // Negative TIMEs, which PostgreSQL's time refuses, at ids 10 and 20 (left out) and 150 (kept).
    const values = Array.from(
      { length: 300 },
      (_v, i) =>
        `(${i + 1}, '${[10, 20, 150].includes(i + 1) ? '-01:00:00' : `${String((i + 1) % 24).padStart(2, '0')}:30:00`}')`,
    );
    await my.query(`CREATE TABLE readings (id INT PRIMARY KEY, dur TIME NOT NULL)`);
    await my.query(`INSERT INTO readings VALUES ${values.join(', ')}`);
    await my.end();
    const pgc = await sandbox.pg();
    await pgc.query('CREATE TABLE readings (id integer PRIMARY KEY, dur time NOT NULL)');
    await pgc.end();
    const config = migrationFile('careful.yaml', { readings: 'id > 100' });
    const result = await sandbox.cli(
      ['run', '--config', config, '--tables', 'readings', '--batch-size', '50'],
      {},
      180_000,
    );
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/table readings: 1 rows rejected/);
    const { source, target } = await readSides(sandbox, {
      table: 'readings',
      columns: ['id', 'dur'],
      where: 'id > 100',
    });
    expect(target).toEqual(source.filter((r) => r[0] !== '150'));
    const check = await sandbox.pg();
    try {
      const rejected = await check.query(
        `SELECT key->>'id' AS id, sqlstate FROM my2pg.rejected_rows WHERE table_name = 'readings'`,
      );
      // PostgreSQL refused it (a sqlstate): the careful path found it.
      expect(rejected.rows).toEqual([{ id: '150', sqlstate: '22007' }]);
    } finally {
      await check.end();
    }
  });

  it('a foreign key the filtered parent cannot satisfy is a finalize problem naming the key and the where', async () => {
    const config = migrationFile('fk.yaml', { customers: 'id <> 3' });
    const result = await sandbox.cli(['run', '--config', config, '--tables', 'customers,orders'], {}, 180_000);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout + result.stderr).toMatch(
      /foreign key \S*orders_customer\S* on orders: VALIDATE failed: .*likely cause: the migration file's where copies only part of customers/,
    );
    // The copy is complete all the same: every order, only the customers matching.
    await expectSidesEqual(sandbox, [
      { table: 'orders', columns: ORDERS.columns },
      { ...CUSTOMERS, where: 'id <> 3' },
    ]);
  });
});
