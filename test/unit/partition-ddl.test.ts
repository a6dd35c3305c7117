import { describe, expect, it } from 'vitest';
import type { SourceColumn, SourceTable } from '../../src/dialect/mysql/catalog.js';
import { buildCreateTable } from '../../src/schema/ddl.js';
import { planPartitions } from '../../src/schema/partition-ddl.js';
import { IdentifierAllocator } from '../../src/vocabulary/identifiers.js';

function column(name: string, dataType: string, nullable = false): SourceColumn {
  return {
    name,
    dataType,
    columnType: dataType,
    unsigned: false,
    nullable,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    charset: null,
    maxLength: null,
    numericPrecision: null,
    numericScale: null,
    datetimePrecision: null,
    enumValues: null,
    comment: '',
  };
}

function table(
  method: string,
  expression: string,
  descriptions: (string | null)[],
  extra: Partial<SourceTable> = {},
): SourceTable {
  return {
    name: 't',
    columns: [column('id', 'int'), column('d', 'date'), column('k', 'varchar'), column('n', 'int', true)],
    primaryKey: ['id'],
    indexes: [],
    foreignKeys: [],
    autoIncrement: null,
    estimatedRows: 0,
    comment: '',
    partitioning: {
      method,
      expression,
      subpartitioned: false,
      partitions: descriptions.map((description, i) => ({ name: `p${i}`, description })),
    },
    ...extra,
  };
}

const plan = (t: SourceTable, mode: 'keep' | 'flatten' = 'keep') =>
  planPartitions(t, {
    mode,
    schema: 's',
    targetName: 't',
    targetColumn: (c) => c,
    names: new IdentifierAllocator(),
  });

describe('MySQL partitioning as PostgreSQL declarative partitioning', () => {
  it.each([
    [
      'RANGE',
      table('RANGE', '`id`', ['10', '100', 'MAXVALUE']),
      ' PARTITION BY RANGE ("id")',
      ['FROM (MINVALUE) TO (10)', 'FROM (10) TO (100)', 'FROM (100) TO (MAXVALUE)'],
    ],
    [
      'RANGE COLUMNS over a date and a string',
      table('RANGE COLUMNS', '`d`,`k`', ["'2020-01-01','m'", 'MAXVALUE,MAXVALUE'], { primaryKey: ['d', 'k'] }),
      ' PARTITION BY RANGE ("d", "k")',
      ["FROM (MINVALUE, MINVALUE) TO ('2020-01-01', 'm')", "FROM ('2020-01-01', 'm') TO (MAXVALUE, MAXVALUE)"],
    ],
    [
      'LIST with NULL',
      table('LIST', '`n`', ['NULL,1,2', '3'], { primaryKey: [] }),
      ' PARTITION BY LIST ("n")',
      ['IN (NULL, 1, 2)', 'IN (3)'],
    ],
    [
      'LIST COLUMNS with quotes and commas inside strings',
      table('LIST COLUMNS', '`k`', ["'a,b','it''s'", "'c'"], { primaryKey: [] }),
      ' PARTITION BY LIST ("k")',
      ["IN ('a,b', 'it''s')", "IN ('c')"],
    ],
    [
      'HASH',
      table('HASH', '`id`', [null, null, null]),
      ' PARTITION BY HASH ("id")',
      ['WITH (MODULUS 3, REMAINDER 0)', 'WITH (MODULUS 3, REMAINDER 1)', 'WITH (MODULUS 3, REMAINDER 2)'],
    ],
    [
      'KEY () over the primary key',
      table('KEY', '', [null, null]),
      ' PARTITION BY HASH ("id")',
      ['WITH (MODULUS 2, REMAINDER 0)', 'WITH (MODULUS 2, REMAINDER 1)'],
    ],
    [
      'LINEAR KEY over a column',
      table('LINEAR KEY', '`id`', [null, null]),
      ' PARTITION BY HASH ("id")',
      ['WITH (MODULUS 2, REMAINDER 0)', 'WITH (MODULUS 2, REMAINDER 1)'],
    ],
  ])('%s', (_what, source, clause, bounds) => {
    const result = plan(source);
    expect(result.fallback).toBeUndefined();
    expect(result.clause).toBe(clause);
    expect(result.statements).toEqual(
      bounds.map((b, i) => `CREATE TABLE "s"."t_p${i}" PARTITION OF "s"."t" FOR VALUES ${b}`),
    );
  });

  it.each([
    ['an expression key', table('RANGE', 'year(`d`)', ['2020', 'MAXVALUE']), /is an expression, not columns/],
    [
      'subpartitions',
      {
        ...table('RANGE', '`id`', ['10']),
        partitioning: { ...table('RANGE', '`id`', ['10']).partitioning!, subpartitioned: true },
      },
      /subpartitions/,
    ],
    [
      'a UNIQUE index without the partition column',
      table('HASH', '`id`', [null, null], {
        indexes: [{ name: 'u_k', unique: true, columns: ['k'], kind: 'BTREE', partial: false }],
      }),
      /UNIQUE u_k does not include every partition column/,
    ],
    ['a nullable RANGE column', table('RANGE', '`n`', ['10'], { primaryKey: [] }), /RANGE column n is nullable/],
    [
      'LIST COLUMNS over two columns',
      table('LIST COLUMNS', '`id`,`k`', ["(1,'a')"], { primaryKey: [] }),
      /LIST partitioned over 2 columns/,
    ],
    ['KEY () without a primary key', table('KEY', '', [null], { primaryKey: [] }), /BY KEY \(\) without a primary key/],
    ['--partitions flatten', table('RANGE', '`id`', ['10']), /a plain table \(--partitions flatten\)/],
  ])('%s: a plain table, with the reason', (what, source, reason) => {
    const result = plan(source, what === '--partitions flatten' ? 'flatten' : 'keep');
    expect(result.clause).toBe('');
    expect(result.statements).toEqual([]);
    expect(result.fallback).toMatch(reason);
  });

  it('buildCreateTable appends the clause and creates the partitions after the parent, a plain table noting why', () => {
    const kept = buildCreateTable(table('RANGE', '`id`', ['10', 'MAXVALUE']), 's', {
      isMariaDb: true,
      knownTables: new Set(['t']),
    });
    expect(kept.statements[0]).toMatch(/\) PARTITION BY RANGE \("id"\)$/);
    expect(kept.statements.slice(1, 3)).toEqual([
      'CREATE TABLE "s"."t_p0" PARTITION OF "s"."t" FOR VALUES FROM (MINVALUE) TO (10)',
      'CREATE TABLE "s"."t_p1" PARTITION OF "s"."t" FOR VALUES FROM (10) TO (MAXVALUE)',
    ]);
    expect(kept.notes).toContain(
      'table t: partitioned by RANGE (`id`), 2 partitions → PARTITION BY RANGE with the same bounds',
    );
    const flat = buildCreateTable(table('RANGE', '`id`', ['10']), 's', {
      isMariaDb: true,
      knownTables: new Set(['t']),
      partitions: 'flatten',
    });
    expect(flat.statements[0]).not.toMatch(/PARTITION/);
    expect(flat.warnings).toContain(
      't: partitioned by RANGE (`id`), 1 partition; a plain table (--partitions flatten)',
    );
  });
});
