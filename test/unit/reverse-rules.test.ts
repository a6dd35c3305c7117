import { describe, expect, test } from 'vitest';
import { parseTextArray, reverseValue, utcOf } from '../../src/copy/reverse-rules.js';
import { fallbackPreconditionProblems } from '../../src/fallback/preconditions.js';
import { lsnValue } from '../../src/fallback/slot-reader.js';
import type { SourceTable } from '../../src/dialect/mysql/source-catalog.js';

const col = (dataType: string, unsigned = false) => ({ name: 'c', dataType, unsigned });
const type = (name: string, category = 'S') => ({ name, category });

describe('reverseValue: PostgreSQL text back to what MySQL takes', () => {
  test.each([
    ['boolean true to tinyint(1)', 't', col('tinyint'), type('bool', 'B'), '1'],
    ['boolean false to bit(1)', 'f', col('bit'), type('bool', 'B'), '0'],
    ['smallint kept', '2', col('tinyint'), type('int2', 'N'), '2'],
    ['unsigned BIGINT max', '18446744073709551615', col('bigint', true), type('numeric', 'N'), '18446744073709551615'],
    ['JSON as text', '{"a": [1, "😀"]}', col('json'), type('jsonb', 'U'), '{"a": [1, "😀"]}'],
    ['emoji text', 'hi 😀', col('varchar'), type('text'), 'hi 😀'],
    ['enum label', 'y', col('enum'), type('kind_enum', 'E'), 'y'],
    ['SET from text[]', '{a,"b c"}', col('set'), type('_text', 'A'), 'a,b c'],
    ['empty SET', '{}', col('set'), type('_text', 'A'), ''],
    [
      'datetime kept',
      '2024-01-02 03:04:05.123456',
      col('datetime'),
      type('timestamp', 'D'),
      '2024-01-02 03:04:05.123456',
    ],
    [
      'timestamptz to UTC',
      '2024-05-01 01:00:00.5+02',
      col('timestamp'),
      type('timestamptz', 'D'),
      '2024-04-30 23:00:00.5',
    ],
  ])('%s', (_name, text, column, pgType, expected) => {
    expect(reverseValue(text, column, pgType)).toEqual(expected);
  });

  test('bytea to bytes; text in a binary column to its UTF-8 bytes; NULL stays NULL', () => {
    expect(reverseValue('\\x00ff10', col('varbinary'), type('bytea', 'U'))).toEqual(Buffer.from([0, 255, 16]));
    expect(reverseValue('\\x610062', col('text'), type('bytea', 'U'))).toEqual(Buffer.from('a\0b'));
    expect(reverseValue('é', col('blob'), type('text'))).toEqual(Buffer.from('é'));
    expect(reverseValue(null, col('int'), type('int4', 'N'))).toBeNull();
  });

  test.each([
    ['negative into unsigned', '-1', col('int', true), type('int8', 'N'), /out of range for int unsigned/],
    ['past unsigned tinyint', '256', col('tinyint', true), type('int4', 'N'), /out of range/],
    ['Infinity into double', 'Infinity', col('double'), type('float8', 'N'), /no MySQL double form/],
    ['infinity into datetime', 'infinity', col('datetime'), type('timestamp', 'D'), /no MySQL datetime form/],
    ['a SET label with a comma', '{"a,b"}', col('set'), type('_text', 'A'), /comma/],
  ])('refused: %s', (_name, text, column, pgType, message) => {
    expect(() => reverseValue(text, column, pgType)).toThrow(message);
  });

  test('utcOf keeps microseconds and takes odd offsets; parseTextArray reads quotes and NULL', () => {
    expect(utcOf('2024-01-01 00:00:00.000001+05:30')).toBe('2023-12-31 18:30:00.000001');
    expect(utcOf('2024-01-01 00:00:00-08')).toBe('2024-01-01 08:00:00');
    expect(parseTextArray('{a,NULL,"x\\"y",""}')).toEqual(['a', null, 'x"y', '']);
  });

  test('LSNs order as numbers', () => {
    expect(lsnValue('1/0') > lsnValue('0/FFFFFFFF')).toBe(true);
    expect(lsnValue('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
  });
});

describe('fallbackPreconditionProblems', () => {
  const table = (name: string, primaryKey: string[]): SourceTable =>
    ({
      name,
      columns: [],
      primaryKey,
      indexes: [],
      foreignKeys: [],
      autoIncrement: null,
      estimatedRows: 0,
      comment: '',
    }) as SourceTable;
  const ok = {
    walLevel: 'logical',
    freeSlots: 3,
    replication: true,
    pgUser: 'app',
    mysqlPrivileges: {
      global: new Set<string>(),
      database: new Set(['INSERT', 'UPDATE', 'DELETE', 'CREATE']),
      tables: new Map(),
    },
    mysqlUser: "'app'@'%'",
    database: 'shop',
    tables: [table('t', ['id'])],
  };

  test('all met: none', () => {
    expect(fallbackPreconditionProblems(ok)).toEqual([]);
  });

  test('each missing one is its own line with its fix', () => {
    const problems = fallbackPreconditionProblems({
      ...ok,
      walLevel: 'replica',
      freeSlots: 0,
      replication: false,
      mysqlPrivileges: { global: new Set(), database: new Set(['INSERT']), tables: new Map() },
      tables: [table('t', ['id']), table('log', [])],
    }).map((p) => p.message);
    expect(problems).toHaveLength(6);
    expect(problems[0]).toMatch(/wal_level is replica.*ALTER SYSTEM SET wal_level = logical/);
    expect(problems[1]).toMatch(/no free replication slot.*max_replication_slots/);
    expect(problems[2]).toMatch(/neither REPLICATION nor superuser.*ALTER ROLE "app" REPLICATION/);
    expect(problems[3]).toMatch(/cannot write to t, log.*GRANT INSERT, UPDATE, DELETE ON `shop`\.\*/);
    expect(problems[4]).toMatch(/GRANT CREATE ON `shop`\.\*/);
    expect(problems[5]).toMatch(/without a primary key.*: log;/);
  });
});
