import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadGate } from '../../src/core/read-gate.js';
import { createSourceDataSource, queryMysql, withMysqlConnection } from '../../src/dialect/mysql/connection.js';
import { createTargetDataSource } from '../../src/dialect/postgres/connection.js';
import { checksumTable } from '../../src/verify/checksum.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

// Verification while following pauses its whole comparisons while the follower has a backlog
// (src/verify/follower-gate.ts). A paused comparison must stay exact: both sides are read in the
// snapshots their queries opened, so a write during the pause is not seen by it (it is the
// follower's, logged after the comparison's batch), and a difference that was there is found.
let sandbox: Sandbox;
let source: DataSource;
let target: DataSource;
let pgClient: pg.Client;
const ROWS = 40_000;

beforeAll(async () => {
  sandbox = await createSandbox('gated');
  const my = await sandbox.mysql();
  await my.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40) NOT NULL)');
  for (let from = 1; from <= ROWS; from += 5_000) {
    const ids = Array.from({ length: 5_000 }, (_, i) => from + i);
    await my.query(`INSERT INTO t VALUES ${ids.map((id) => `(${id}, 'value ${id}')`).join(', ')}`);
  }
  await my.end();
  pgClient = await sandbox.pg();
  await pgClient.query('CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)');
  await pgClient.query(`INSERT INTO t SELECT n, 'value ' || n FROM generate_series(1, ${ROWS}) AS n`);
  // The one real difference, read before the pause.
  await pgClient.query("UPDATE t SET v = 'changed in PostgreSQL' WHERE id = 7");
  // One connection each: a connection handed back paused would hang the next query.
  source = createSourceDataSource(sandbox.mysqlUrl, 1);
  target = createTargetDataSource(sandbox.databaseUrl, 1);
  await source.initialize();
  await target.initialize();
});
afterAll(async () => {
  await pgClient?.end();
  await source?.destroy();
  await target?.destroy();
  await sandbox?.dispose();
});

/** A gate the test closes and opens, counting the reads it paused. */
class HeldGate implements ReadGate {
  held = true;
  paused = 0;
  private release: (() => void)[] = [];
  private onPause: (() => void)[] = [];
  closed(): boolean {
    return this.held;
  }
  opened(): Promise<void> {
    this.paused += 1;
    for (const wake of this.onPause.splice(0)) wake();
    return new Promise((resolve) => this.release.push(resolve));
  }
  open(): void {
    this.held = false;
    for (const go of this.release.splice(0)) go();
  }
  async pausedBoth(): Promise<void> {
    while (this.paused < 2) await new Promise<void>((wake) => this.onPause.push(wake));
  }
}

describe('a whole comparison paused for the follower', () => {
  it('waits while the gate is closed, then finds exactly the difference that was there when it began', async () => {
    const gate = new HeldGate();
    let settled = false;
    const check = checksumTable(
      source,
      target,
      { table: 't', targetSchema: 'public', targetTable: 't' },
      { gate, rangeKeys: 5_000 },
    ).finally(() => {
      settled = true;
    });
    // Both readers (MySQL and PostgreSQL) stopped on their first rows.
    await gate.pausedBoth();
    // Writes on both sides during the pause, near the end of the key order (not read yet).
    // (Its own session: the pool's one MySQL connection is the paused reader's.)
    const my = await sandbox.mysql();
    await my.query(`UPDATE t SET v = 'written during the pause' WHERE id = ${ROWS - 3}`);
    await my.end();
    await pgClient.query(`UPDATE t SET v = 'written during the pause too' WHERE id = ${ROWS - 5}`);
    // Still waiting for the gate (not a correctness argument: the comparison cannot end while both readers are paused).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false);
    gate.open();
    const result = await check;
    expect(result.status).toBe('mismatch');
    expect(result.sourceRows).toBe(ROWS);
    expect(result.targetRows).toBe(ROWS);
    expect(result.differences.map((d) => d.key.id)).toEqual(['7']);
    // The pool's only connections came back usable (not paused).
    const next = await withMysqlConnection(source, (m) =>
      queryMysql<{ v: string }[]>(m, `SELECT v FROM t WHERE id = ${ROWS - 3}`),
    );
    expect(next[0]!.v).toBe('written during the pause');
    const pgNext: { v: string }[] = await target.query(`SELECT v FROM t WHERE id = ${ROWS - 5}`);
    expect(pgNext[0]!.v).toBe('written during the pause too');
    // A comparison now sees all three.
    const after = await checksumTable(source, target, { table: 't', targetSchema: 'public', targetTable: 't' });
    expect(after.differences.map((d) => d.key.id).sort()).toEqual(['39995', '39997', '7']);
  });
});
