import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;
let dir: string;

/** Writes a migration file (JSON is YAML too) and returns its path. */
function migrationFile(name: string, content: Record<string, unknown>): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, JSON.stringify(content, null, 2));
  return path;
}

async function pgRows(sql: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const pgc = await sandbox.pg();
  try {
    return (await pgc.query(sql, values)).rows;
  } finally {
    await pgc.end();
  }
}

// A Sakila-shaped source the way CamelCase apps write it: every name needs the case rule, and a
// few are renamed outright.
// LastUpdate is left to verification (a TIMESTAMP prints differently on the two sides as text).
const ACTOR = ['ActorID', 'FirstName', 'LastName'];
const FILM = ['FilmID', 'Title', 'Rating', 'RentalRate', 'Length', 'TitleUpper'];

describe('renames and identifier case (migration file)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'my2pg-naming-'));
    sandbox = await createSandbox('naming');
    const my = await sandbox.mysql();
    await my.query(`
      CREATE TABLE Actor (
        ActorID SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        FirstName VARCHAR(45) NOT NULL,
        LastName VARCHAR(45) NOT NULL,
        LastUpdate TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        KEY idx_LastName (LastName)
      ) AUTO_INCREMENT = 20;
      CREATE TABLE Film (
        FilmID INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        Title VARCHAR(100) NOT NULL,
        Rating ENUM('G', 'PG', 'PG-13', 'R') DEFAULT 'G',
        RentalRate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
        Length SMALLINT UNSIGNED NULL,
        TitleUpper VARCHAR(100) AS (UPPER(Title)) STORED,
        CONSTRAINT chk_FilmRate CHECK (RentalRate >= 0 AND Length > 0),
        UNIQUE KEY uq_Title (Title)
      );
      CREATE TABLE FilmActor (
        ActorID SMALLINT UNSIGNED NOT NULL,
        FilmID INT NOT NULL,
        PRIMARY KEY (ActorID, FilmID),
        KEY idx_FilmID (FilmID),
        CONSTRAINT fk_FilmActor_Actor FOREIGN KEY (ActorID) REFERENCES Actor (ActorID),
        CONSTRAINT fk_FilmActor_Film FOREIGN KEY (FilmID) REFERENCES Film (FilmID)
      );
      INSERT INTO Actor (ActorID, FirstName, LastName, LastUpdate) VALUES
        (1, 'Penelope', 'Guiness', '2006-02-15 04:34:33'), (2, 'Nick', 'Wahlberg', '2006-02-15 04:34:33'), (5, 'Johnny', 'Lollobrigida', '2007-01-01 00:00:00');
      INSERT INTO Film (FilmID, Title, Rating, RentalRate, Length) VALUES
        (1, 'Academy Dinosaur', 'PG', 0.99, 86), (2, 'Ace Goldfinger', 'G', 4.99, 48), (3, 'Adaptation Holes', 'PG-13', 2.99, NULL);
      INSERT INTO FilmActor VALUES (1, 1), (1, 2), (2, 1), (5, 3);
      CREATE VIEW ActorInfo AS
        SELECT a.ActorID, a.FirstName, a.LastName, COUNT(fa.FilmID) AS FilmCount
          FROM Actor a LEFT JOIN FilmActor fa ON fa.ActorID = a.ActorID
         GROUP BY a.ActorID, a.FirstName, a.LastName;
    `);
    await my.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a rename of what the source lacks exits 2 naming every key, before anything is written', async () => {
    const config = migrationFile('bad', {
      identifierCase: 'lower',
      rename: { tables: { Nope: 'x', actor: 'y' }, columns: { Actor: { nmae: 'full_name', LastName: 'firstname' } } },
    });
    const result = await sandbox.cli(['run', '--config', config]);
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stderr).toContain('rename.tables.Nope: the source has no table Nope');
    expect(result.stderr).toContain('rename.tables.actor: the source has no table actor (did you mean Actor?)');
    expect(result.stderr).toContain('rename.columns.Actor.nmae: the source table Actor has no column nmae');
    // LastName renamed onto what the case rule makes of FirstName.
    expect(result.stderr).toContain(
      'rename.columns.Actor.LastName, identifierCase: the columns FirstName, LastName of table Actor would all be named firstname in PostgreSQL',
    );
    const tables = await pgRows(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema IN ('public', 'my2pg')`,
    );
    expect(tables[0]!.n).toBe(0);
  });

  it('snake case plus renames: values, keys, indexes, CHECK, enum, trigger, sequence and the view under the new names', async () => {
    const config = migrationFile('snake', {
      identifierCase: 'snake',
      // Split into key-range jobs: each range deletes and verifies its part by the renamed key.
      rangeRows: 1,
      rename: {
        tables: { FilmActor: 'cast_members' },
        columns: { Actor: { FirstName: 'given_name' }, FilmActor: { ActorID: 'performer_id' } },
      },
    });
    const result = await sandbox.cli(['run', '--config', config]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('target names: Actor → actor, Film → film, FilmActor → cast_members');
    expect(result.stdout).toContain('sequences: actor.actor_id next 20, film.film_id next 4');
    expect(result.stdout).toContain('views created and verified: ActorInfo');

    const targetColumns = (cols: string[]) => cols.map((c) => c.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase());
    expect(
      await expectSidesEqual(sandbox, [
        {
          table: 'Actor',
          targetTable: 'actor',
          key: ['ActorID'],
          columns: ACTOR,
          targetColumns: ['actor_id', 'given_name', 'last_name'],
        },
        { table: 'Film', targetTable: 'film', key: ['FilmID'], columns: FILM, targetColumns: targetColumns(FILM) },
        {
          table: 'FilmActor',
          targetTable: 'cast_members',
          key: ['ActorID', 'FilmID'],
          columns: ['ActorID', 'FilmID'],
          targetColumns: ['performer_id', 'film_id'],
        },
      ]),
    ).toEqual({ Actor: 3, Film: 3, FilmActor: 4 });

    const relations = await pgRows(
      `SELECT c.relkind::text || ':' || c.relname AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'i', 'S') ORDER BY c.relname COLLATE "C"`,
    );
    expect(relations.map((r) => r.r)).toEqual([
      'r:actor',
      'S:actor_actor_id_seq',
      'i:actor_idx_last_name',
      'v:actor_info',
      'i:actor_pkey',
      'r:cast_members',
      'i:cast_members_idx_film_id',
      'i:cast_members_pkey',
      'r:film',
      'S:film_film_id_seq',
      'i:film_pkey',
      'i:film_uq_title',
    ]);
    const indexColumns = await pgRows(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname IN ('actor_idx_last_name', 'film_uq_title')  ORDER BY 1`,
    );
    expect(indexColumns.map((r) => String(r.indexdef).replace(/^.* USING /, ''))).toEqual([
      'btree (last_name)',
      'btree (title)',
    ]);

    const constraints = await pgRows(
      `SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('f', 'c') ORDER BY 1, 2`,
    );
    expect(constraints).toEqual([
      {
        t: 'cast_members',
        conname: 'fk_film_actor_actor',
        def: 'FOREIGN KEY (performer_id) REFERENCES actor(actor_id) ON UPDATE RESTRICT ON DELETE RESTRICT',
      },
      {
        t: 'cast_members',
        conname: 'fk_film_actor_film',
        def: 'FOREIGN KEY (film_id) REFERENCES film(film_id) ON UPDATE RESTRICT ON DELETE RESTRICT',
      },
      { t: 'film', conname: 'chk_film_rate', def: expect.stringMatching(/rental_rate >= .*length > 0/) },
    ]);
    const rating = await pgRows(
      `SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'film'::regclass AND attname = 'rating'`,
    );
    expect(rating[0]!.type).toBe('film_rating');
    const generated = await pgRows(
      `SELECT generation_expression AS e FROM information_schema.columns WHERE table_name = 'film' AND column_name = 'title_upper'`,
    );
    expect(generated[0]!.e).toMatch(/upper\(.*title/);

    // Sequences continue after MySQL's AUTO_INCREMENT, keys and CHECK hold under the new names.
    const inserted = await pgRows(
      `INSERT INTO actor (given_name, last_name) VALUES ('Ed', 'Chase') RETURNING actor_id`,
    );
    expect(inserted[0]!.actor_id).toBe(20);
    const film = await pgRows(
      `INSERT INTO film (title, length) VALUES ('Affair Prejudice', 117) RETURNING film_id, rating::text, title_upper`,
    );
    expect(film[0]).toEqual({ film_id: 4, rating: 'G', title_upper: 'AFFAIR PREJUDICE' });
    await expect(pgRows(`INSERT INTO cast_members (performer_id, film_id) VALUES (99, 1)`)).rejects.toThrow(
      /fk_film_actor_actor/,
    );
    await expect(pgRows(`INSERT INTO film (title, length) VALUES ('Zero', 0)`)).rejects.toThrow(/chk_film_rate/);
    // ON UPDATE CURRENT_TIMESTAMP became a trigger on the renamed column.
    const updated = await pgRows(
      `UPDATE actor SET last_name = 'GUINESS' WHERE actor_id = 1 RETURNING last_update > '2020-01-01' AS moved`,
    );
    expect(updated[0]!.moved).toBe(true);

    // The view reads the renamed table and columns, and returns MySQL's rows.
    const view = await pgRows(
      `SELECT actor_id, first_name, last_name, film_count::int AS n FROM actor_info WHERE actor_id <> 20 ORDER BY actor_id`,
    );
    expect(view).toEqual([
      { actor_id: 1, first_name: 'Penelope', last_name: 'GUINESS', n: 2 },
      { actor_id: 2, first_name: 'Nick', last_name: 'Wahlberg', n: 1 },
      { actor_id: 5, first_name: 'Johnny', last_name: 'Lollobrigida', n: 1 },
    ]);

    // A later `verify` pairs the same names: it finds what changed above, by source names.
    const verify = await sandbox.cli(['verify']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(1);
    expect(verify.stdout).toContain(
      'problem: table Actor: 3 rows in MySQL, 4 in PostgreSQL: 2 rows differ: in key ranges',
    );
    expect(verify.stdout).toContain(
      'row ActorID=1 differs in LastName, LastUpdate; row ActorID=20 is only in PostgreSQL',
    );
    expect(verify.stdout).toContain(
      'only in PostgreSQL: {"ActorID":"1","FirstName":"Penelope","LastName":"GUINESS","FilmCount":"2"}',
    );
    expect(verify.stdout + verify.stderr).toContain('table FilmActor: verified');

    // The rules are the run's: every job read them from my2pg.runs.options.
    const options = await pgRows(`SELECT options->'naming' AS naming, options->'ranges' AS ranges FROM my2pg.runs`);
    expect(options[0]!.ranges).toMatchObject({ Actor: expect.any(Number), Film: expect.any(Number) });
    expect((options[0]!.ranges as Record<string, number>).Actor).toBeGreaterThan(1);
    expect(options[0]!.naming).toEqual({
      case: 'snake',
      tables: { FilmActor: 'cast_members' },
      columns: { Actor: { FirstName: 'given_name' }, FilmActor: { ActorID: 'performer_id' } },
    });
    // Status and report keep the source names.
    const tables = await pgRows(`SELECT table_name, target_table FROM my2pg.run_tables ORDER BY 1`);
    expect(tables).toEqual([
      { table_name: 'Actor', target_table: 'actor' },
      { table_name: 'Film', target_table: 'film' },
      { table_name: 'FilmActor', target_table: 'cast_members' },
    ]);
  });

  it('lower case on one table, into another schema', async () => {
    await pgRows('CREATE SCHEMA low');
    const config = migrationFile('lower', { schema: 'low', identifierCase: 'lower', tables: { include: ['Film'] } });
    const result = await sandbox.cli(['run', '--config', config]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    await expectSidesEqual(sandbox, {
      table: 'Film',
      schema: 'low',
      targetTable: 'film',
      key: ['FilmID'],
      columns: FILM,
      targetColumns: FILM.map((c) => c.toLowerCase()),
    });
    const next = await pgRows(`INSERT INTO low.film (title, length) VALUES ('Lower', 1) RETURNING filmid`);
    expect(next[0]!.filmid).toBe(4);
  });

  it('an existing target table is filled through the same rules: the renamed column, the snake one', async () => {
    await pgRows('CREATE SCHEMA fill');
    await pgRows(
      'CREATE TABLE fill.actor (actor_id integer PRIMARY KEY, given_name text NOT NULL, last_name text NOT NULL, last_update timestamptz NOT NULL)',
    );
    const config = migrationFile('fill', {
      schema: 'fill',
      identifierCase: 'snake',
      tables: { include: ['Actor'] },
      rename: { columns: { Actor: { FirstName: 'given_name' } } },
    });
    const result = await sandbox.cli(['run', '--config', config]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const action = await pgRows(
      `SELECT t.action FROM my2pg.run_tables t JOIN my2pg.runs r ON r.id = t.run_id WHERE r.target_schema = 'fill'`,
    );
    expect(action).toEqual([{ action: 'fill' }]);
    await expectSidesEqual(sandbox, {
      table: 'Actor',
      schema: 'fill',
      targetTable: 'actor',
      key: ['ActorID'],
      columns: ['ActorID', 'FirstName', 'LastName'],
      targetColumns: ['actor_id', 'given_name', 'last_name'],
    });

    // A created table's foreign key to an existing table names the column the copy filled there
    // (its own spelling, found after the snake name), not the snake name.
    await pgRows('CREATE SCHEMA fill_fk');
    await pgRows(
      'CREATE TABLE fill_fk.actor ("ActorID" integer PRIMARY KEY, given_name text NOT NULL, last_name text NOT NULL, last_update timestamptz NOT NULL)',
    );
    const fk = await sandbox.cli([
      'run',
      '--config',
      migrationFile('fill_fk', {
        schema: 'fill_fk',
        identifierCase: 'snake',
        tables: { include: ['Actor', 'Film', 'FilmActor'] },
        rename: { columns: { Actor: { FirstName: 'given_name' } } },
      }),
    ]);
    expect(fk.code, fk.stdout + fk.stderr).toBe(0);
    const fkDefs = await pgRows(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'fill_fk'::regnamespace AND contype = 'f' ORDER BY conname`,
    );
    expect(fkDefs.map((r) => r.def)).toEqual([
      'FOREIGN KEY (actor_id) REFERENCES fill_fk.actor("ActorID") ON UPDATE RESTRICT ON DELETE RESTRICT',
      'FOREIGN KEY (film_id) REFERENCES fill_fk.film(film_id) ON UPDATE RESTRICT ON DELETE RESTRICT',
    ]);
    await expectSidesEqual(sandbox, {
      table: 'FilmActor',
      schema: 'fill_fk',
      targetTable: 'film_actor',
      key: ['ActorID', 'FilmID'],
      columns: ['ActorID', 'FilmID'],
      targetColumns: ['actor_id', 'film_id'],
    });

    // A renamed column is only ever the one its rename names: a table without it is not filled by the source name.
    await pgRows('CREATE SCHEMA fill_old');
    await pgRows(
      'CREATE TABLE fill_old.actor (actor_id integer PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL, last_update timestamptz NOT NULL)',
    );
    const refused = await sandbox.cli([
      'run',
      '--config',
      migrationFile('fill_old', {
        schema: 'fill_old',
        identifierCase: 'snake',
        tables: { include: ['Actor'] },
        rename: { columns: { Actor: { FirstName: 'given_name' } } },
      }),
    ]);
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    expect(refused.stdout + refused.stderr).toContain(
      'the target table "actor" has no column "given_name" (source column "FirstName")',
    );
    expect(await pgRows('SELECT count(*)::int AS n FROM fill_old.actor')).toEqual([{ n: 0 }]);

    // A row PostgreSQL refuses is recorded under the source's column name, not the target's.
    await pgRows('CREATE SCHEMA fill_narrow');
    await pgRows(
      'CREATE TABLE fill_narrow.actor (actor_id integer PRIMARY KEY, given_name varchar(7) NOT NULL, last_name text NOT NULL, last_update timestamptz NOT NULL)',
    );
    const narrow = await sandbox.cli([
      'run',
      '--config',
      migrationFile('fill_narrow', {
        schema: 'fill_narrow',
        identifierCase: 'snake',
        tables: { include: ['Actor'] },
        rename: { columns: { Actor: { FirstName: 'given_name' } } },
      }),
    ]);
    expect(narrow.code, narrow.stdout + narrow.stderr).toBe(1);
    const rejected = await pgRows(
      `SELECT r.table_name, r.column_name, r.row->>'FirstName' AS first FROM my2pg.rejected_rows r JOIN my2pg.runs u ON u.id = r.run_id WHERE u.target_schema = 'fill_narrow'`,
    );
    expect(rejected).toEqual([{ table_name: 'Actor', column_name: 'FirstName', first: 'Penelope' }]);
  });
});
