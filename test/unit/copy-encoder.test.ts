import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildConverter, copyByteRuleFor, type ConvertOptions } from '../../src/copy/convert.js';
import { emptyAdjustments } from '../../src/vocabulary/adjustments.js';
import { encodeCopyValue } from '../../src/dialect/postgres/copy-text.js';
import { CopyRowEncoder } from '../../src/copy/copy-encoder.js';
import { CopySink } from '../../src/copy/copy-sink.js';
import { BINARY_CHARSET, MYSQL_TYPES, ZeroBytes, type RawField } from '../../src/dialect/mysql/raw-fields.js';
import type { SourceColumn } from '../../src/dialect/mysql/catalog.js';
import type { TargetColumn } from '../../src/dialect/postgres/catalog.js';
import { src, tgt } from '../helpers/columns.js';

/** One field of a MySQL text-protocol row: length-coded bytes, or NULL. */
function field(value: string | Buffer | null): Buffer {
  if (value === null) return Buffer.from([0xfb]);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const n = bytes.length;
  let head: Buffer;
  if (n < 251) head = Buffer.from([n]);
  else if (n < 1 << 16) head = Buffer.from([0xfc, n & 255, n >>> 8]);
  else if (n < 1 << 24) head = Buffer.from([0xfd, n & 255, (n >>> 8) & 255, n >>> 16]);
  else {
    head = Buffer.alloc(9);
    head[0] = 0xfe;
    head.writeUInt32LE(n, 1);
  }
  return Buffer.concat([head, bytes]);
}

/** A row payload with some bytes before it, as in a packet. */
function row(values: (string | Buffer | null)[]): { buffer: Buffer; start: number } {
  return { buffer: Buffer.concat([Buffer.from([1, 2, 3, 4]), ...values.map(field)]), start: 4 };
}

const TEXT_FIELD: RawField = { name: 't', columnType: 0xfc, characterSet: 45, encoding: 'utf8' };
const BLOB_FIELD: RawField = { name: 'b', columnType: 0xfc, characterSet: BINARY_CHARSET, encoding: 'binary' };
const INT_FIELD: RawField = {
  name: 'i',
  columnType: MYSQL_TYPES.LONG,
  characterSet: BINARY_CHARSET,
  encoding: 'binary',
};
const DATE_FIELD: RawField = {
  name: 'd',
  columnType: MYSQL_TYPES.DATETIME,
  characterSet: BINARY_CHARSET,
  encoding: 'binary',
};
const BOOL_FIELD: RawField = {
  name: 'f',
  columnType: MYSQL_TYPES.TINY,
  characterSet: BINARY_CHARSET,
  encoding: 'binary',
};

function encoderFor(
  columns: [SourceColumn, TargetColumn][],
  fields: RawField[],
  options: ConvertOptions = {},
): CopyRowEncoder {
  const encoder = new CopyRowEncoder(
    columns.map(([s, t]) => ({
      name: s.name,
      rule: copyByteRuleFor(s, t),
      convert: buildConverter(s, t, emptyAdjustments(), options),
    })),
    't',
  );
  encoder.bind(fields);
  return encoder;
}

function collect(capacity: number): { sink: CopySink; chunks: Buffer[]; text(): string } {
  const chunks: Buffer[] = [];
  const sink = new CopySink(capacity, (c) => chunks.push(c));
  return { sink, chunks, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('COPY text from raw MySQL rows', () => {
  const columns: [SourceColumn, TargetColumn][] = [
    [src('int', { name: 'i' }), tgt('int4', 'N')],
    [src('longtext', { name: 't' }), tgt('text', 'S')],
    [src('datetime', { name: 'd' }), tgt('timestamp', 'D')],
    [src('tinyint', { name: 'f', columnType: 'tinyint(1)' }), tgt('bool', 'B')],
    [src('longblob', { name: 'b' }), tgt('bytea', 'U')],
  ];
  const fields = [INT_FIELD, TEXT_FIELD, DATE_FIELD, BOOL_FIELD, BLOB_FIELD];

  it('writes what the converters would, value by value (--nul strip, so the NUL case is written)', () => {
    const encoder = encoderFor(columns, fields, { nul: 'strip' });
    const cases: (string | Buffer | null)[][] = [
      ['1', 'plain', '2024-01-02 03:04:05', '1', Buffer.from([0, 255, 10])],
      ['-2', 'tab\there\nnew\\back\rcr 🎮 게임', '0000-00-00 00:00:00', '0', Buffer.alloc(0)],
      [null, null, null, null, null],
      ['3', 'nul\u0000inside', '2024-00-10 00:00:00', '1', Buffer.from('\\N')],
      ['4', '\\N', '2025-01-02 03:04:05.123456', '0', Buffer.from([0x5c])],
    ];
    for (const values of cases) {
      const { sink, text } = collect(1024);
      const r = row(values);
      expect(encoder.encode(r.buffer, r.start, sink)).toBeNull();
      sink.flush();
      // The old path: decode, convert, escape.
      const converters = columns.map(([s, t]) => buildConverter(s, t, emptyAdjustments(), { nul: 'strip' }));
      const decoded = values.map((v, i) => (v === null ? null : i === 0 ? Number(v) : i === 3 ? Number(v) : v));
      const expected = `${decoded.map((v, i) => encodeCopyValue(converters[i]!(v as never))).join('\t')}\n`;
      expect(text()).toBe(expected);
    }
  });

  it('refuses a row whose text holds NUL under the default policy (reject), naming the column', () => {
    const encoder = encoderFor(columns, fields);
    const { sink } = collect(1024);
    const r = row(['3', 'nul\u0000inside', '2024-01-01 00:00:00', '1', Buffer.from([1])]);
    expect(encoder.encode(r.buffer, r.start, sink)).toMatchObject({
      column: 't',
      reason: expect.stringMatching(/NUL/),
    });
    expect(sink.written).toBe(0);
  });

  it('refuses a row whose value a converter refuses, writing nothing of it', () => {
    const encoder = encoderFor(columns, fields);
    const { sink } = collect(1024);
    const r = row(['1', 'x', '2024-01-01 00:00:00', '2', Buffer.from([1])]);
    expect(encoder.encode(r.buffer, r.start, sink)).toEqual({
      column: 'f',
      reason: 'value "2" is not 0 or 1, so it is no boolean',
    });
    expect(sink.written).toBe(0);
  });

  it('flushes by bytes: no chunk is bigger than the batch bytes, whatever the rows', () => {
    const encoder = encoderFor(columns, fields);
    const { sink, chunks, text } = collect(4096);
    const big = 'ab\t🎮\\'.repeat(3000); // 27 kB of UTF-8 that doubles in places when escaped
    let expected = '';
    for (let i = 0; i < 50; i += 1) {
      const values = [
        String(i),
        i % 10 === 0 ? big : `row ${i}`,
        '2024-01-01 00:00:00',
        '1',
        Buffer.alloc(i % 7 === 0 ? 5000 : 3, i),
      ];
      const r = row(values);
      expect(encoder.encode(r.buffer, r.start, sink)).toBeNull();
      expected += `${[String(i), encodeCopyValue(values[1] as string), values[2], 't', encodeCopyValue(`\\x${(values[4] as Buffer).toString('hex')}`)].join('\t')}\n`;
    }
    sink.flush();
    expect(chunks.length).toBeGreaterThan(30);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(4096);
    expect(text()).toBe(expected);
  });

  // Over 16 MB a field's length takes the 8-byte form. Hashing some 60 MB takes seconds on two
  // busy cores (4 s seen at load 12), so this test gets more than vitest's 5 s.
  it('encodes a 20 MB text and a 20 MB blob in pieces, exact', () => {
    const encoder = encoderFor(columns, fields);
    const unit = 'line\twith\\tabs 🎮\n';
    const text = unit.repeat(1_100_000).slice(0, 10_000_000);
    const blob = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < blob.length; i += 1) blob[i] = (i * 7919) & 255;
    const r = row(['1', text, '2024-01-01 00:00:00', '0', blob]);
    const hash = createHash('sha256');
    let largest = 0;
    const sink = new CopySink(1024 * 1024, (chunk) => {
      largest = Math.max(largest, chunk.length);
      hash.update(chunk);
    });
    expect(encoder.encode(r.buffer, r.start, sink)).toBeNull();
    sink.flush();
    expect(largest).toBeLessThanOrEqual(1024 * 1024);
    // The expected COPY text, built without escaping 50 MB in one go (that took 6 s): COPY escapes
    // character by character, so the text's is its unit's, repeated, then the cut tail's; the
    // blob's is `\\x` and its hex digits, which hold nothing to escape.
    const whole = Math.floor(text.length / unit.length);
    const textCopy = encodeCopyValue(unit).repeat(whole) + encodeCopyValue(text.slice(whole * unit.length));
    expect(encodeCopyValue(`\\x${blob.subarray(0, 4096).toString('hex')}`)).toBe(
      `\\\\x${blob.subarray(0, 4096).toString('hex')}`,
    );
    const expected = createHash('sha256')
      .update(`1\t${textCopy}\t2024-01-01 00:00:00\tf\t\\\\x`)
      .update(blob.toString('hex'))
      .update('\n')
      .digest('hex');
    expect(hash.digest('hex')).toBe(expected);
  }, 30_000);

  it('leaves to the converter what the bytes cannot say (binary text, zerofill, sets, spatial)', () => {
    expect(copyByteRuleFor(src('varbinary'), tgt('text', 'S'))).toBe('convert');
    expect(copyByteRuleFor(src('int', { columnType: 'int(5) unsigned zerofill' }), tgt('int4', 'N'))).toBe('convert');
    expect(copyByteRuleFor(src('int'), tgt('text', 'S'))).toBe('convert');
    expect(copyByteRuleFor(src('set'), tgt('_text', 'A'))).toBe('convert');
    expect(copyByteRuleFor(src('point'), tgt('point', 'G'))).toBe('convert');
    expect(copyByteRuleFor(src('bit', { numericPrecision: 1 }), tgt('bool', 'B'))).toBe('convert');
    expect(copyByteRuleFor(src('decimal'), tgt('numeric', 'N'))).toBe('digits');
    expect(copyByteRuleFor(src('varchar'), tgt('text', 'S'))).toBe('text');
    expect(copyByteRuleFor(src('json'), tgt('jsonb', 'U'))).toBe('text');
    // A text column the server sends as binary goes through the converter (which checks UTF-8).
    const encoder = encoderFor(
      [[src('varchar', { name: 'v' }), tgt('text', 'S')]],
      [{ ...TEXT_FIELD, characterSet: BINARY_CHARSET, encoding: 'binary' }],
    );
    const { sink } = collect(64);
    const bad = row([Buffer.from([0xff, 0xfe])]);
    expect(encoder.encode(bad.buffer, bad.start, sink)).toEqual({
      column: 'v',
      reason: 'binary value is not valid UTF-8 text; map the column to bytea',
    });
  });
});

describe('zero bytes of rows in one buffer', () => {
  it('finds each row that holds one, scanning the buffer once', () => {
    const rows = ['abc', 'de\u0000f', 'ghi', 'jk', '\u0000', 'xyz'];
    const buffer = Buffer.from(rows.join(''), 'latin1');
    const zeros = new ZeroBytes();
    let at = 0;
    const seen = rows.map((r) => {
      const found = zeros.mayHold(buffer, at, at + r.length);
      at += r.length;
      return found;
    });
    expect(seen).toEqual(rows.map((r) => r.includes('\u0000')));
    // Another buffer, or going back, starts a new scan.
    expect(zeros.mayHold(Buffer.from('no zero'), 0, 7)).toBe(false);
    expect(zeros.mayHold(buffer, 3, 7)).toBe(true);
  });
});
