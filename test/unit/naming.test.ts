import { describe, expect, it } from 'vitest';
import { applyIdentifierCase, DEFAULT_NAMING, namingProblems, snakeCase, targetColumnName, targetTableName, type NamingRules } from '../../src/vocabulary/naming.js';

const rules = (extra: Partial<NamingRules>): NamingRules => ({ ...DEFAULT_NAMING, ...extra });

describe('snake_case of source names', () => {
  it.each([
    ['OrderItems', 'order_items'],
    ['userID', 'user_id'],
    ['HTTPServer', 'http_server'],
    ['FilmActor', 'film_actor'],
    ['film_actor', 'film_actor'],
    ['already_snake_Case', 'already_snake_case'],
    ['first name', 'first_name'],
    ['first-name', 'first_name'],
    ['first - name', 'first_name'],
    ['Address2Line', 'address2_line'],
    ['line2', 'line2'],
    ['userID2', 'user_id2'],
    ['ID', 'id'],
    ['XMLHttpRequest', 'xml_http_request'],
    ['__private', '__private'],
    ['ÄrgerÜber', 'ärger_über'],
    ['lower', 'lower'],
  ])('%s → %s', (name, expected) => {
    expect(snakeCase(name)).toBe(expected);
    // Idempotent: a snake name stays as it is.
    expect(snakeCase(expected)).toBe(expected);
  });

  it('lower only lowers; keep keeps', () => {
    expect(applyIdentifierCase('FilmActor', 'lower')).toBe('filmactor');
    expect(applyIdentifierCase('FilmActor', 'keep')).toBe('FilmActor');
  });
});

describe('target names', () => {
  const r = rules({ case: 'snake', tables: { FilmActor: 'cast_members' }, columns: { FilmActor: { ActorID: 'performer' } } });

  it('takes a rename as written, else the case rule', () => {
    expect(targetTableName(r, 'FilmActor')).toBe('cast_members');
    expect(targetTableName(r, 'FilmCategory')).toBe('film_category');
    expect(targetColumnName(r, 'FilmActor', 'ActorID')).toBe('performer');
    expect(targetColumnName(r, 'FilmActor', 'LastUpdate')).toBe('last_update');
    // A column rename belongs to its table only.
    expect(targetColumnName(r, 'Actor', 'ActorID')).toBe('actor_id');
    expect(targetTableName(undefined, 'FilmActor')).toBe('FilmActor');
  });

  it('fits the result to 63 bytes after the case rule', () => {
    const long = `${'VeryLong'.repeat(8)}Name`;
    const out = targetTableName(rules({ case: 'snake' }), long);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(63);
    expect(out).toMatch(/^very_long_very_long_.*_[0-9a-f]{8}$/);
    // Short enough once snake: kept whole.
    expect(targetColumnName(rules({ case: 'lower' }), 't', 'A'.repeat(63))).toBe('a'.repeat(63));
  });
});

describe('naming problems, each naming its migration-file key', () => {
  const tables = [
    { name: 'users', columns: [{ name: 'id' }, { name: 'name' }, { name: 'UserName' }, { name: 'user_name' }] },
    { name: 'Orders', columns: [{ name: 'id' }] },
    { name: 'orders', columns: [{ name: 'id' }] },
    { name: 'left_out', columns: [{ name: 'id' }] },
  ];
  const selected = ['users', 'Orders', 'orders'].map((table) => ({ table }));

  it('lists every problem at once', () => {
    const problems = namingProblems(
      rules({ case: 'keep', tables: { missing: 'x', left_out: 'y', Users: 'z' }, columns: { users: { nmae: 'n', id: 'name' }, nope: { a: 'b' } } }),
      tables,
      selected,
    );
    expect(problems).toEqual([
      'rename.tables.missing: the source has no table missing',
      'rename.tables.left_out: the table left_out is not selected for this run; select it or drop the rename',
      'rename.tables.Users: the source has no table Users (did you mean users?)',
      'rename.columns.users.nmae: the source table users has no column nmae',
      'rename.columns.nope: the source has no table nope',
      'rename.columns.users.id: the columns id, name of table users would all be named name in PostgreSQL; rename all but one of them (rename.columns.users)',
    ]);
  });

  it('finds names the case rule makes meet, and a rename that resolves them', () => {
    expect(namingProblems(rules({ case: 'lower' }), tables, selected)).toEqual([
      'identifierCase: the source tables Orders, orders would all be named orders in PostgreSQL; rename all but one of them (rename.tables)',
    ]);
    expect(namingProblems(rules({ case: 'snake' }), tables, selected)).toEqual([
      'identifierCase: the source tables Orders, orders would all be named orders in PostgreSQL; rename all but one of them (rename.tables)',
      'identifierCase: the columns UserName, user_name of table users would all be named user_name in PostgreSQL; rename all but one of them (rename.columns.users)',
    ]);
    expect(namingProblems(rules({ case: 'snake', tables: { Orders: 'old_orders' }, columns: { users: { UserName: 'login' } } }), tables, selected)).toEqual([]);
  });

  it('checks column renames against the columns an entity selection copies', () => {
    expect(namingProblems(rules({ columns: { users: { name: 'full_name' } } }), tables, [{ table: 'users', columns: ['id'] }])).toEqual([
      'rename.columns.users.name: the column name of table users is not selected for this run; select it or drop the rename',
    ]);
  });
});
