import { describe, expect, it } from 'vitest';
import { digestFormFor } from '../../src/vocabulary/canonical/digest-forms.js';
import { PgBinaryRowParser } from '../../src/dialect/postgres/read-copy-binary.js';
import { FramedHasher, RangeDigests } from '../../src/verify/row-digest.js';
import { src, tgt } from '../helpers/columns.js';

/** COPY binary output of rows of text fields (null = NULL). */
function copyBinary(rows: (string | Buffer | null)[][]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(4), Buffer.alloc(4)];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const value of row) {
      const length = Buffer.alloc(4);
      if (value === null) {
        length.writeInt32BE(-1);
        parts.push(length);
        continue;
      }
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
      length.writeInt32BE(bytes.length);
      parts.push(length, bytes);
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

function parseInChunks(data: Buffer, width: number, chunkSize: number): (string | null)[][] {
  const rows: (string | null)[][] = [];
  const parser = new PgBinaryRowParser(width, (buffer, starts, ends) => {
    rows.push(
      Array.from({ length: width }, (_v, i) => (ends[i]! < 0 ? null : buffer.toString('utf8', starts[i]!, ends[i]!))),
    );
  });
  for (let at = 0; at < data.length; at += chunkSize) parser.push(data.subarray(at, at + chunkSize));
  parser.finish();
  return rows;
}

describe('COPY binary rows', () => {
  const rows = [
    ['1', 'tab\there', null],
    ['2', '', '🎮 게임'],
    ['3', 'x'.repeat(100_000), 'y'],
  ];

  it.each([1, 2, 3, 5, 7, 64, 4096, 1 << 20])('the same rows whatever the chunks (%i bytes)', (chunkSize) => {
    expect(parseInChunks(copyBinary(rows), 3, chunkSize)).toEqual(rows);
  });

  it('refuses output cut in the middle of a row', () => {
    const data = copyBinary(rows);
    const parser = new PgBinaryRowParser(3, () => undefined);
    parser.push(data.subarray(0, data.length - 10));
    expect(() => parser.finish()).toThrow(/middle of a row/);
  });
});

describe('framed row hashes', () => {
  const digest = (feed: (h: FramedHasher) => void): string => {
    const h = new FramedHasher();
    feed(h);
    return h.digest();
  };

  it('tells values apart however their bytes split, and NULL from empty', () => {
    expect(
      digest((h) => {
        h.text('ab');
        h.text('c');
      }),
    ).not.toBe(
      digest((h) => {
        h.text('a');
        h.text('bc');
      }),
    );
    expect(digest((h) => h.null())).not.toBe(digest((h) => h.text('')));
    expect(
      digest((h) => {
        h.null();
        h.text('');
      }),
    ).not.toBe(
      digest((h) => {
        h.text('');
        h.null();
      }),
    );
  });

  it('gives the same digest for a value as bytes or as text, small or big', () => {
    for (const value of ['plain', '🎮 게임\t\\', 'z'.repeat(200_000)]) {
      const bytes = Buffer.from(`--${value}--`, 'utf8');
      expect(
        digest((h) => {
          h.text('x');
          h.bytes(bytes, 2, bytes.length - 2);
          h.null();
        }),
      ).toBe(
        digest((h) => {
          h.text('x');
          h.text(value);
          h.null();
        }),
      );
    }
  });

  it('hashes a MySQL row payload as it is: the same bytes as its values one by one', () => {
    const values = ['1', null, 'x'.repeat(300), '', '🎮 게임', 'y'.repeat(70_000)];
    const payload = Buffer.concat(
      values.map((v) => {
        if (v === null) return Buffer.from([0xfb]);
        const bytes = Buffer.from(v, 'utf8');
        const n = bytes.length;
        const head =
          n < 251
            ? Buffer.from([n])
            : n < 65536
              ? Buffer.from([0xfc, n & 255, n >>> 8])
              : Buffer.from([0xfd, n & 255, (n >>> 8) & 255, n >>> 16]);
        return Buffer.concat([head, bytes]);
      }),
    );
    expect(digest((h) => h.framed(payload, 0, payload.length))).toBe(
      digest((h) => {
        for (const v of values) h.text(v);
      }),
    );
  });

  it('keeps one digest per key range, and refuses rows out of key order', () => {
    const digests = new RangeDigests(false);
    for (const [range, value] of [
      [0, 'a'],
      [0, 'b'],
      [2, 'c'],
    ] as const) {
      digests.beginRow(range);
      digests.hasher.text(value);
      digests.endRow();
    }
    const done = digests.finish();
    expect([...done.keys()]).toEqual([0, 2]);
    expect(done.get(0)!.rows).toBe(2);
    const late = new RangeDigests(false);
    late.beginRow(3);
    expect(() => late.beginRow(1)).toThrow(/out of key order/);
  });

  it('without a key, the digest does not depend on the order of rows', () => {
    const sum = (values: string[]): string => {
      const d = new RangeDigests(true);
      for (const v of values) {
        d.beginRow(0);
        d.hasher.text(v);
        d.endRow();
      }
      return d.finish().get(0)!.digest;
    };
    expect(sum(['a', 'b', 'b'])).toBe(sum(['b', 'a', 'b']));
    expect(sum(['a', 'b'])).not.toBe(sum(['a', 'b', 'b']));
  });
});

describe('digest forms', () => {
  it.each([
    ['int → int4', src('int'), tgt('int4', 'N'), 'bytes', '"c"::text'],
    [
      'zerofill → int4 (MySQL prints the zeros)',
      src('int', { columnType: 'int(5) zerofill' }),
      tgt('int4', 'N'),
      'value',
      '("c")::text',
    ],
    ['varchar → text', src('varchar'), tgt('text', 'S'), 'bytes', '"c"::text'],
    ['char → bpchar (padding)', src('char'), tgt('bpchar', 'S'), 'value', '("c")::text'],
    ['blob → bytea (the bytes themselves)', src('blob'), tgt('bytea', 'U'), 'bytes', '"c"'],
    ['datetime(3) → timestamp', src('datetime', { datetimePrecision: 3 }), tgt('timestamp', 'D'), 'bytes', '"c"::text'],
    [
      'timestamp → timestamptz (printed in UTC, without offset)',
      src('timestamp'),
      tgt('timestamptz', 'D'),
      'bytes',
      '"c"::timestamp::text',
    ],
    ['tinyint(1) → bool', src('tinyint', { columnType: 'tinyint(1)' }), tgt('bool', 'B'), 'bytes', '"c"::int::text'],
    ['bit(1) → bool (read as 0/1)', src('bit'), tgt('bool', 'B'), 'value', '"c"::int::text'],
    ['json → jsonb', src('json'), tgt('jsonb', 'U'), 'value', '("c")::text'],
    ['double → float8', src('double'), tgt('float8', 'N'), 'value', '("c")::text'],
  ])('%s', (_label, s, t, kind, pg) => {
    const form = digestFormFor(s, t);
    expect(form.kind).toBe(kind);
    expect(form.pg('"c"')).toBe(pg);
  });
});
