import pgCopyStreams from 'pg-copy-streams';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BinaryKind } from '../../src/copy/binary-format.js';
import { writeBinaryValue } from '../../src/copy/copy-binary.js';
import { readPgBinaryRows } from '../../src/dialect/postgres/read-copy-binary.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

// Binary COPY values written from MySQL's text must be byte for byte what PostgreSQL itself
// sends for the same value (its binary output), checked against a real server.
let sandbox: Sandbox;
let client: pg.Client;

/** PostgreSQL's binary form of `text::type` (the field's length and bytes). */
async function pgBinary(text: string, type: string): Promise<Buffer> {
  const stream = client.query(
    pgCopyStreams.to(`COPY (SELECT ${client.escapeLiteral(text)}::${type}) TO STDOUT (FORMAT binary)`),
  );
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  const data = Buffer.concat(chunks);
  // Header (19 bytes), field count (2), then the field: length and bytes.
  const length = data.readInt32BE(21);
  return data.subarray(21, 25 + length);
}

/** What my2pg writes for `text` as `kind`, or null when it declines. */
function mine(text: string, kind: BinaryKind): Buffer | null {
  const out = { buffer: Buffer.alloc(256), pos: 0, reserve: () => undefined };
  const source = Buffer.from(`··${text}··`, 'utf8');
  const start = Buffer.byteLength('··');
  return writeBinaryValue(out, kind, source, start, start + Buffer.byteLength(text))
    ? out.buffer.subarray(0, out.pos)
    : null;
}

beforeAll(async () => {
  sandbox = await createSandbox('binary');
  client = await sandbox.pg();
  await client.query("SET timezone = 'UTC'");
});
afterAll(async () => {
  await client?.end();
  await sandbox?.dispose();
});

describe('binary COPY values', () => {
  const cases: [BinaryKind, string, string[]][] = [
    ['bool', 'boolean', ['0', '1']],
    ['int2', 'smallint', ['0', '-1', '32767', '-32768', '255']],
    ['int4', 'integer', ['0', '7', '-2147483648', '2147483647', '4294967']],
    [
      'int8',
      'bigint',
      [
        '0',
        '-1',
        '9007199254740991',
        '-9007199254740993',
        '9223372036854775807',
        '-9223372036854775808',
        '1234567890123',
      ],
    ],
    [
      'numeric',
      'numeric',
      [
        '0',
        '0.00',
        '-0.00',
        '1',
        '-1',
        '12.50',
        '0.0001',
        '0.00001234',
        '12340000',
        '1234',
        '10000',
        '100000000.0001',
        '99999999999999999999',
        '18446744073709551615',
        '-12345678901234567890.123456789000',
        '3.14159265358979323846264338327950288',
        '0.10',
        '5000.5000',
        '100',
        '.5',
      ],
    ],
    ['numeric', 'numeric(12,2)', ['0.00', '12345.60', '-0.01', '9999999999.99']],
    [
      'float8',
      'double precision',
      ['0', '-0', '1.5', '0.1', '1.7976931348623157e308', '5e-324', '-2.2250738585072014e-308', '123456789.123456789'],
    ],
    ['float4', 'real', ['0', '-0', '1.5', '0.10000000149011612', '3.4028234663852886e38']],
    [
      'date',
      'date',
      ['2000-01-01', '1999-12-31', '2024-02-29', '1000-01-01', '9999-12-31', '1970-01-01', '2038-01-19'],
    ],
    [
      'timestamp',
      'timestamp(6)',
      [
        '2000-01-01 00:00:00',
        '1999-12-31 23:59:59.999999',
        '2024-02-29 12:34:56.5',
        '1000-01-01 00:00:00',
        '9999-12-31 23:59:59.999999',
        '2025-01-02 03:04:05.123',
        '2024-05-06',
      ],
    ],
    ['timestamp', 'timestamptz', ['2038-01-19 03:14:07', '1970-01-01 00:00:00.000001']],
  ];
  for (const [kind, type, values] of cases) {
    it.each(values)(`${type}: %s is written as PostgreSQL sends it`, async (text) => {
      expect(mine(text, kind)?.toString('hex')).toBe((await pgBinary(text, type)).toString('hex'));
    });
  }

  it.each<[BinaryKind, string]>([
    ['int2', '32768'],
    ['int2', '1.5'],
    ['int4', '2147483648'],
    ['int8', '9223372036854775808'],
    ['int4', ''],
    ['numeric', '1e5'],
    ['numeric', 'abc'],
    ['float4', '0.1'],
    ['date', '2024-02-30'],
    ['date', '2023-02-29'],
    ['date', '2024-13-01'],
    ['timestamp', '2024-01-01 24:00:00'],
    ['timestamp', '2024-01-01T00:00:00'],
    ['bool', '2'],
  ])('%s declines %j (the copy goes on in text format, where PostgreSQL judges it)', (kind, text) => {
    expect(mine(text, kind)).toBeNull();
  });
});

describe('COPY out read from the socket', () => {
  it('gives every row, then leaves the connection to pg for the next query', async () => {
    const rows: string[][] = [];
    await readPgBinaryRows(
      client as never,
      `SELECT x::text, repeat('é', x % 7) FROM generate_series(1, 20000) x`,
      2,
      (buffer, starts, ends) => {
        rows.push([buffer.toString('utf8', starts[0]!, ends[0]!), buffer.toString('utf8', starts[1]!, ends[1]!)]);
      },
    );
    expect(rows).toHaveLength(20000);
    expect(rows[19999]).toEqual(['20000', 'é'.repeat(20000 % 7)]);
    expect((await client.query('SELECT 41 + 1 AS n')).rows).toEqual([{ n: 42 }]);
  });

  it('an error in the middle of the output rejects, and the connection still works', async () => {
    let seen = 0;
    const reading = readPgBinaryRows(
      client as never,
      'SELECT (100 / (5000 - x))::text FROM generate_series(1, 10000) x',
      1,
      () => {
        seen += 1;
      },
    );
    await expect(reading).rejects.toThrow(/division by zero/);
    expect(seen).toBeGreaterThan(0);
    expect((await client.query('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
  });
});
