import { describe, expect, it } from 'vitest';
import { buildConverter, setToArrayLiteral } from '../../src/copy/convert.js';
import { ValueRefused } from '../../src/core/errors.js';
import { emptyAdjustments } from '../../src/vocabulary/adjustments.js';
import { isZeroDate } from '../../src/vocabulary/type-families.js';
import type { SourceColumn } from '../../src/dialect/mysql/catalog.js';
import type { TargetColumn } from '../../src/dialect/postgres/catalog.js';
import { src, tgt } from '../helpers/columns.js';

describe('value conversion for the target column', () => {
  it.each<[string, SourceColumn, TargetColumn, unknown, string | null]>([
    ['tinyint 1 → boolean', src('tinyint', { columnType: 'tinyint(1)' }), tgt('bool', 'B'), 1, 't'],
    ['tinyint 0 → boolean', src('tinyint', { columnType: 'tinyint(1)' }), tgt('bool', 'B'), 0, 'f'],
    ['bit(1) → boolean', src('bit', { numericPrecision: 1 }), tgt('bool', 'B'), Buffer.from([1]), 't'],
    ['NULL stays NULL', src('int'), tgt('int4', 'N'), null, null],
    [
      'bigint text stays exact',
      src('bigint', { unsigned: true }),
      tgt('numeric', 'N'),
      '18446744073709551615',
      '18446744073709551615',
    ],
    [
      'decimal text stays exact',
      src('decimal'),
      tgt('numeric', 'N'),
      '12345678901234567890.123456789',
      '12345678901234567890.123456789',
    ],
    ['float -0 keeps its sign', src('double'), tgt('float8', 'N'), '-0', '-0'],
    ['blob → bytea hex', src('blob'), tgt('bytea', 'U'), Buffer.from([0, 255, 10]), '\\x00ff0a'],
    ['zero date → NULL', src('date'), tgt('date', 'D'), '0000-00-00', null],
    ['partial zero datetime → NULL', src('datetime'), tgt('timestamp', 'D'), '2024-00-10 00:00:00', null],
    [
      'datetime(6) keeps microseconds',
      src('datetime'),
      tgt('timestamp', 'D'),
      '2025-01-02 03:04:05.123456',
      '2025-01-02 03:04:05.123456',
    ],
    ['enum text → enum', src('enum'), tgt('friendshipstatus', 'E'), 'ACCEPTED', 'ACCEPTED'],
    ['set → text[]', src('set'), tgt('_text', 'A'), 'a,b"c', '{"a","b\\"c"}'],
    [
      'bit(10) → varbit',
      src('bit', { numericPrecision: 10 }),
      tgt('varbit', 'V'),
      Buffer.from([0b10, 0b11111111]),
      '1011111111',
    ],
    [
      'binary(16) → uuid',
      src('binary'),
      tgt('uuid', 'U'),
      Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
      '00112233-4455-6677-8899-aabbccddeeff',
    ],
  ])('%s', (_label, s, t, value, expected) => {
    expect(buildConverter(s, t)(value as never)).toBe(expected);
  });

  it('rejects a value a boolean cannot hold, naming the column', () => {
    const convert = buildConverter(src('tinyint', { columnType: 'tinyint(1)' }), tgt('bool', 'B'));
    expect(() => convert(2)).toThrow(ValueRefused);
    expect(() => convert(2)).toThrow(/column c: value "2" is not 0 or 1/);
  });

  it('treats NUL in text by the --nul policy: reject (default) names the column and the way out; strip removes; bytea columns keep every byte', () => {
    const nul = 's:22:"\u0000*\u0000scheduled_timestamp"';
    for (const policy of [undefined, 'reject', 'bytea'] as const) {
      const convert = buildConverter(src('longtext', { name: 'option_value' }), tgt('text', 'S'), emptyAdjustments(), {
        nul: policy,
      });
      expect(() => convert(nul)).toThrow(ValueRefused);
      expect(() => convert(nul)).toThrow(
        policy === 'bytea'
          ? /column option_value: .*make the column bytea/
          : /column option_value: text holds NUL characters.*--nul bytea.*--nul strip/,
      );
      expect(convert('no nul here')).toBe('no nul here');
    }
    const stripped = emptyAdjustments();
    expect(buildConverter(src('varchar'), tgt('varchar', 'S'), stripped, { nul: 'strip' })(nul)).toBe(
      's:22:"*scheduled_timestamp"',
    );
    expect(stripped.nulCharactersRemoved).toBe(1);
    const kept = emptyAdjustments();
    const toBytea = buildConverter(src('longtext'), tgt('bytea', 'U'), kept, { nul: 'bytea' });
    expect(toBytea(nul)).toBe(`\\x${Buffer.from(nul, 'utf8').toString('hex')}`);
    expect(toBytea('é')).toBe('\\xc3a9');
    expect(kept).toEqual(emptyAdjustments());
  });

  it('knows zero dates', () => {
    expect(isZeroDate('0000-00-00')).toBe(true);
    expect(isZeroDate('2024-05-00')).toBe(true);
    expect(isZeroDate('2024-05-01')).toBe(false);
    expect(setToArrayLiteral('')).toBe('{}');
  });

  it('counts every value it had to change, per column', () => {
    const dates = emptyAdjustments();
    const toDate = buildConverter(src('date'), tgt('date', 'D'), dates);
    expect([toDate('0000-00-00'), toDate('2024-01-00'), toDate('2024-01-02'), toDate(null)]).toEqual([
      null,
      null,
      '2024-01-02',
      null,
    ]);
    expect(dates).toEqual({ zeroDatesToNull: 2, nulCharactersRemoved: 0, sridsDropped: 0 });
    const text = emptyAdjustments();
    const toText = buildConverter(src('varchar'), tgt('text', 'S'), text, { nul: 'strip' });
    expect([toText('a\u0000b\u0000'), toText('plain')]).toEqual(['ab', 'plain']);
    expect(text).toEqual({ zeroDatesToNull: 0, nulCharactersRemoved: 1, sridsDropped: 0 });
  });

  it('--zero-date reject refuses a zero date instead of writing NULL, and changes nothing else', () => {
    const dates = emptyAdjustments();
    const toTimestamp = buildConverter(src('datetime'), tgt('timestamp', 'D'), dates, { zeroDate: 'reject' });
    expect(() => toTimestamp('0000-00-00 00:00:00')).toThrow(ValueRefused);
    expect(() => toTimestamp('2024-01-00 10:00:00')).toThrow(
      /zero date 2024-01-00 10:00:00 has no PostgreSQL equivalent \(--zero-date reject\)/,
    );
    expect([toTimestamp('2024-01-02 03:04:05'), toTimestamp(null)]).toEqual(['2024-01-02 03:04:05', null]);
    expect(dates).toEqual(emptyAdjustments());
  });
});
