import { describe, expect, it } from 'vitest';
import { buildCreateTable } from '../../src/schema/ddl.js';
import { cutToBytes, fitIdentifier, IdentifierAllocator, pgObjectName } from '../../src/vocabulary/identifiers.js';
import { DEFAULT_NAMING, namingProblems } from '../../src/vocabulary/naming.js';
import { translateIndexes, type IndexContext } from '../../src/schema/index-ddl.js';
import { decideKeyType, findKeyGroups, type KeyMember } from '../../src/schema/key-types.js';
import type { SourceColumn, SourceForeignKey, SourceIndex, SourceTable } from '../../src/dialect/mysql/catalog.js';
import { src } from '../helpers/columns.js';

function table(
  name: string,
  columns: SourceColumn[],
  foreignKeys: SourceForeignKey[] = [],
  extra: Partial<SourceTable> = {},
): SourceTable {
  return {
    name,
    columns,
    primaryKey: [columns[0]!.name],
    indexes: [],
    foreignKeys,
    autoIncrement: null,
    estimatedRows: 0,
    comment: '',
    ...extra,
  };
}
function fk(name: string, columns: string[], referencedTable: string, referencedColumns: string[]): SourceForeignKey {
  return { name, columns, referencedTable, referencedColumns, onDelete: 'RESTRICT', onUpdate: 'RESTRICT' };
}
const ubig = (name: string, extra: Partial<SourceColumn> = {}): SourceColumn =>
  src('bigint', { name, columnType: 'bigint(20) unsigned', unsigned: true, ...extra });
const int = (name: string, extra: Partial<SourceColumn> = {}): SourceColumn =>
  src('int', { name, columnType: 'int(11)', ...extra });

describe('foreign-key groups of columns', () => {
  it('joins chains, self-references, composite keys and references to a UNIQUE key; leaves lone columns out', () => {
    const tables = [
      table('a', [ubig('id'), ubig('b_id')], [fk('a_b', ['b_id'], 'b', ['id'])]),
      table('b', [ubig('id'), ubig('c_code')], [fk('b_c', ['c_code'], 'c', ['code'])]),
      // c.code is a UNIQUE key, not the primary key.
      table('c', [int('id'), ubig('code')]),
      table('tree', [int('id'), int('parent_id')], [fk('tree_parent', ['parent_id'], 'tree', ['id'])]),
      table('pair', [int('x'), int('y')]),
      table('pair_ref', [int('id'), int('px'), int('py')], [fk('pr', ['px', 'py'], 'pair', ['x', 'y'])]),
      table('orphan', [int('id'), int('gone_id')], [fk('o', ['gone_id'], 'not_in_source', ['id'])]),
    ];
    const groups = findKeyGroups(tables).map((g) => g.map((m) => `${m.table}.${m.column}`).sort());
    expect(groups.sort()).toEqual(
      [
        ['a.b_id', 'b.id'],
        ['b.c_code', 'c.code'],
        ['pair.x', 'pair_ref.px'],
        ['pair.y', 'pair_ref.py'],
        ['tree.id', 'tree.parent_id'],
      ].sort(),
    );
    // A chain a -> b -> c through the same column is one group.
    const chain = findKeyGroups([
      table('c1', [ubig('id')]),
      table('b1', [ubig('id')], [fk('b1c1', ['id'], 'c1', ['id'])]),
      table('a1', [ubig('id')], [fk('a1b1', ['id'], 'b1', ['id'])]),
    ]);
    expect(chain.map((g) => g.map((m) => `${m.table}.${m.column}`).sort())).toEqual([['a1.id', 'b1.id', 'c1.id']]);
  });
});

describe('the one type of a foreign-key group', () => {
  const m = (table: string, mapped: string, extra: Partial<KeyMember> = {}): KeyMember => ({
    table,
    column: 'id',
    mapped,
    overridden: false,
    unsignedBigint: mapped === 'numeric(20)',
    ...extra,
  });
  const BIG = '9223372036854775807';
  it.each<[string, KeyMember[], string | null, RegExp]>([
    ['same integer type: nothing to change', [m('a', 'integer'), m('b', 'integer')], null, /already integer/],
    ['int unsigned (bigint) and int (integer): the widest', [m('a', 'bigint'), m('b', 'integer')], 'bigint', /widest/],
    [
      'smallint unsigned (integer) and tinyint(1) (boolean)',
      [m('a', 'integer'), m('b', 'boolean')],
      'integer',
      /widest/,
    ],
    [
      'bigint unsigned identity + bigint unsigned refs, values fit',
      [m('a', 'numeric(20)', { max: '42', autoIncrement: '43' }), m('b', 'numeric(20)', { max: '40' })],
      'bigint',
      /every value/,
    ],
    [
      'bigint unsigned at exactly 2^63-1 still fits',
      [m('a', 'numeric(20)', { max: BIG }), m('b', 'numeric(20)', { max: null })],
      'bigint',
      /fit bigint/,
    ],
    [
      'a value beyond 2^63-1: numeric(20) for all',
      [m('a', 'numeric(20)', { max: '9223372036854775808' }), m('b', 'integer')],
      'numeric(20)',
      /beyond bigint: a\.id holds 9223372036854775808/,
    ],
    [
      'AUTO_INCREMENT beyond 2^63-1: numeric(20)',
      [m('a', 'numeric(20)', { max: '5', autoIncrement: '18446744073709551615' }), m('b', 'numeric(20)', { max: '5' })],
      'numeric(20)',
      /continues at AUTO_INCREMENT/,
    ],
    [
      'an empty group of bigint unsigned: bigint',
      [m('a', 'numeric(20)', { max: null }), m('b', 'numeric(20)', { max: null })],
      'bigint',
      /fit/,
    ],
    [
      'an existing target column decides',
      [m('a', 'numeric(20)', { existing: 'bigint' }), m('b', 'numeric(20)')],
      'bigint',
      /existing target column a\.id is bigint/,
    ],
    [
      'an override decides for the others',
      [m('a', 'numeric(20,0)', { overridden: true }), m('b', 'bigint')],
      'numeric(20,0)',
      /--type\/--column-type of a\.id/,
    ],
    [
      'text keys of different lengths are left as mapped',
      [m('a', 'varchar(10)'), m('b', 'varchar(20)')],
      null,
      /left as mapped/,
    ],
  ])('%s', (_label, members, type, reason) => {
    const decision = decideKeyType(members);
    expect(decision.type).toBe(type);
    expect(decision.reason).toMatch(reason);
    expect(decision.warning).toBeUndefined();
  });

  it('warns when existing columns or overrides disagree, and refuses to guess without MAX', () => {
    expect(decideKeyType([m('a', 'x', { existing: 'integer' }), m('b', 'x', { existing: 'bigint' })]).warning).toMatch(
      /different types \(integer, bigint\)/,
    );
    expect(
      decideKeyType([m('a', 'text', { overridden: true }), m('b', 'bigint', { overridden: true })]).warning,
    ).toMatch(/overridden to different types/);
    expect(() => decideKeyType([m('a', 'numeric(20)'), m('b', 'bigint')])).toThrow(/MAX\(a\.id\) was not read/);
  });

  it('gives the created tables the decided type; an AUTO_INCREMENT key of numeric(20) gets no identity', () => {
    const parent = table('parent', [ubig('id', { autoIncrement: true, nullable: false })]);
    const asBigint = buildCreateTable(parent, 'public', {
      isMariaDb: true,
      knownTables: new Set(),
      keyTypes: new Map([['id', 'bigint']]),
    });
    expect(asBigint.statements.at(-1)).toContain('"id" bigint GENERATED BY DEFAULT AS IDENTITY NOT NULL');
    expect(asBigint.warnings).toEqual([]);
    const asNumeric = buildCreateTable(parent, 'public', {
      isMariaDb: true,
      knownTables: new Set(),
      keyTypes: new Map([['id', 'numeric(20)']]),
    });
    expect(asNumeric.statements.at(-1)).toContain('"id" numeric(20) NOT NULL');
    expect(asNumeric.warnings.join()).toMatch(/cannot be an identity/);
  });
});

describe('names within 63 bytes', () => {
  const long = 'CATALOG_PRODUCT_ENTITY_INT_ATTRIBUTE_ID_EAV_ATTRIBUTE_ATTRIBUTE_ID'; // 66 bytes
  it.each<[string, string, (out: string) => void]>([
    ['a short name stays', 'users_email', (out) => expect(out).toBe('users_email')],
    ['exactly 63 bytes stays', 'x'.repeat(63), (out) => expect(out).toBe('x'.repeat(63))],
    ['64 bytes is cut and hashed', 'x'.repeat(64), (out) => expect(out).toMatch(/^x{54}_[0-9a-f]{8}$/)],
    [
      'Magento constraint name',
      long,
      (out) => expect(out).toMatch(/^CATALOG_PRODUCT_ENTITY_INT_ATTRIBUTE_ID_EAV_ATTRIBUTE__[0-9a-f]{8}$/),
    ],
    // 32 Cyrillic letters are 64 bytes: cut on a character boundary, never half a letter.
    ['multibyte: bytes, not characters', 'я'.repeat(32), (out) => expect(out).toMatch(/^я{27}_[0-9a-f]{8}$/)],
    ['4-byte characters are never split', '😀'.repeat(20), (out) => expect(out).toMatch(/^😀{13}_[0-9a-f]{8}$/u)],
  ])('%s', (_label, name, check) => {
    const out = fitIdentifier(name);
    check(out);
    expect(Buffer.byteLength(out, 'utf8')).toBeLessThanOrEqual(63);
    expect(out).not.toContain('\uFFFD');
    expect(fitIdentifier(name)).toBe(out);
  });

  it('keeps names apart that share their first 63 bytes', () => {
    const a = `${long}_A_SUFFIX`;
    const b = `${long}_B_SUFFIX`;
    expect(a.slice(0, 63)).toBe(b.slice(0, 63));
    expect(fitIdentifier(a)).not.toBe(fitIdentifier(b));
    expect(
      namingProblems(
        DEFAULT_NAMING,
        [a, b, 'short'].map((name) => ({ name, columns: [] })),
        [a, b, 'short'].map((table) => ({ table })),
      ),
    ).toEqual([]);
    expect(cutToBytes('aé', 2)).toBe('a');
  });

  it('ports PostgreSQL own names (makeObjectName): the longer part is cut first, on a character boundary', () => {
    expect(pgObjectName('users', null, 'pkey')).toBe('users_pkey');
    expect(pgObjectName('users', 'id', 'seq')).toBe('users_id_seq');
    const t = 't'.repeat(64);
    expect(pgObjectName(t, 'id', 'seq')).toBe(`${'t'.repeat(56)}_id_seq`);
    expect(pgObjectName(t, 'c'.repeat(40), 'seq')).toBe(`${'t'.repeat(29)}_${'c'.repeat(29)}_seq`);
    expect(Buffer.byteLength(pgObjectName('я'.repeat(40), null, 'pkey'))).toBeLessThanOrEqual(63);
    expect(pgObjectName('я'.repeat(40), null, 'pkey')).toBe(`${'я'.repeat(29)}_pkey`);
  });

  it('allocates unique names per namespace, deterministically, around reserved ones', () => {
    const run = (): string[] => {
      const names = new IdentifierAllocator();
      names.reserve('relation', 't_pkey');
      return [
        names.allocate('relation', 't_pkey'),
        names.allocate('relation', `${long}_X`),
        names.allocate('relation', `${long}_X`),
        names.allocate('relation', 'a_b_c'),
        names.allocate('type', 'a_b_c'),
      ];
    };
    const first = run();
    expect(first).toEqual(run());
    expect(first[0]).toMatch(/^t_pkey_[0-9a-f]{8}$/);
    expect(first[1]).not.toBe(first[2]);
    expect(first[3]).toBe('a_b_c');
    expect(first[4]).toBe('a_b_c');
    for (const name of first) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
  });

  it('gives every generated name of a created table 63 bytes at most, unique in the schema', () => {
    const tableName = 't'.repeat(64);
    const cols = [
      int('id', { autoIncrement: true }),
      src('enum', { name: 'state', enumValues: ['a'] }),
      src('varchar', { name: 'email', maxLength: 100 }),
    ];
    const a = table(
      tableName,
      cols,
      [fk(`${long}_1`, ['id'], 'other', ['id']), fk(`${long}_2`, ['id'], 'other', ['id'])],
      {
        indexes: [
          {
            name: `${long}_IDX_ONE`,
            unique: false,
            columns: ['email'],
            kind: 'BTREE',
            partial: false,
            subParts: [null],
          },
          {
            name: `${long}_IDX_TWO`,
            unique: false,
            columns: ['email'],
            kind: 'BTREE',
            partial: false,
            subParts: [null],
          },
        ],
      },
    );
    const names = new IdentifierAllocator();
    const plan = buildCreateTable(a, 'public', { isMariaDb: true, knownTables: new Set(['other']), names });
    const generated = plan.deferred.map((d) => d.name);
    const enumType = /CREATE TYPE "public"\."([^"]+)"/.exec(plan.statements.join('\n'))?.[1];
    expect(enumType).toBeDefined();
    for (const name of [...generated, enumType!]) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(new Set(generated).size).toBe(generated.length);
    expect(plan.statements.find((s) => s.startsWith('CREATE TABLE'))).toContain(
      `"public"."${fitIdentifier(tableName)}"`,
    );
    // Table `a_b` column `c` and table `a` column `b_c` would both name their enum type `a_b_c`.
    const one = buildCreateTable(table('a_b', [int('id'), src('enum', { name: 'c', enumValues: ['x'] })]), 'public', {
      isMariaDb: true,
      knownTables: new Set(),
      names,
    });
    const two = buildCreateTable(table('a', [int('id'), src('enum', { name: 'b_c', enumValues: ['y'] })]), 'public', {
      isMariaDb: true,
      knownTables: new Set(),
      names,
    });
    const typeOf = (p: typeof one): string => /CREATE TYPE "public"\."([^"]+)"/.exec(p.statements.join('\n'))![1]!;
    expect(typeOf(one)).not.toBe(typeOf(two));
  });
});

describe('prefix, FULLTEXT and SPATIAL indexes', () => {
  const columns: Record<string, [SourceColumn, string]> = {
    meta_key: [src('varchar', { name: 'meta_key', maxLength: 255, charset: 'utf8mb4' }), 'varchar(255)'],
    email: [src('varchar', { name: 'email', maxLength: 255, charset: 'utf8mb4' }), 'varchar(255)'],
    body: [src('longtext', { name: 'body', charset: 'utf8mb4' }), 'text'],
    title: [src('varchar', { name: 'title', maxLength: 1000, charset: 'utf8mb4' }), 'varchar(1000)'],
    page_title: [src('varbinary', { name: 'page_title', maxLength: 255, charset: null }), 'bytea'],
    blob: [src('blob', { name: 'blob' }), 'bytea'],
    location: [src('geometry', { name: 'location' }), '"public".geometry'],
    wkb: [src('geometry', { name: 'wkb' }), 'bytea'],
    nul_text: [src('text', { name: 'nul_text', charset: 'utf8mb4' }), 'bytea'],
  };
  const ctx = (): IndexContext => ({
    table: 't',
    qualifiedTable: '"public"."t"',
    targetTable: 't',
    column: (name) => columns[name]?.[0],
    targetColumn: (name) => name,
    targetType: (name) => columns[name]?.[1],
    included: new Set(Object.keys(columns)),
    fulltextConfig: 'simple',
    names: new IdentifierAllocator(),
  });
  const ix = (
    name: string,
    cols: string[],
    subParts: (number | null)[],
    extra: Partial<SourceIndex> = {},
  ): SourceIndex => ({
    name,
    unique: false,
    columns: cols,
    kind: 'BTREE',
    partial: subParts.some((p) => p !== null),
    subParts,
    ...extra,
  });
  it.each<[string, SourceIndex, string | null]>([
    [
      'UNIQUE prefix on varchar keeps its meaning: left()',
      ix('email', ['email'], [20], { unique: true }),
      'CREATE UNIQUE INDEX IF NOT EXISTS "t_email" ON "public"."t" ((left("email", 20)))',
    ],
    [
      'plain prefix on a short varchar: the whole column (serves col = …)',
      ix('meta_key', ['meta_key'], [191]),
      'CREATE INDEX IF NOT EXISTS "t_meta_key" ON "public"."t" ("meta_key")',
    ],
    [
      'plain prefix on text: left()',
      ix('body', ['body'], [10]),
      'CREATE INDEX IF NOT EXISTS "t_body" ON "public"."t" ((left("body", 10)))',
    ],
    [
      'plain prefix on a long varchar: left()',
      ix('title', ['title', 'email'], [100, null]),
      'CREATE INDEX IF NOT EXISTS "t_title" ON "public"."t" ((left("title", 100)), "email")',
    ],
    [
      'two prefixes whose whole columns together could pass a btree entry: the second as left()',
      ix('two', ['meta_key', 'email'], [191, 100]),
      'CREATE INDEX IF NOT EXISTS "t_two" ON "public"."t" ("meta_key", (left("email", 100)))',
    ],
    [
      'UNIQUE prefix on varbinary counts bytes: substring()',
      ix('page_title', ['page_title'], [5], { unique: true }),
      'CREATE UNIQUE INDEX IF NOT EXISTS "t_page_title" ON "public"."t" ((substring("page_title" from 1 for 5)))',
    ],
    [
      'plain prefix on a blob: substring()',
      ix('blob', ['blob'], [16]),
      'CREATE INDEX IF NOT EXISTS "t_blob" ON "public"."t" ((substring("blob" from 1 for 16)))',
    ],
    [
      'FULLTEXT over two columns: GIN on to_tsvector',
      ix('ft', ['title', 'body'], [null, null], { kind: 'FULLTEXT' }),
      `CREATE INDEX IF NOT EXISTS "t_ft" ON "public"."t" USING gin ((to_tsvector('simple'::regconfig, coalesce("title", '') || ' ' || coalesce("body", ''))))`,
    ],
    [
      'SPATIAL on PostGIS geometry: GiST',
      ix('sp', ['location'], [null], { kind: 'SPATIAL' }),
      'CREATE INDEX IF NOT EXISTS "t_sp" ON "public"."t" USING gist ("location")',
    ],
    ['SPATIAL on bytea (no PostGIS): skipped', ix('sp', ['wkb'], [null], { kind: 'SPATIAL' }), null],
    ['FULLTEXT on a column made bytea: skipped', ix('ft', ['nul_text'], [null], { kind: 'FULLTEXT' }), null],
    ['a text prefix on a column made bytea: skipped', ix('p', ['nul_text'], [10], { unique: true }), null],
    ['a functional index: skipped', ix('fn', ['email'], [null], { functional: true }), null],
  ])('%s', (_label, index, expected) => {
    const out = translateIndexes([index], ctx());
    expect(out.indexes.map((i) => i.definition)).toEqual(expected === null ? [] : [expected]);
    if (expected === null) expect(out.warnings).toHaveLength(1);
    else if (index.partial || index.kind !== 'BTREE') expect(out.notes).toHaveLength(1);
  });
});
