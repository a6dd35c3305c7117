import { describe, expect, it } from 'vitest';
import { ViewTranslator } from '../../src/schema/translate/translate-view.js';
import type { Relation } from '../../src/schema/translate/view-relations.js';
import {
  applyIdentifierCase,
  DEFAULT_NAMING,
  namingProblems,
  snakeCase,
  targetColumnName,
  targetTableName,
  type NamingRules,
} from '../../src/vocabulary/naming.js';

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
  const r = rules({
    case: 'snake',
    tables: { FilmActor: 'cast_members' },
    columns: { FilmActor: { ActorID: 'performer' } },
  });

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
      rules({
        case: 'keep',
        tables: { missing: 'x', left_out: 'y', Users: 'z' },
        columns: { users: { nmae: 'n', id: 'name' }, nope: { a: 'b' } },
      }),
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
    expect(
      namingProblems(
        rules({ case: 'snake', tables: { Orders: 'old_orders' }, columns: { users: { UserName: 'login' } } }),
        tables,
        selected,
      ),
    ).toEqual([]);
  });

  it('checks column renames against the columns an entity selection copies', () => {
    expect(
      namingProblems(rules({ columns: { users: { name: 'full_name' } } }), tables, [
        { table: 'users', columns: ['id'] },
      ]),
    ).toEqual([
      'rename.columns.users.name: the column name of table users is not selected for this run; select it or drop the rename',
    ]);
  });
});

describe('views over renamed tables and columns', () => {
  const INT = { kind: 'int' } as const;
  const column = (name: string) => ({
    name,
    dataType: 'int',
    columnType: 'int',
    numericPrecision: 10,
    numericScale: 0,
    datetimePrecision: null,
    charset: null,
  });
  const relations = new Map<string, Relation>([
    [
      'FilmActor',
      {
        name: 'FilmActor',
        targetName: 'cast_members',
        columns: [
          { name: 'ActorID', target: 'performer_id', type: INT },
          { name: 'FilmID', target: 'film_id', type: INT },
        ],
      },
    ],
    ['Actor', { name: 'Actor', targetName: 'actor', columns: [{ name: 'ActorID', target: 'actor_id', type: INT }] }],
    ['Film', { name: 'Film', targetName: 'film', columns: [{ name: 'FilmID', target: 'film_id', type: INT }] }],
  ]);
  const translator = new ViewTranslator('app', 'public', relations, rules({ case: 'snake' }));
  const view = (definition: string, columns: string[]) => ({
    name: 'ActorFilms',
    definition,
    checkOption: 'NONE',
    columns: columns.map(column),
  });

  it('writes every reference with its target name, and the view under the case rule', () => {
    const out = translator.translate(
      view(
        'select `fa`.`ActorID` AS `ActorID`, `f`.`FilmID` AS `FilmID` from (`app`.`FilmActor` `fa` join `app`.`Film` `f` on(`f`.`FilmID` = `fa`.`FilmID`)) where `fa`.`ActorID` > 1',
        ['ActorID', 'FilmID'],
      ),
    );
    expect(out.targetName).toBe('actor_films');
    expect(out.targetColumns).toEqual(['actor_id', 'film_id']);
    expect(out.statement).toContain('CREATE OR REPLACE VIEW "public"."actor_films" ("actor_id", "film_id")');
    expect(out.statement).toContain('"fa"."performer_id"');
    expect(out.statement).toContain('"public"."cast_members" AS "fa"');
    // Only the inner aliases (which the view column list replaces) keep the source spelling.
    expect(out.statement).not.toMatch(/"\w+"\."(ActorID|FilmID)"/);
  });

  it('USING joins on the one target name both sides share, and refuses columns renamed apart', () => {
    const same = translator.translate(
      view('select `f`.`FilmID` AS `FilmID` from (`app`.`Film` `f` join `app`.`FilmActor` `fa` using (`FilmID`))', [
        'FilmID',
      ]),
    );
    expect(same.statement).toContain('USING ("film_id")');
    expect(() =>
      translator.translate(
        view(
          'select `a`.`ActorID` AS `ActorID` from (`app`.`Actor` `a` join `app`.`FilmActor` `fa` using (`ActorID`))',
          ['ActorID'],
        ),
      ),
    ).toThrow('USING (ActorID) joins columns the run names differently in PostgreSQL (actor_id, performer_id)');
  });
});
