import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;
let dir: string;

interface ReceiptJson {
  format: string;
  runId: string;
  position: unknown;
  positionNote: string;
  source: { host: string; port: number; database: string };
  target: { host: string; port: number; database: string; schema: string };
  tables: {
    table: string;
    split: unknown;
    ranges: { from: string | null; to: string | null; sourceRows: number; targetRows: number; sourceDigest: string }[];
    totals: { sourceRows: number; targetRows: number; equal: boolean };
  }[];
  seal: { algorithm: string; digest: string };
}

describe('verify --receipt: a sealed receipt, re-checked on either side', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('receipts');
    dir = mkdtempSync(join(tmpdir(), 'my2pg-receipts-'));
    const my = await sandbox.mysql();
    // 12,000 rows whose keys span 120,000 values: hashed in three key ranges.
    await my.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, price DECIMAL(10,2))');
    const rows: string[] = [];
    for (let i = 1; i <= 12_000; i += 1) rows.push(`(${i * 10}, 'item ${i}', ${(i * 1.5).toFixed(2)})`);
    await my.query(`INSERT INTO items VALUES ${rows.join(', ')}`);
    // A table without an integer key: one range.
    await my.query('CREATE TABLE tags (code VARCHAR(10) PRIMARY KEY, label TEXT)');
    await my.query("INSERT INTO tags VALUES ('a', 'Alpha'), ('b', NULL), ('c', 'Gamma')");
    await my.query('ANALYZE TABLE items, tags');
    await my.end();
    const run = await sandbox.cli(['run']);
    expect(run.code, run.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await sandbox?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes a receipt that re-checks, names a changed range on PostgreSQL only, and detects an edit', async () => {
    await expectSidesEqual(sandbox, [
      { table: 'items', columns: ['id', 'name', 'price'] },
      { table: 'tags', columns: ['code', 'label'], key: ['code'] },
    ]);
    const file = join(dir, 'receipt.json');
    const written = await sandbox.cli(['verify', '--receipt', file]);
    expect(written.code, written.stderr + written.stdout).toBe(0);
    expect(written.stdout).toMatch(/receipt .* written: 2 tables, 4 ranges/);
    const text = readFileSync(file, 'utf8');
    const receipt = JSON.parse(text) as ReceiptJson;
    expect(receipt.format).toBe('my2pg-receipt');
    // The shared MariaDB writes no binary log: no position, and the receipt says why.
    expect(receipt.position).toBeNull();
    expect(receipt.positionNote).toMatch(/log_bin is OFF/);
    expect(receipt.source).toEqual({ host: '127.0.0.1', port: 3306, database: sandbox.name });
    expect(receipt.target).toMatchObject({ database: sandbox.name, schema: 'public' });
    expect(text).not.toMatch(/password|root@/i);
    const items = receipt.tables.find((t) => t.table === 'items')!;
    expect(items.ranges).toHaveLength(3);
    expect(items.totals).toMatchObject({ sourceRows: 12_000, targetRows: 12_000, equal: true });
    expect(items.ranges.reduce((n, r) => n + r.sourceRows, 0)).toBe(12_000);
    expect(receipt.tables.find((t) => t.table === 'tags')!.split).toBeNull();

    // The same file again: re-checked, not overwritten.
    const again = await sandbox.cli(['verify', '--receipt', file]);
    expect(again.code, again.stderr + again.stdout).toBe(0);
    expect(again.stdout).toContain('table items: 3 ranges match');
    expect(again.stdout).toContain('every range re-checked matches (2 tables)');
    expect(readFileSync(file, 'utf8')).toBe(text);

    // One target row changed: PostgreSQL's re-check names the table and the range; MySQL's passes.
    const pgc = await sandbox.pg();
    await pgc.query(`UPDATE items SET name = 'changed' WHERE id = 60000`);
    await pgc.end();
    const changedRange = items.ranges.find(
      (r) => (r.from === null || BigInt(r.from) <= 60000n) && (r.to === null || 60000n < BigInt(r.to)),
    )!;
    const label = `${changedRange.from ?? '…'}..${changedRange.to ?? '…'}`;
    const onPg = await sandbox.cli(['verify', '--receipt', file, '--side', 'postgres']);
    expect(onPg.code, onPg.stderr + onPg.stdout).toBe(1);
    expect(onPg.stdout).toContain(`table items: 1 ranges differ (2 match): range ${label} on PostgreSQL`);
    expect(onPg.stdout).toContain('table tags: 1 ranges match');
    expect(onPg.stdout).not.toContain('on MySQL');
    const onMysql = await sandbox.cli(['verify', '--receipt', file, '--side', 'mysql']);
    expect(onMysql.code, onMysql.stderr + onMysql.stdout).toBe(0);
    // Narrowed to one range: the one holding the key, or another one that still matches.
    const one = await sandbox.cli(['verify', '--receipt', file, '--table', 'items', '--range', '60000']);
    expect(one.code, one.stdout).toBe(1);
    expect(one.stdout).toContain(`range ${label} on PostgreSQL`);
    const other = await sandbox.cli(['verify', '--receipt', file, '--table', 'items', '--range', '10']);
    expect(other.code, other.stdout).toBe(0);
    expect(other.stdout).toContain('table items: 1 ranges match');

    // An edit of the receipt (one row count) breaks its seal: exit 3, nothing re-checked.
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, text.replace('"sourceRows": 3', '"sourceRows": 4'));
    expect(readFileSync(edited, 'utf8')).not.toBe(text);
    const broken = await sandbox.cli(['verify', '--receipt', edited]);
    expect(broken.code, broken.stdout + broken.stderr).toBe(3);
    expect(broken.stdout).toContain('BROKEN SEAL');

    // A file that is not a receipt is refused and left as it is.
    const other2 = join(dir, 'notes.txt');
    writeFileSync(other2, 'not a receipt\n');
    const refused = await sandbox.cli(['verify', '--receipt', other2]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('exists and is not a my2pg receipt');
    expect(readFileSync(other2, 'utf8')).toBe('not a receipt\n');
    expect(existsSync(join(dir, 'nowhere', 'r.json'))).toBe(false);
  }, 180_000);
});
