import { describe, expect, it } from 'vitest';
import { buildConverter, geometryToEwkbHex, geometryToPoint, geometryToWkbHex } from '../../src/copy/convert.js';
import { emptyAdjustments } from '../../src/vocabulary/adjustments.js';
import { buildCreateTable } from '../../src/schema/ddl.js';
import { translateDefault } from '../../src/schema/default-ddl.js';
import { selectExpression, type SourceColumn, type SourceTable } from '../../src/dialect/mysql/catalog.js';
import { mapColumnType } from '../../src/schema/type-map.js';
import {
  DEFAULT_TYPE_MAP_OPTIONS,
  findTypeOverride,
  parseColumnTypeOverrides,
  parseTypeOverrides,
  resolveColumnOverrides,
  type TypeMapOptions,
} from '../../src/schema/type-overrides.js';
import type { TargetColumn } from '../../src/dialect/postgres/catalog.js';

function col(dataType: string, columnType = dataType, extra: Partial<SourceColumn> = {}): SourceColumn {
  return {
    name: 'c',
    dataType,
    columnType,
    unsigned: /unsigned/.test(columnType),
    nullable: true,
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
    ...extra,
  };
}
function tgt(typeName: string, category: string): TargetColumn {
  return {
    name: 'c',
    formattedType: typeName,
    typeName,
    category,
    elementType: null,
    notNull: false,
    hasDefault: false,
    identity: '',
    generated: false,
    enumLabels: null,
  };
}

describe('the default type mapping (docs/type-mapping.md)', () => {
  it.each<[string, SourceColumn, string]>([
    ['tinyint(1) → boolean', col('tinyint', 'tinyint(1)'), 'boolean'],
    ['bit(1) → boolean', col('bit', 'bit(1)'), 'boolean'],
    ['tinyint → smallint', col('tinyint', 'tinyint(4)'), 'smallint'],
    ['tinyint unsigned → smallint', col('tinyint', 'tinyint(3) unsigned'), 'smallint'],
    ['smallint unsigned → integer', col('smallint', 'smallint(5) unsigned'), 'integer'],
    ['mediumint unsigned → integer', col('mediumint', 'mediumint(8) unsigned'), 'integer'],
    ['int → integer', col('int', 'int(11)'), 'integer'],
    ['int unsigned → bigint', col('int', 'int(10) unsigned'), 'bigint'],
    ['bigint → bigint', col('bigint', 'bigint(20)'), 'bigint'],
    ['bigint unsigned → numeric(20)', col('bigint', 'bigint(20) unsigned'), 'numeric(20)'],
    ['decimal(65,30)', col('decimal', 'decimal(65,30)', { numericPrecision: 65, numericScale: 30 }), 'numeric(65,30)'],
    ['float → real', col('float'), 'real'],
    ['double → double precision', col('double'), 'double precision'],
    ['bit(64) → bit varying(64)', col('bit', 'bit(64)'), 'bit varying(64)'],
    ['date', col('date'), 'date'],
    ['datetime → timestamp', col('datetime'), 'timestamp'],
    ['datetime(6) → timestamp(6)', col('datetime', 'datetime(6)', { datetimePrecision: 6 }), 'timestamp(6)'],
    ['timestamp(3) → timestamptz(3)', col('timestamp', 'timestamp(3)', { datetimePrecision: 3 }), 'timestamptz(3)'],
    ['time → interval', col('time', 'time(6)'), 'interval'],
    ['year → smallint', col('year', 'year(4)'), 'smallint'],
    ['char(10) → varchar(10)', col('char', 'char(10)', { maxLength: 10 }), 'varchar(10)'],
    ['varchar(255)', col('varchar', 'varchar(255)', { maxLength: 255 }), 'varchar(255)'],
    ['longtext → text', col('longtext'), 'text'],
    ['set → text[]', col('set', "set('a','b')"), 'text[]'],
    ['json → jsonb', col('json', 'longtext'), 'jsonb'],
    ['varbinary → bytea', col('varbinary', 'varbinary(10)'), 'bytea'],
    ['longblob → bytea', col('longblob'), 'bytea'],
    ['point → point without PostGIS', col('point'), 'point'],
    ['polygon → bytea (WKB) without PostGIS', col('polygon'), 'bytea'],
  ])('%s', (_label, column, expected) => {
    expect(mapColumnType(column).sql).toBe(expected);
  });

  it('enum → a PostgreSQL enum type by default, text + CHECK with --enum check', () => {
    const e = col('enum', "enum('','a')", { enumValues: ['', 'a'] });
    expect(mapColumnType(e)).toEqual({ sql: 'text', enumLabels: ['', 'a'] });
    expect(mapColumnType(e, { ...DEFAULT_TYPE_MAP_OPTIONS, enumMode: 'check' })).toEqual({
      sql: 'text',
      checkLabels: ['', 'a'],
    });
  });

  it('spatial types → geometry when PostGIS is installed in the target', () => {
    const postgis: TypeMapOptions = { ...DEFAULT_TYPE_MAP_OPTIONS, postgisSchema: 'gis ext' };
    expect(mapColumnType(col('point'), postgis).sql).toBe('"gis ext".geometry');
    expect(mapColumnType(col('multipolygon'), postgis).sql).toBe('"gis ext".geometry');
  });
});

describe('type overrides', () => {
  it('parses --type and --column-type, normalising case and spaces', () => {
    expect(parseTypeOverrides(['TINYINT( 1 )=smallint', 'int unsigned = numeric(10, 0)'])).toEqual([
      { mysqlType: 'tinyint(1)', pgType: 'smallint' },
      { mysqlType: 'int unsigned', pgType: 'numeric(10, 0)' },
    ]);
    expect(parseColumnTypeOverrides(['my.table.col=x=text'])).toEqual([{ spec: 'my.table.col=x', pgType: 'text' }]);
  });

  it('lists every malformed override in one usage error', () => {
    expect(() => parseTypeOverrides(['tinyint(1)', 'int=text; drop table x', "enum('a')=text"])).toThrow(
      /--type "tinyint\(1\)" is not MYSQL_TYPE=POSTGRES_TYPE.*"text; drop table x" is not a PostgreSQL type name.*"enum\('a'\)" is not a MySQL type/,
    );
    expect(() => parseColumnTypeOverrides(['nodot=text'])).toThrow(/is not TABLE.COLUMN=POSTGRES_TYPE/);
    expect(() => parseColumnTypeOverrides(['t.c="x"'])).toThrow(/is not a PostgreSQL type name/);
  });

  it('picks the most specific override: full column type, then with unsigned, then the bare type', () => {
    const overrides = parseTypeOverrides([
      'int=numeric',
      'int unsigned=numeric(10,0)',
      'int(11)=bigint',
      'tinyint(1)=smallint',
    ]);
    expect(findTypeOverride(overrides, { dataType: 'int', columnType: 'int(11)', unsigned: false })).toBe('bigint');
    expect(findTypeOverride(overrides, { dataType: 'int', columnType: 'int(10) unsigned', unsigned: true })).toBe(
      'numeric(10,0)',
    );
    expect(findTypeOverride(overrides, { dataType: 'int', columnType: 'int', unsigned: false })).toBe('numeric');
    expect(findTypeOverride(overrides, { dataType: 'tinyint', columnType: 'tinyint(1)', unsigned: false })).toBe(
      'smallint',
    );
    expect(
      findTypeOverride(overrides, { dataType: 'tinyint', columnType: 'tinyint(4)', unsigned: false }),
    ).toBeUndefined();
  });

  it('a column override wins over a type override', () => {
    const options: TypeMapOptions = {
      ...DEFAULT_TYPE_MAP_OPTIONS,
      typeOverrides: parseTypeOverrides(['int=numeric']),
      columnOverrides: new Map([['t', new Map([['c', 'text']])]]),
    };
    expect(mapColumnType(col('int'), options, 't')).toEqual({ sql: 'text', overridden: true });
    expect(mapColumnType(col('int'), options, 'other')).toEqual({ sql: 'numeric', overridden: true });
  });

  it('resolves table.column against the source, names with dots included', () => {
    const tables = [
      { name: 'a.b', columns: [{ name: 'c' }] },
      { name: 'users', columns: [{ name: 'bio' }, { name: 'x.y' }] },
    ];
    const resolved = resolveColumnOverrides(
      parseColumnTypeOverrides(['a.b.c=text', 'users.x.y=jsonb', 'users.bio=varchar(10)']),
      tables,
    );
    expect([...resolved.entries()].map(([t, m]) => [t, [...m.entries()]])).toEqual([
      ['a.b', [['c', 'text']]],
      [
        'users',
        [
          ['x.y', 'jsonb'],
          ['bio', 'varchar(10)'],
        ],
      ],
    ]);
    expect(() => resolveColumnOverrides(parseColumnTypeOverrides(['users.nope=text']), tables)).toThrow(
      /"users.nope": the MySQL source has no such table.column/,
    );
  });
});

describe('DDL for created tables', () => {
  const table: SourceTable = {
    name: 'we"ird',
    columns: [
      col('int', 'int(11)', { name: 'id', nullable: false, autoIncrement: true }),
      col('date', 'date', { name: 'd', nullable: false }),
      col('enum', "enum('a','b')", { name: 'e', enumValues: ['a', "b'c"] }),
      col('bit', 'bit(8)', { name: 'b', numericPrecision: 8, defaultValue: "b'101'" }),
      col('timestamp', 'timestamp', {
        name: 'ts',
        nullable: false,
        defaultValue: 'current_timestamp()',
        onUpdate: 'current_timestamp()',
      }),
    ],
    primaryKey: ['id'],
    indexes: [],
    foreignKeys: [],
    autoIncrement: '1',
    estimatedRows: 0,
    comment: '',
  };

  it('relaxes NOT NULL on zero-date columns, CHECKs enums with --enum check, pads bit defaults, defers ON UPDATE to a trigger', () => {
    const plan = buildCreateTable(table, 'public', {
      isMariaDb: true,
      knownTables: new Set(),
      types: { ...DEFAULT_TYPE_MAP_OPTIONS, enumMode: 'check' },
      zeroDateColumns: ['d'],
    });
    const create = plan.statements.find((s) => s.startsWith('CREATE TABLE'));
    expect(create).toBe(
      [
        'CREATE TABLE "public"."we""ird" (',
        '  "id" integer GENERATED BY DEFAULT AS IDENTITY NOT NULL,',
        '  "d" date,',
        `  "e" text CHECK ("e" IN ('a', 'b''c')),`,
        `  "b" bit varying(8) DEFAULT B'00000101',`,
        '  "ts" timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL,',
        '  PRIMARY KEY ("id")',
        ')',
      ].join('\n'),
    );
    expect(plan.statements.some((s) => s.includes('CREATE TYPE'))).toBe(false);
    expect(plan.warnings).toEqual([
      'we"ird: column d is NOT NULL in MySQL but holds zero dates, which land as NULL; created without NOT NULL',
    ]);
    expect(plan.deferred).toEqual([
      {
        kind: 'trigger',
        name: 'my2pg_on_update_current_timestamp',
        definition: `CREATE TRIGGER "my2pg_on_update_current_timestamp" BEFORE UPDATE ON "public"."we""ird" FOR EACH ROW EXECUTE FUNCTION "public"."my2pg_on_update_current_timestamp"('ts', '0')`,
      },
    ]);
  });

  it('translates bit defaults for numeric targets too', () => {
    expect(translateDefault(col('bit', 'bit(8)', { defaultValue: "b'101'" }), 'integer', true)).toEqual({ sql: "'5'" });
  });
});

describe('reading and converting values', () => {
  it('selects FLOAT widened to DOUBLE (the text protocol prints FLOAT with six digits)', () => {
    expect(selectExpression(col('float', 'float', { name: 'f`x' }))).toBe('CAST(`f``x` AS DOUBLE)');
    expect(selectExpression(col('double', 'double', { name: 'd' }))).toBe('`d`');
  });

  // MySQL internal geometry: SRID (LE uint32) + WKB. POINT(1.5 -2.25) with SRID 4326.
  const point = Buffer.from('E6100000' + '0101000000000000000000F83F00000000000002C0', 'hex');

  it('geometry → point, WKB bytea, or PostGIS EWKB with the SRID', () => {
    expect(geometryToPoint(point, 'g')).toBe('(1.5,-2.25)');
    expect(geometryToWkbHex(point, 'g')).toBe('\\x0101000000000000000000f83f00000000000002c0');
    expect(geometryToEwkbHex(point, 'g')).toBe('0101000020e6100000000000000000f83f00000000000002c0');
    const noSrid = Buffer.concat([Buffer.alloc(4), point.subarray(4)]);
    expect(geometryToEwkbHex(noSrid, 'g')).toBe('0101000000000000000000f83f00000000000002c0');
    const line = Buffer.from('00000000' + '010200000000000000', 'hex');
    expect(() => geometryToPoint(line, 'g')).toThrow(/not a POINT/);
  });

  it('picks the spatial converter from the source type and the target type, once per column', () => {
    expect(buildConverter(col('point'), tgt('point', 'G'))(point)).toBe('(1.5,-2.25)');
    expect(buildConverter(col('geometry'), tgt('bytea', 'U'))(point)).toBe(
      '\\x0101000000000000000000f83f00000000000002c0',
    );
    expect(buildConverter(col('geometry'), tgt('geometry', 'U'))(point)).toBe(
      '0101000020e6100000000000000000f83f00000000000002c0',
    );
    expect(buildConverter(col('blob'), tgt('bytea', 'U'))(point)).toBe(`\\x${point.toString('hex')}`);
  });

  it('counts the SRIDs a point or bytea column cannot keep (SRID 0 is no loss)', () => {
    const adjustments = emptyAdjustments();
    buildConverter(col('geometry'), tgt('bytea', 'U'), adjustments)(point);
    buildConverter(col('point'), tgt('point', 'G'), adjustments)(point);
    buildConverter(
      col('geometry'),
      tgt('bytea', 'U'),
      adjustments,
    )(Buffer.concat([Buffer.alloc(4), point.subarray(4)]));
    buildConverter(col('geometry'), tgt('geometry', 'U'), adjustments)(point);
    expect(adjustments).toEqual({ zeroDatesToNull: 0, nulCharactersRemoved: 0, sridsDropped: 2 });
  });

  it('BIT(n) keeps its n digits in bit varying(n)', () => {
    const convert = buildConverter(col('bit', 'bit(8)', { numericPrecision: 8 }), tgt('varbit', 'V'));
    expect(convert(Buffer.from([1]))).toBe('00000001');
    expect(
      buildConverter(col('bit', 'bit(64)', { numericPrecision: 64 }), tgt('varbit', 'V'))(Buffer.alloc(8, 0xff)),
    ).toBe('1'.repeat(64));
  });
});
