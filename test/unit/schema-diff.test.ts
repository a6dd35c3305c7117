import { describe, expect, it } from 'vitest';
import type { SourceColumn, SourceTable } from '../../src/dialect/mysql/catalog.js';
import { formattedTypeOf, widens } from '../../src/follow/column-widening.js';
import { targetMismatches } from '../../src/follow/resume-held.js';
import { diffTables, droppedIn, renamedTo, renamesIn, type DiffContext } from '../../src/follow/schema-diff.js';

// What the follower makes of a schema change met while following: the catalog's new definition
// against the recorded one, translated as a run creates tables (docs/schema-changes.md).

function column(name: string, over: Partial<SourceColumn> = {}): SourceColumn {
  return {
    name,
    dataType: 'int',
    columnType: 'int(11)',
    unsigned: false,
    nullable: true,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    charset: null,
    maxLength: null,
    numericPrecision: 10,
    numericScale: 0,
    datetimePrecision: null,
    enumValues: null,
    comment: '',
    ...over,
  };
}

const varchar = (name: string, n: number, over: Partial<SourceColumn> = {}): SourceColumn =>
  column(name, { dataType: 'varchar', columnType: `varchar(${n})`, maxLength: n, charset: 'utf8mb4', ...over });

function table(columns: SourceColumn[], over: Partial<SourceTable> = {}): SourceTable {
  return {
    name: 't',
    columns: [column('id', { nullable: false, autoIncrement: true }), ...columns],
    primaryKey: ['id'],
    indexes: [],
    foreignKeys: [],
    autoIncrement: '1',
    estimatedRows: 0,
    comment: '',
    ...over,
  };
}

function ctx(statement: string, over: Partial<DiffContext> = {}): DiffContext {
  return {
    schema: 's',
    targetTable: 't',
    isMariaDb: true,
    key: ['id'],
    targetTypes: new Map([
      ['id', 'integer'],
      ['v', 'character varying(10)'],
      ['n', 'integer'],
    ]),
    statement,
    later: [],
    ...over,
  };
}

describe('diffTables', () => {
  const before = table([varchar('v', 10), column('n')]);

  it('translates what can be applied exactly, in the order PostgreSQL needs', () => {
    const cases: [string, SourceTable, string[]][] = [
      [
        'ALTER TABLE t ADD COLUMN score INT NOT NULL DEFAULT 7 AFTER id',
        table([column('score', { nullable: false, defaultValue: '7' }), varchar('v', 10), column('n')]),
        ['ALTER TABLE "s"."t" ADD COLUMN "score" integer DEFAULT \'7\' NOT NULL'],
      ],
      ['ALTER TABLE t DROP COLUMN n', table([varchar('v', 10)]), ['ALTER TABLE "s"."t" DROP COLUMN "n"']],
      [
        'ALTER TABLE t RENAME COLUMN n TO m',
        table([varchar('v', 10), column('m')]),
        ['ALTER TABLE "s"."t" RENAME COLUMN "n" TO "m"'],
      ],
      [
        'ALTER TABLE t MODIFY v VARCHAR(40)',
        table([varchar('v', 40), column('n')]),
        ['ALTER TABLE "s"."t" ALTER COLUMN "v" TYPE varchar(40) USING "v"::varchar(40)'],
      ],
      [
        'ALTER TABLE t CHANGE n n BIGINT NOT NULL DEFAULT 0',
        table([
          varchar('v', 10),
          column('n', { dataType: 'bigint', columnType: 'bigint(20)', nullable: false, defaultValue: '0' }),
        ]),
        [
          'ALTER TABLE "s"."t" ALTER COLUMN "n" TYPE bigint USING "n"::bigint',
          'ALTER TABLE "s"."t" ALTER COLUMN "n" SET NOT NULL',
          'ALTER TABLE "s"."t" ALTER COLUMN "n" SET DEFAULT \'0\'',
        ],
      ],
      // A display width or a charset alone changes nothing PostgreSQL holds.
      ['ALTER TABLE t MODIFY n INT(4)', table([varchar('v', 10), column('n', { columnType: 'int(4)' })]), []],
    ];
    for (const [statement, after, statements] of cases) {
      const diff = diffTables(before, after, ctx(statement));
      expect(diff.hold, statement).toBeNull();
      expect(diff.statements, statement).toEqual(statements);
    }
  });

  it('gives indexes added and dropped with the names a run gives them', () => {
    const indexed = table([varchar('v', 10), column('n')], {
      indexes: [{ name: 'by_v', unique: true, columns: ['v'], kind: 'BTREE', partial: false }],
    });
    const added = diffTables(before, indexed, ctx('ALTER TABLE t ADD UNIQUE INDEX by_v (v)'));
    expect(added.indexesAdded).toEqual([
      { name: 't_by_v', definition: 'CREATE UNIQUE INDEX IF NOT EXISTS "t_by_v" ON "s"."t" ("v")' },
    ]);
    expect(diffTables(indexed, before, ctx('ALTER TABLE t DROP INDEX by_v')).indexesDropped).toEqual(['t_by_v']);
  });

  it('holds what it cannot apply exactly, saying why', () => {
    const cases: [string, SourceTable, RegExp][] = [
      [
        'ALTER TABLE t MODIFY v VARCHAR(5)',
        table([varchar('v', 5), column('n')]),
        /varchar\(10\) → varchar\(5\) does not hold every value/,
      ],
      [
        'ALTER TABLE t MODIFY n INT UNSIGNED',
        table([varchar('v', 10), column('n', { unsigned: true, columnType: 'int(10) unsigned' })]),
        /does not hold every value/,
      ],
      [
        'ALTER TABLE t ADD COLUMN k INT NOT NULL',
        table([varchar('v', 10), column('n'), column('k', { nullable: false })]),
        /NOT NULL without a default/,
      ],
      [
        'ALTER TABLE t ADD COLUMN at DATETIME DEFAULT NOW()',
        table([
          varchar('v', 10),
          column('n'),
          column('at', { dataType: 'datetime', columnType: 'datetime', defaultValue: 'current_timestamp()' }),
        ]),
        /existing rows hold the time MySQL added it/,
      ],
      [
        'ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, n)',
        table([varchar('v', 10), column('n')], { primaryKey: ['id', 'n'] }),
        /primary key changed/,
      ],
      [
        'ALTER TABLE t RENAME COLUMN id TO ident',
        {
          ...table([varchar('v', 10), column('n')]),
          columns: [column('ident', { nullable: false, autoIncrement: true }), varchar('v', 10), column('n')],
          primaryKey: ['ident'],
        },
        /primary key changed/,
      ],
      // The statement drops n, yet the catalog has it: added again since, what it holds is unknown.
      ['ALTER TABLE t DROP COLUMN n', before, /catalog still has/],
    ];
    for (const [statement, after, why] of cases)
      expect(diffTables(before, after, ctx(statement)).hold, statement).toMatch(why);
  });

  it('a MODIFY of a column the run typed otherwise (an override, a type decided by the data) holds', () => {
    const diff = diffTables(
      before,
      table([varchar('v', 10), column('n', { dataType: 'bigint', columnType: 'bigint(20)' })]),
      ctx('ALTER TABLE t MODIFY n BIGINT', { targetTypes: new Map([['n', 'numeric(12,0)']]) }),
    );
    expect(diff.hold).toMatch(/the run gave it numeric\(12,0\) type, not integer/);
  });

  it("adds new ENUM labels to the enum type in MySQL's order, before the transaction; removed or reordered labels hold", () => {
    const e = (labels: string[]) =>
      column('e', {
        dataType: 'enum',
        columnType: `enum(${labels.map((l) => `'${l}'`).join(',')})`,
        enumValues: labels,
        numericPrecision: null,
        numericScale: null,
      });
    const was = table([e(['a', 'b'])]);
    const types = { targetTypes: new Map([['e', 's.t_e']]), targetEnumLabels: new Map([['e', ['a', 'b']]]) };
    const diff = diffTables(
      was,
      table([e(['x', 'a', "it's", 'b', 'z'])]),
      ctx('ALTER TABLE t MODIFY e ENUM(…)', types),
    );
    expect(diff.hold).toBeNull();
    expect(diff.statements).toEqual([]);
    expect(diff.early).toEqual([
      "ALTER TYPE s.t_e ADD VALUE IF NOT EXISTS 'x' BEFORE 'a'",
      "ALTER TYPE s.t_e ADD VALUE IF NOT EXISTS 'it''s' AFTER 'a'",
      "ALTER TYPE s.t_e ADD VALUE IF NOT EXISTS 'z' AFTER 'b'",
    ]);
    expect(diff.changes).toEqual(["column e: ENUM label x, it's, z added"]);
    // An earlier attempt committed some of them: only the others are added.
    const again = diffTables(was, table([e(['a', 'b', 'c', 'd'])]), {
      ...ctx('ALTER TABLE t MODIFY e ENUM(…)', types),
      targetEnumLabels: new Map([['e', ['a', 'b', 'c']]]),
    });
    expect(again.early).toEqual(["ALTER TYPE s.t_e ADD VALUE IF NOT EXISTS 'd' AFTER 'c'"]);
    for (const labels of [['a'], ['b', 'a'], ['a', 'c']])
      expect(diffTables(was, table([e(labels)]), ctx('ALTER TABLE t MODIFY e ENUM(…)', types)).hold).toMatch(
        /removed, renamed or reordered/,
      );
    // The run made it text (--enum check, an override): held, to be changed by hand.
    expect(
      diffTables(
        was,
        table([e(['a', 'b', 'c'])]),
        ctx('ALTER TABLE t MODIFY e ENUM(…)', { targetTypes: new Map([['e', 'text']]) }),
      ).hold,
    ).toMatch(/not the run's enum type/);
  });

  it('saves an added foreign key for finalize and drops a dropped one, named as a run names them; cascading keys hold', () => {
    const fk = (name: string, over: Partial<SourceTable['foreignKeys'][number]> = {}) => ({
      name,
      columns: ['n'],
      referencedTable: 'p',
      referencedColumns: ['id'],
      onDelete: 'RESTRICT',
      onUpdate: 'RESTRICT',
      ...over,
    });
    const tableNames = new Map([
      ['t', 't'],
      ['p', 'p'],
    ]);
    const was = table([varchar('v', 10), column('n')], { foreignKeys: [fk('fk_old')] });
    const now = table([varchar('v', 10), column('n')], { foreignKeys: [fk('fk_new', { onDelete: 'NO ACTION' })] });
    const diff = diffTables(
      was,
      now,
      ctx('ALTER TABLE t DROP FOREIGN KEY fk_old, ADD CONSTRAINT fk_new …', { tableNames }),
    );
    expect(diff.hold).toBeNull();
    expect(diff.statements).toEqual([]);
    expect(diff.foreignKeysDropped).toEqual(['fk_old']);
    expect(diff.foreignKeysAdded).toEqual([
      {
        name: 'fk_new',
        definition: 'FOREIGN KEY ("n") REFERENCES "s"."p" ("id") ON DELETE NO ACTION ON UPDATE RESTRICT',
      },
    ]);
    // A key to a table the run does not migrate is not created, as in a run.
    const outside = diffTables(
      table([varchar('v', 10), column('n')]),
      table([varchar('v', 10), column('n')], { foreignKeys: [fk('fk_x', { referencedTable: 'elsewhere' })] }),
      ctx('ALTER TABLE t ADD CONSTRAINT fk_x …', { tableNames }),
    );
    expect(outside.foreignKeysAdded).toEqual([]);
    expect(outside.changes).toEqual([
      'foreign key fk_x not created, as in a run: elsewhere or its columns are not migrated',
    ]);
    // MySQL does not log the rows a cascade changes; the follower learns such keys when it starts.
    const cascading = table([varchar('v', 10), column('n')], { foreignKeys: [fk('fk_c', { onDelete: 'CASCADE' })] });
    expect(
      diffTables(table([varchar('v', 10), column('n')]), cascading, ctx('ALTER TABLE t ADD …', { tableNames })).hold,
    ).toMatch(/changes referencing rows in MySQL without logging them/);
    expect(
      diffTables(cascading, table([varchar('v', 10), column('n')]), ctx('ALTER TABLE t DROP …', { tableNames })).hold,
    ).toMatch(/fk_c/);
  });

  it('takes a rename the catalog already shows from a later statement, not a drop and an add', () => {
    const after = table([varchar('v', 10), column('m2')]);
    const diff = diffTables(
      before,
      after,
      ctx('ALTER TABLE t ADD INDEX (v)', {
        later: ['ALTER TABLE t RENAME COLUMN n TO m', 'ALTER TABLE t CHANGE m m2 INT'],
      }),
    );
    expect(diff.statements).toEqual(['ALTER TABLE "s"."t" RENAME COLUMN "n" TO "m2"']);
    // Without the later statements the same catalog is a drop and an add.
    expect(diffTables(before, after, ctx('ALTER TABLE t ADD INDEX (v)')).statements).toEqual([
      'ALTER TABLE "s"."t" DROP COLUMN "n"',
      'ALTER TABLE "s"."t" ADD COLUMN "m2" integer',
    ]);
  });

  it("leaves columns outside the run's column list alone", () => {
    const after = table([varchar('v', 10), column('extra')]);
    expect(
      diffTables(before, after, ctx('ALTER TABLE t ADD extra INT, DROP n', { columns: ['id', 'v'] })).statements,
    ).toEqual([]);
  });
});

describe('statements', () => {
  it('renames, in order, and drops of columns (not of indexes or keys)', () => {
    expect(renamesIn('ALTER TABLE t RENAME COLUMN `a b` TO c, CHANGE COLUMN d e INT, CHANGE f f INT')).toEqual([
      ['a b', 'c'],
      ['d', 'e'],
    ]);
    expect([
      ...droppedIn(
        'ALTER TABLE t DROP COLUMN a, DROP b, DROP INDEX i, DROP PRIMARY KEY, DROP FOREIGN KEY fk, DROP IF EXISTS `c`',
      ),
    ]).toEqual(['a', 'b', 'c']);
    expect(
      renamedTo(
        'a',
        [
          ['a', 'b'],
          ['b', 'c'],
        ],
        (n) => n === 'b',
      ),
    ).toBe('b');
    expect(
      renamedTo(
        'a',
        [
          ['a', 'b'],
          ['b', 'c'],
        ],
        (n) => n === 'c',
      ),
    ).toBe('c');
    expect(renamedTo('a', [['x', 'y']], () => true)).toBeNull();
  });
});

describe('widening', () => {
  it('allows what keeps every value', () => {
    const cases: [SourceColumn, SourceColumn, boolean][] = [
      [varchar('v', 10), varchar('v', 40), true],
      [varchar('v', 40), varchar('v', 10), false],
      [column('n'), column('n', { dataType: 'bigint' }), true],
      [column('n', { dataType: 'bigint' }), column('n'), false],
      [column('n', { unsigned: true }), column('n', { dataType: 'bigint' }), true],
      [column('n', { unsigned: true }), column('n'), false],
      [column('n'), column('n', { unsigned: true }), false],
      [
        column('d', { dataType: 'decimal', numericPrecision: 10, numericScale: 2 }),
        column('d', { dataType: 'decimal', numericPrecision: 12, numericScale: 2 }),
        true,
      ],
      [
        column('d', { dataType: 'decimal', numericPrecision: 10, numericScale: 2 }),
        column('d', { dataType: 'decimal', numericPrecision: 10, numericScale: 3 }),
        false,
      ],
      [column('f', { dataType: 'float' }), column('f', { dataType: 'double' }), true],
    ];
    for (const [before, after, expected] of cases)
      expect(widens(before, after), `${before.dataType} → ${after.dataType}`).toBe(expected);
  });

  it('prints mapped types as format_type does', () => {
    expect(['varchar(40)', 'timestamp(3)', 'timestamptz', 'numeric(20)', 'bigint'].map(formattedTypeOf)).toEqual([
      'character varying(40)',
      'timestamp(3) without time zone',
      'timestamp with time zone',
      'numeric(20,0)',
      'bigint',
    ]);
  });
});

describe('targetMismatches (resume of a held follower)', () => {
  const recorded = table([varchar('v', 20)]);
  const now = table([varchar('v', 5, { nullable: false })]);
  const target = (type: string, notNull: boolean) => ({
    name: 't',
    columns: [
      { name: 'id', formattedType: 'integer', notNull: true },
      { name: 'v', formattedType: type, notNull },
    ].map((c) => ({
      ...c,
      typeName: '',
      category: '',
      elementType: null,
      hasDefault: false,
      identity: '',
      generated: false,
      enumLabels: null,
    })),
  });
  it('lists what still differs, and nothing once the target matches', () => {
    expect(targetMismatches(recorded, now, target('character varying(20)', false), { targetTable: 't' })).toEqual([
      "column v is character varying(20), MySQL's varchar(5) is character varying(5) in PostgreSQL",
      "column v is not NOT NULL, MySQL's is ",
    ]);
    expect(targetMismatches(recorded, now, target('character varying(5)', true), { targetTable: 't' })).toEqual([]);
    expect(targetMismatches(recorded, now, undefined, { targetTable: 't' })).toEqual([
      'the target table t does not exist',
    ]);
  });
});
