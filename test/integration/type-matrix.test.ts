import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCanonical, expectSidesEqual } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/types/mysql.sql', import.meta.url));

let sandbox: Sandbox;
let firstRun: { code: number | null; stdout: string; stderr: string };

describe('the type matrix migrated into an empty target', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('types');
    const my = await sandbox.mysql();
    await my.query({ sql: readFileSync(FIXTURE, 'utf8') });
    await my.end();
    firstRun = await sandbox.cli(['run', '--concurrency', '2'], {}, 180_000);
  }, 240_000);
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('run exits 0, verified, listing what it adjusted and what it does not migrate', () => {
    const all = firstRun.stdout + firstRun.stderr;
    expect(firstRun.code, all).toBe(0);
    expect(all).toContain('every table copied and verified');
    // Views and stored code are translated by finalize (docs/stored-code.md).
    expect(firstRun.stdout).toContain('views created and verified: v_tree');
    expect(firstRun.stdout).toContain('triggers created: tree.tree_bi');
    expect(firstRun.stdout).toContain('procedures created: p_noop');
    expect(firstRun.stdout).toContain('functions created: f_one');
    expect(firstRun.stderr).toMatch(
      /warning: defaults: default uuid\(\) of column u is an expression my2pg does not translate/,
    );
    expect(firstRun.stdout).toContain(
      'translated: table defaults: ON UPDATE CURRENT_TIMESTAMP of ts (0 digits) → BEFORE UPDATE trigger my2pg_on_update_current_timestamp',
    );
    expect(firstRun.stderr).toContain('warning: dates: column d_nn is NOT NULL in MySQL but holds zero dates');
    expect(firstRun.stdout).toContain('table dates, column d_nn: 2 zero dates written as NULL');
    expect(firstRun.stdout).toContain('table dates, column dt6: 2 zero dates written as NULL');
    expect(firstRun.stdout).toContain('table dates, column ts: 1 zero dates written as NULL');
    // Without PostGIS, gs lands as bytea (WKB): its two SRID 4326 values are reported, not dropped silently.
    expect(firstRun.stdout).toContain('table geo, column gs: the SRID of 2 geometry values not kept');
  });

  it('every value of every table compares equal, read from each side independently', async () => {
    const { tables, values, differences } = await compareCanonical(sandbox);
    expect(differences).toEqual([]);
    expect(tables).toBe(18);
    expect(values).toBeGreaterThan(300);
  });

  it('the comparison finds a single changed float bit or microsecond (it can fail)', async () => {
    const pgc = await sandbox.pg();
    try {
      await pgc.query('BEGIN');
      // The next float above 0.1f, and one microsecond later: the smallest changes each type allows.
      await pgc.query(`UPDATE nums SET f = '0.10000001'::real WHERE id = 6`);
      await pgc.query(`UPDATE dates SET dt6 = dt6 + interval '1 microsecond' WHERE id = 5`);
      await pgc.query('COMMIT');
      const { differences } = await compareCanonical(sandbox, { only: ['nums', 'dates'] });
      expect(differences.filter((d) => d.startsWith('nums: source row')).length).toBe(1);
      expect(differences.filter((d) => d.startsWith('dates: target row')).length).toBe(1);
      expect(differences).toHaveLength(4);
    } finally {
      await pgc.query(`UPDATE nums SET f = '0.1'::real WHERE id = 6`);
      await pgc.query(`UPDATE dates SET dt6 = dt6 - interval '1 microsecond' WHERE id = 5`);
      await pgc.end();
    }
    expect((await compareCanonical(sandbox, { only: ['nums', 'dates'] })).differences).toEqual([]);
  });

  it('exact values land as they were: spot checks beside the generic comparison', async () => {
    const pgc = await sandbox.pg();
    try {
      const r = await pgc.query(`SELECT biu::text, bi::text FROM ints WHERE id = 2`);
      expect(r.rows[0]).toEqual({ biu: '18446744073709551615', bi: '9223372036854775807' });
      const f = await pgc.query(`SELECT f::float8::text AS f, db::text AS db FROM nums WHERE id = 1`);
      expect(f.rows[0]).toEqual({ f: '3.4028234663852886e+38', db: '1.7976931348623157e+308' });
      const t = await pgc.query(
        `SELECT tm::text AS tm, tm6::text AS tm6, to_char(dt6, 'YYYY-MM-DD HH24:MI:SS.US') AS dt6, ts6::text AS ts6 FROM dates WHERE id IN (1, 2) ORDER BY id`,
      );
      expect(t.rows).toEqual([
        { tm: '-838:59:59', tm6: '-838:59:59', dt6: '1000-01-01 00:00:00.000000', ts6: '1970-01-01 00:00:01+00' },
        { tm: '838:59:59', tm6: '838:59:59', dt6: '9999-12-31 23:59:59.999999', ts6: '2038-01-19 03:14:07.999999+00' },
      ]);
      const latin = await pgc.query(`SELECT v, c FROM latin WHERE id = 1`);
      expect(latin.rows[0]).toEqual({ v: '€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž', c: '€uro' });
      const json = await pgc.query(`SELECT j->>'big' AS big, j->>'u' AS u FROM texts WHERE id IN (1, 2) ORDER BY id`);
      expect(json.rows[0].big).toBe('123456789012345678901234567890');
      expect(json.rows[1].u).toBe('é😀 "esc"');
      const blob = await pgc.query(
        `SELECT id, octet_length(lb) AS n, octet_length(vb) AS vn, CASE WHEN id = 1 THEN encode(vb, 'hex') END AS hex FROM bins WHERE id IN (1, 2) ORDER BY id`,
      );
      expect(blob.rows).toEqual([
        { id: 1, n: 256, vn: 256, hex: Buffer.from(Array.from({ length: 256 }, (_v, i) => i)).toString('hex') },
        { id: 2, n: 5242880, vn: 0, hex: null },
      ]);
    } finally {
      await pgc.end();
    }
  });

  it('the created schema follows the mapping table: types, NOT NULL, defaults, keys, indexes, FKs, comments', async () => {
    const pgc = await sandbox.pg();
    try {
      const types = await pgc.query<{ k: string; t: string; n: boolean; d: string | null }>(
        `SELECT c.relname || '.' || a.attname AS k, format_type(a.atttypid, a.atttypmod) AS t, a.attnotnull AS n, pg_get_expr(d.adbin, d.adrelid) AS d
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace s ON s.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE s.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
      );
      const byKey = Object.fromEntries(types.rows.map((r) => [r.k, r.t]));
      expect({
        ti: byKey['ints.ti'],
        tiu: byKey['ints.tiu'],
        si: byKey['ints.si'],
        siu: byKey['ints.siu'],
        mi: byKey['ints.mi'],
        miu: byKey['ints.miu'],
        i: byKey['ints.i'],
        iu: byKey['ints.iu'],
        bi: byKey['ints.bi'],
        biu: byKey['ints.biu'],
        flag: byKey['ints.flag'],
        yr: byKey['ints.yr'],
        d65: byKey['nums.d65'],
        f: byKey['nums.f'],
        db: byKey['nums.db'],
        b1: byKey['bits.b1'],
        b8: byKey['bits.b8'],
        b64: byKey['bits.b64'],
        d: byKey['dates.d'],
        dt: byKey['dates.dt'],
        dt6: byKey['dates.dt6'],
        ts: byKey['dates.ts'],
        ts6: byKey['dates.ts6'],
        tm: byKey['dates.tm'],
        c: byKey['texts.c'],
        vc: byKey['texts.vc'],
        t: byKey['texts.t'],
        lt: byKey['texts.lt'],
        e: byKey['texts.e'],
        s: byKey['texts.s'],
        j: byKey['texts.j'],
        bn: byKey['bins.bn'],
        lb: byKey['bins.lb'],
        pt: byKey['geo.pt'],
        g: byKey['geo.g'],
        total: byKey['gen.total'],
        label: byKey['gen.label'],
      }).toEqual({
        ti: 'smallint',
        tiu: 'smallint',
        si: 'smallint',
        siu: 'integer',
        mi: 'integer',
        miu: 'integer',
        i: 'integer',
        iu: 'bigint',
        bi: 'bigint',
        biu: 'numeric(20,0)',
        flag: 'boolean',
        yr: 'smallint',
        d65: 'numeric(65,30)',
        f: 'real',
        db: 'double precision',
        b1: 'boolean',
        b8: 'bit varying(8)',
        b64: 'bit varying(64)',
        d: 'date',
        dt: 'timestamp without time zone',
        dt6: 'timestamp(6) without time zone',
        ts: 'timestamp with time zone',
        ts6: 'timestamp(6) with time zone',
        tm: 'interval',
        c: 'character varying(10)',
        vc: 'character varying(255)',
        t: 'text',
        lt: 'text',
        e: 'texts_e',
        s: 'text[]',
        j: 'jsonb',
        bn: 'bytea',
        lb: 'bytea',
        pt: 'point',
        g: 'bytea',
        total: 'numeric(20,2)',
        label: 'character varying(50)',
      });
      const rows = Object.fromEntries(types.rows.map((r) => [r.k, r]));
      expect(rows['dates.d_nn']?.n, 'd_nn holds zero dates: NOT NULL relaxed').toBe(false);
      expect(rows['dates.created']?.n).toBe(true);
      expect(rows['defaults.n']?.d).toBe('42');
      expect(rows['defaults.b']?.d).toBe('false');
      expect(rows['defaults.s']?.d).toBe(`'hello'::character varying`);
      expect(rows['defaults.ts']?.d).toBe('CURRENT_TIMESTAMP');
      expect(rows['defaults.u']?.d).toBeNull();
      expect(rows['texts.s']?.d).toBe(`'{x,y}'::text[]`);
      const labels = await pgc.query(
        `SELECT array_agg(enumlabel::text ORDER BY enumsortorder) AS l FROM pg_enum WHERE enumtypid = 'texts_e'::regtype`,
      );
      expect(labels.rows[0].l).toEqual(['', 'a', 'b c', "It's", 'ü']);
      const identity = await pgc.query(
        `SELECT attname FROM pg_attribute WHERE attrelid = '"we""ird ta\`ble; drop"'::regclass AND attidentity = 'd'`,
      );
      expect(identity.rows).toEqual([{ attname: 'sel ect' }]);
      const comment = await pgc.query(
        `SELECT col_description('"we""ird ta\`ble; drop"'::regclass, 2) AS c, obj_description('"we""ird ta\`ble; drop"'::regclass, 'pg_class') AS t`,
      );
      expect(comment.rows[0]).toEqual({ c: `it's "quoted"`, t: 'awkward names' });
      const keys = await pgc.query<{ t: string; def: string }>(
        `SELECT conrelid::regclass::text AS t, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype IN ('p', 'f') AND connamespace = 'public'::regnamespace ORDER BY 1, 2`,
      );
      expect(keys.rows).toEqual(
        expect.arrayContaining([
          { t: 'comp', def: 'PRIMARY KEY (a, b)' },
          { t: 'vkey', def: 'PRIMARY KEY (code)' },
          // MariaDB reports an unspecified ON UPDATE as RESTRICT.
          { t: 'cyc_a', def: 'FOREIGN KEY (b_id) REFERENCES cyc_b(id) ON UPDATE RESTRICT ON DELETE CASCADE' },
          { t: 'cyc_b', def: 'FOREIGN KEY (a_id) REFERENCES cyc_a(id) ON UPDATE CASCADE ON DELETE SET NULL' },
          { t: 'tree', def: 'FOREIGN KEY (parent_id) REFERENCES tree(id) ON UPDATE RESTRICT ON DELETE CASCADE' },
        ]),
      );
      expect(keys.rows.some((k) => k.t === 'nokey')).toBe(false);
      const indexes = await pgc.query(
        `SELECT indexdef FROM pg_indexes WHERE tablename = 'we"ird ta\`ble; drop' AND indexname NOT LIKE '%pkey' ORDER BY 1`,
      );
      expect(indexes.rows.map((r) => r.indexdef)).toEqual([
        `CREATE INDEX "we""ird ta\`ble; drop_ix order" ON public."we""ird ta\`ble; drop" USING btree ("order", "größe")`,
        `CREATE UNIQUE INDEX "we""ird ta\`ble; drop_uniq ""odd""" ON public."we""ird ta\`ble; drop" USING btree ("""quoted""")`,
      ]);
    } finally {
      await pgc.end();
    }
  });

  it("every sequence continues where MySQL's AUTO_INCREMENT left off", async () => {
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      const [rows] = await my.query(
        `SELECT t.TABLE_NAME AS tbl, c.COLUMN_NAME AS col, t.AUTO_INCREMENT AS next FROM information_schema.TABLES t
           JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.EXTRA LIKE '%auto_increment%'
          WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY 1`,
      );
      const expected = (rows as { tbl: string; col: string; next: string }[]).map((r) => [r.tbl, String(r.next)]);
      expect(expected).toContainEqual(['ints', '42']);
      expect(expected).toContainEqual(['empty_t', '500']);
      const actual: [string, string][] = [];
      for (const r of rows as { tbl: string; col: string }[]) {
        const qualified = `public."${r.tbl.replace(/"/g, '""')}"`;
        const next = await pgc.query(`SELECT nextval(pg_get_serial_sequence($1, $2))::text AS n`, [qualified, r.col]);
        actual.push([r.tbl, next.rows[0].n]);
      }
      expect(actual).toEqual(expected);
      expect(actual.length).toBe(14);
    } finally {
      await my.end();
      await pgc.end();
    }
  });

  it('--type, --column-type and --enum check change the created tables; the values still compare equal', async () => {
    const pgc = await sandbox.pg();
    await pgc.query('CREATE SCHEMA ov');
    await pgc.end();
    const result = await sandbox.cli(
      [
        'run',
        '--schema',
        'ov',
        '--tables',
        'ints,texts,bits',
        '--type',
        'TINYINT(1)=smallint',
        '--type',
        'int unsigned=numeric(10,0)',
        '--column-type',
        'texts.j=text',
        '--enum',
        'check',
      ],
      { MY2PG_TYPES: 'bit(1)=integer;bigint=numeric' },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const pg2 = await sandbox.pg();
    try {
      const types = await pg2.query<{ k: string; t: string }>(
        `SELECT table_name || '.' || column_name AS k, CASE WHEN data_type = 'numeric' THEN data_type || coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '') ELSE data_type END AS t
           FROM information_schema.columns WHERE table_schema = 'ov' AND (table_name, column_name) IN (('ints','flag'),('ints','iu'),('ints','i'),('ints','bi'),('texts','j'),('texts','e'),('bits','b1'))
          ORDER BY 1`,
      );
      expect(types.rows).toEqual([
        { k: 'bits.b1', t: 'integer' },
        { k: 'ints.bi', t: 'numeric' },
        { k: 'ints.flag', t: 'smallint' },
        { k: 'ints.i', t: 'integer' },
        { k: 'ints.iu', t: 'numeric(10,0)' },
        { k: 'texts.e', t: 'text' },
        { k: 'texts.j', t: 'text' },
      ]);
      const check = await pg2.query(
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'ov.texts'::regclass AND contype = 'c'`,
      );
      expect(check.rows[0]?.def).toContain(`'b c'::text`);
      await expect(pg2.query(`INSERT INTO ov.texts (vc, e) VALUES ('x', 'nope')`)).rejects.toThrow(/check constraint/);
    } finally {
      await pg2.end();
    }
    // texts.j is text now: MySQL's JSON text must land byte for byte.
    await expectSidesEqual(sandbox, { table: 'texts', columns: ['j'], schema: 'ov' });
    expect((await compareCanonical(sandbox, { schema: 'ov', only: ['ints', 'bits'] })).differences).toEqual([]);
  });

  it('bad overrides are exit 2 with a clear message, before anything is created', async () => {
    const cases: [string[], RegExp][] = [
      [['--type', 'tinyint(1)'], /--type "tinyint\(1\)" is not MYSQL_TYPE=POSTGRES_TYPE/],
      [['--type', 'int=text; DROP TABLE x'], /is not a PostgreSQL type name/],
      [['--column-type', 'nosuch.col=text'], /--column-type "nosuch.col": the MySQL source has no such table.column/],
      [['--type', 'int=no_such_type'], /unknown PostgreSQL type in --type\/--column-type: no_such_type/],
      [['--enum', 'maybe'], /argument 'maybe' is invalid/],
    ];
    for (const [args, message] of cases) {
      const result = await sandbox.cli(['start', '--schema', 'ov', ...args]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  // PostGIS is a package of the PostgreSQL server (postgresql-15-postgis-3 on Debian); without it this case cannot run.
  it('with PostGIS in the target, spatial columns become geometry with their SRID, values equal', async () => {
    const pgc = await sandbox.pg();
    const available = await pgc.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'`);
    if (available.rowCount === 0) {
      await pgc.end();
      throw new Error(
        'PostGIS is not installed on the test PostgreSQL server (apt-get install postgresql-15-postgis-3)',
      );
    }
    // In its own schema, off the search_path: my2pg must qualify the type.
    await pgc.query('CREATE SCHEMA "gis ext"; CREATE EXTENSION postgis SCHEMA "gis ext"; CREATE SCHEMA gis');
    await pgc.end();
    const result = await sandbox.cli(['run', '--schema', 'gis', '--tables', 'geo']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toContain('spatial column');
    const pg2 = await sandbox.pg();
    try {
      const types = await pg2.query(
        `SELECT attname, format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'gis.geo'::regclass AND attnum > 1 ORDER BY attnum`,
      );
      expect(types.rows).toEqual([
        { attname: 'pt', t: '"gis ext".geometry' },
        { attname: 'g', t: '"gis ext".geometry' },
        { attname: 'gs', t: '"gis ext".geometry' },
      ]);
      const srid = await pg2.query(
        `SELECT "gis ext".ST_SRID(gs) AS s, "gis ext".ST_AsText(gs) AS t FROM gis.geo WHERE id = 1`,
      );
      expect(srid.rows[0]).toEqual({ s: 4326, t: 'POINT(10.5 59.25)' });
    } finally {
      await pg2.end();
    }
    expect(
      (await compareCanonical(sandbox, { schema: 'gis', only: ['geo'], searchPath: 'public, "gis ext"' })).differences,
    ).toEqual([]);
  });
});
