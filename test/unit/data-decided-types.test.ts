import { describe, expect, it } from 'vitest';
import type { SourceColumn } from '../../src/dialect/mysql/catalog.js';
import { dataTypesOf } from '../../src/schema/data-decided-types.js';
import { mapColumnType } from '../../src/schema/type-map.js';
import { DEFAULT_TYPE_MAP_OPTIONS, type TypeMapOptions } from '../../src/schema/type-overrides.js';

const edulevel: SourceColumn = {
  name: 'edulevel',
  dataType: 'tinyint',
  columnType: 'tinyint(1)',
  unsigned: false,
  nullable: false,
  defaultValue: null,
  autoIncrement: false,
  generated: false,
  charset: null,
  maxLength: null,
  numericPrecision: 3,
  numericScale: 0,
  datetimePrecision: null,
  enumValues: null,
  comment: '',
};

describe('types decided by the data in the type map', () => {
  const dataTypes = dataTypesOf([
    {
      table: 'log',
      column: 'edulevel',
      mysqlType: 'tinyint(1)',
      type: 'smallint',
      reason: 'data decides: value 2 found in 1 row',
    },
    {
      table: 'log',
      column: 'anonymous',
      mysqlType: 'tinyint(1)',
      type: 'boolean',
      reason: 'data decides: every value is 0, 1 or NULL',
    },
  ]);
  const options: TypeMapOptions = { ...DEFAULT_TYPE_MAP_OPTIONS, dataTypes };

  it('keeps only the decisions that change the type', () => {
    expect([...dataTypes.entries()].map(([t, c]) => [t, [...c.entries()]])).toEqual([
      ['log', [['edulevel', 'smallint']]],
    ]);
  });

  it.each([
    ['the decided column of its table', options, 'log', 'smallint'],
    ['the same column name in another table', options, 'other', 'boolean'],
    ['no table given', options, undefined, 'boolean'],
    [
      'a --column-type override, which wins',
      { ...options, columnOverrides: new Map([['log', new Map([['edulevel', 'integer']])]]) },
      'log',
      'integer',
    ],
    [
      'a --type override, which wins',
      { ...options, typeOverrides: [{ mysqlType: 'tinyint(1)', pgType: 'boolean' }] },
      'log',
      'boolean',
    ],
  ])('%s', (_what, opts, table, expected) => {
    expect(mapColumnType(edulevel, opts, table).sql).toBe(expected);
  });
});
