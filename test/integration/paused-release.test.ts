import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryKindFor } from '../../src/copy/binary-format.js';
import { copyByteRuleFor } from '../../src/copy/convert.js';
import { CopyRowEncoder } from '../../src/copy/copy-encoder.js';
import { planTableCopy } from '../../src/copy/copy-plan.js';
import { copyRowsFast } from '../../src/copy/fast-copy.js';
import { createSourceDataSource, queryMysql, withMysqlConnection } from '../../src/dialect/mysql/connection.js';
import { queryRawRows } from '../../src/dialect/mysql/raw-rows.js';
import { createTargetDataSource, withPgClient } from '../../src/dialect/postgres/connection.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

// Issue 21's hang, made deterministic: PostgreSQL holds the COPY back (another session has the
// table locked, so no CopyInResponse comes and every chunk waits in the stream), the query ends,
// the last chunk fills the stream past its high-water mark, so copy.write() returns false after
// the query's end. Before the fix the copy paused the finished query's connection and the pool
// got it back paused: its next command was never sent.
let sandbox: Sandbox;
let source: DataSource;
let target: DataSource;
let locker: pg.Client;

beforeAll(async () => {
  sandbox = await createSandbox('paused');
  const my = await sandbox.mysql();
  await my.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(600) NOT NULL)');
  await my.query("INSERT INTO t VALUES (1, REPEAT('a', 280)), (2, REPEAT('b', 280)), (3, REPEAT('c', 480))");
  await my.end();
  locker = await sandbox.pg();
  await locker.query('CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)');
  source = createSourceDataSource(sandbox.mysqlUrl, 1);
  target = createTargetDataSource(sandbox.databaseUrl, 2);
  await source.initialize();
  await target.initialize();
});
afterAll(async () => {
  await locker?.end();
  await source?.destroy();
  await target?.destroy();
  await sandbox?.dispose();
});

/** Rejects when `promise` has not settled in `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done in ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('a copy whose last write is refused after its query ended', () => {
  it('returns its MySQL connection usable: the pool runs the next query', async () => {
    const plan = await planTableCopy(
      source,
      target,
      { table: 't', targetSchema: 'public', targetTable: 't', batchSize: 2 },
      undefined,
    );
    const encoder = new CopyRowEncoder(
      plan.pairs.map((p) => ({
        name: p.source.name,
        rule: copyByteRuleFor(p.source, p.target),
        convert: p.convert,
        binary: binaryKindFor(p.source, p.target),
      })),
      't',
    );
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE t IN SHARE MODE');
    let queryEnded: Promise<void> | undefined;
    const copied = withMysqlConnection(source, (mysql) =>
      withPgClient(target, async (client) => {
        await client.query('BEGIN');
        // Rows 1–2 (≈ 570 bytes) go out during the query, row 3 (≈ 490) after it: 1 060 ≥ 1 000.
        await copyRowsFast(
          client,
          plan.copySql,
          'text',
          (handlers) => {
            const query = queryRawRows(mysql, plan.selectSql, plan.selectValues, handlers);
            queryEnded = query.done;
            return query;
          },
          encoder,
          { batchRows: 2, batchBytes: 1000 },
          () => undefined,
          () => undefined,
        );
        await client.query('COMMIT');
      }),
    );
    // The COPY waits for the lock until the source query has ended; then PostgreSQL may take the rows.
    while (!queryEnded) await new Promise((wake) => setImmediate(wake));
    await within(queryEnded, 10_000, 'the source query');
    await locker.query('COMMIT');
    await within(copied, 10_000, 'the copy');
    const next = await within(
      withMysqlConnection(source, (mysql) => queryMysql<{ n: number }[]>(mysql, 'SELECT COUNT(*) AS n FROM t')),
      10_000,
      'the next query on the pool',
    );
    expect(Number(next[0]!.n)).toBe(3);
    const { rows } = await locker.query<{ id: number; v: string }>('SELECT id, v FROM t ORDER BY id');
    expect(rows.map((r) => [r.id, r.v])).toEqual([
      [1, 'a'.repeat(280)],
      [2, 'b'.repeat(280)],
      [3, 'c'.repeat(480)],
    ]);
  });
});
