import { describe, expect, it } from 'vitest';
import { canonicalRowText } from '../../src/vocabulary/canonical.js';
import { canonicalForColumn } from '../../src/vocabulary/canonical/column-forms.js';
import { canonicalJson } from '../../src/vocabulary/canonical/json-form.js';
import { normalizeDecimal } from '../../src/vocabulary/canonical/number-forms.js';
import { mysqlTimeToSeconds, normalizeTemporal } from '../../src/vocabulary/canonical/temporal-forms.js';
import { decodeCopyField, decodeCopyLine } from '../../src/dialect/postgres/copy-text.js';
import type { SourceColumn } from '../../src/dialect/mysql/catalog.js';
import type { TargetColumn } from '../../src/dialect/postgres/catalog.js';
import { src, tgt } from '../helpers/columns.js';

describe('normal forms', () => {
  it.each([
    ['1.50', '1.5'],
    ['001.5', '1.5'],
    ['-0.000', '0'],
    ['1e2', '100'],
    ['1.5E-3', '0.0015'],
    ['18446744073709551615', '18446744073709551615'],
    ['-12345678901234567890.123456789000', '-12345678901234567890.123456789'],
    ['0', '0'],
    ['abc', 'abc'],
  ])('decimal %s → %s', (input, expected) => {
    expect(normalizeDecimal(input)).toBe(expected);
  });

  it.each<[string, string | null]>([
    ['2025-01-02 03:04:05.123000', '2025-01-02 03:04:05.123'],
    ['2025-01-02 03:04:05.123+00', '2025-01-02 03:04:05.123'],
    ['2025-01-02 03:04:05', '2025-01-02 03:04:05'],
    ['2025-01-02 00:00:00', '2025-01-02'],
    ['0000-00-00', null],
    ['2024-00-10 00:00:00', null],
    ['2024-05-00', null],
  ])('temporal %s → %s', (input, expected) => {
    expect(normalizeTemporal(input)).toBe(expected);
  });

  it.each([
    ['838:59:59', '3020399'],
    ['-838:59:59.500000', '-3020399.5'],
    ['00:00:00.000001', '0.000001'],
  ])('MySQL TIME %s is %s seconds', (input, expected) => {
    expect(mysqlTimeToSeconds(input)).toBe(expected);
  });

  it('JSON: keys sorted, last duplicate wins, numbers exact, one escaping', () => {
    expect(canonicalJson('{"b": 1e2, "a": [1.50, "\\u00e9"], "a": 12345678901234567890123}')).toBe(
      '{"a":12345678901234567890123,"b":100}',
    );
    expect(canonicalJson('{"a": [1.50, "é"], "b": 100}')).toBe('{"a":[1.5,"é"],"b":100}');
    expect(canonicalJson('not json')).toBe('not json');
  });

  it('row texts of different rows never collide', () => {
    expect(canonicalRowText(['a|', 'b'])).not.toBe(canonicalRowText(['a', '|b']));
    expect(canonicalRowText([null, ''])).not.toBe(canonicalRowText(['', null]));
    expect(canonicalRowText(['-'])).not.toBe(canonicalRowText([null]));
  });
});

describe('a MySQL value and PostgreSQL text of the same value have one canonical form', () => {
  it.each<[string, SourceColumn, TargetColumn, unknown, string | null]>([
    ['tinyint(1) → bool', src('tinyint'), tgt('bool', 'B'), 1, 't'],
    ['bit(1) → bool', src('bit'), tgt('bool', 'B'), Buffer.from([0]), 'f'],
    ['unsigned bigint → numeric', src('bigint'), tgt('numeric', 'N'), '18446744073709551615', '18446744073709551615'],
    [
      'decimal(65,30)',
      src('decimal'),
      tgt('numeric', 'N'),
      '-12345678901234567890123456789012345.123456789012345678901234567890',
      '-12345678901234567890123456789012345.123456789012345678901234567890',
    ],
    // A real is read back as real::float8, its exact value.
    ['float → real', src('float'), tgt('float4', 'N'), '3.4028234663852886e38', '3.4028234663852886e+38'],
    ['float 0.1 → real', src('float'), tgt('float4', 'N'), '0.10000000149011612', '0.10000000149011612'],
    ['double -0', src('double'), tgt('float8', 'N'), '-0', '-0'],
    ['double max', src('double'), tgt('float8', 'N'), '1.7976931348623157e308', '1.7976931348623157e+308'],
    ['datetime(6)', src('datetime'), tgt('timestamp', 'D'), '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999'],
    [
      'timestamp → timestamptz (UTC)',
      src('timestamp'),
      tgt('timestamptz', 'D'),
      '2038-01-19 03:14:07.000000',
      '2038-01-19 03:14:07+00',
    ],
    ['zero date → NULL', src('date'), tgt('date', 'D'), '0000-00-00', null],
    ['time → interval', src('time'), tgt('interval', 'T'), '-838:59:59.000000', '-3020399.000000'],
    ['time → time', src('time'), tgt('time', 'D'), '12:34:56.500000', '12:34:56.5'],
    ['blob → bytea', src('blob'), tgt('bytea', 'U'), Buffer.from([0, 255, 92]), '\\x00ff5c'],
    ['bit(10) → varbit', src('bit'), tgt('varbit', 'V'), Buffer.from([0b10, 0b11111111]), '1011111111'],
    [
      'binary(16) → uuid',
      src('binary'),
      tgt('uuid', 'U'),
      Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
      '00112233-4455-6677-8899-aabbccddeeff',
    ],
    [
      'json → jsonb',
      src('json'),
      tgt('jsonb', 'U'),
      '{"z": 1.0, "a": {"n": 123456789012345678901234567890}}',
      '{"a": {"n": 123456789012345678901234567890}, "z": 1.0}',
    ],
    ['set → text[] (read as JSON)', src('set'), tgt('_text', 'A'), 'a,b"c', '["a","b\\"c"]'],
    ['empty set → {}', src('set'), tgt('_text', 'A'), '', '[]'],
    ['text with NUL (removed by the copy)', src('varchar'), tgt('text', 'S'), 'a\u0000b', 'ab'],
    ['char(n) padding', src('char'), tgt('bpchar', 'S'), 'ab', 'ab   '],
    ['enum', src('enum'), tgt('status', 'E'), '', ''],
    ['year → smallint', src('year'), tgt('int2', 'N'), 2155, '2155'],
    [
      'point',
      src('point'),
      tgt('point', 'G'),
      Buffer.from('000000000101000000000000000000f03f0000000000000040', 'hex'),
      '1 2',
    ],
  ])('%s', (_label, s, t, mysqlValue, pgText) => {
    const c = canonicalForColumn(s, t);
    expect(c.fromMysql(mysqlValue as never)).toBe(c.fromPg(pgText));
  });

  it.each<[string, SourceColumn, TargetColumn, unknown, string | null]>([
    ['2 is not true', src('tinyint'), tgt('bool', 'B'), 2, 't'],
    [
      'a float rounded to 6 digits is another float',
      src('float'),
      tgt('float4', 'N'),
      '3.40282e38',
      '3.4028234663852886e+38',
    ],
    ['a double squeezed into a real lost digits', src('double'), tgt('float4', 'N'), '0.1', '0.10000000149011612'],
    ['-0 is not 0 for a double', src('double'), tgt('float8', 'N'), '-0', '0'],
    [
      'a microsecond counts',
      src('datetime'),
      tgt('timestamp', 'D'),
      '2025-01-02 03:04:05.000001',
      '2025-01-02 03:04:05',
    ],
    [
      'a big number that lost digits',
      src('json'),
      tgt('jsonb', 'U'),
      '{"n": 12345678901234567890}',
      '{"n": 12345678901234567000}',
    ],
    ['case in text', src('varchar'), tgt('text', 'S'), 'Abc', 'abc'],
    ['NULL is not empty', src('varchar'), tgt('text', 'S'), null, ''],
    ['a byte', src('blob'), tgt('bytea', 'U'), Buffer.from([1]), '\\x02'],
  ])('different: %s', (_label, s, t, mysqlValue, pgText) => {
    const c = canonicalForColumn(s, t);
    expect(c.fromMysql(mysqlValue as never)).not.toBe(c.fromPg(pgText));
  });
});

describe('COPY text decoding (what PostgreSQL prints)', () => {
  it.each<[string, string | null]>([
    ['\\N', null],
    ['plain', 'plain'],
    ['a\\tb\\nc\\rd\\\\e', 'a\tb\nc\rd\\e'],
    ['\\\\N', '\\N'],
    ['\\b\\f\\v', '\b\f\v'],
    ['\\101\\x42', 'AB'],
  ])('%s', (field, expected) => {
    expect(decodeCopyField(field)).toBe(expected);
  });

  it('splits a line on tabs before unescaping', () => {
    expect(decodeCopyLine('1\ta\\tb\t\\N')).toEqual(['1', 'a\tb', null]);
  });
});

describe('geometry', () => {
  // POINT(1 2) with SRID 4326, as MySQL keeps it and as PostGIS prints it.
  const mysqlPoint = Buffer.from('e6100000' + '0101000000000000000000f03f0000000000000040', 'hex');
  it('MySQL SRID+WKB equals PostGIS hex EWKB of the same point and SRID', () => {
    const c = canonicalForColumn(src('point'), tgt('geometry', 'U'));
    expect(c.fromMysql(mysqlPoint)).toBe(c.fromPg('0101000020E6100000000000000000F03F0000000000000040'));
    expect(c.fromMysql(mysqlPoint)).not.toBe(c.fromPg('0101000000000000000000F03F0000000000000040'));
  });
  it('bytea holds the WKB without the SRID', () => {
    const c = canonicalForColumn(src('geometry'), tgt('bytea', 'U'));
    expect(c.fromMysql(mysqlPoint)).toBe(c.fromPg('\\x0101000000000000000000f03f0000000000000040'));
  });
});
