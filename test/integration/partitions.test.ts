/**
 * Partitioned MySQL tables with data: RANGE, RANGE COLUMNS, LIST (NULL in a list), LIST
 * COLUMNS, HASH and KEY become PostgreSQL declarative partitioning with the same bounds; an
 * expression key and subpartitions fall back to a plain table with the reason in plan and
 * report; `--partitions flatten` gives plain tables. Every value is compared on both sides,
 * and each row is checked to sit in the partition its MySQL bounds name. A partitioned target
 * table that exists already keeps its foreign key through the run (PostgreSQL 15 takes no NOT
 * VALID foreign key on a partitioned table).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { compareCanonical } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

let sandbox: Sandbox;

const SOURCE = `
  CREATE TABLE sales (id INT NOT NULL AUTO_INCREMENT, amount DECIMAL(8,2) NOT NULL, note VARCHAR(20),
      PRIMARY KEY (id), KEY sales_amount (amount))
    PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (100),
      PARTITION pmax VALUES LESS THAN MAXVALUE);
  INSERT INTO sales (id, amount, note) VALUES (1, 1.50, 'a'), (9, 2.00, NULL), (10, 3.25, 'b'), (99, 4.00, 'c'),
    (100, 5.00, 'd'), (123456, 6.75, 'e');
  CREATE TABLE visits (day DATE NOT NULL, site VARCHAR(10) NOT NULL, hits INT NOT NULL, PRIMARY KEY (day, site),
      UNIQUE KEY visits_site_day (site, day))
    PARTITION BY RANGE COLUMNS (day, site) (PARTITION old VALUES LESS THAN ('2020-01-01', 'm'),
      PARTITION cur VALUES LESS THAN (MAXVALUE, MAXVALUE));
  INSERT INTO visits VALUES ('2019-05-01', 'a', 1), ('2020-01-01', 'a', 2), ('2020-01-01', 'z', 3), ('2031-12-31', 'q', 4);
  CREATE TABLE stores (id INT NOT NULL, region INT, name VARCHAR(20) NOT NULL)
    PARTITION BY LIST (region) (PARTITION east VALUES IN (1, 2, NULL), PARTITION west VALUES IN (3, 4));
  INSERT INTO stores VALUES (1, 1, 'one'), (2, NULL, 'none'), (3, 3, 'three'), (4, 4, 'four'), (5, 2, 'two');
  CREATE TABLE langs (id INT NOT NULL, code CHAR(5) NOT NULL)
    PARTITION BY LIST COLUMNS (code) (PARTITION latin VALUES IN ('en', 'fr', 'it''s'), PARTITION other VALUES IN ('ru', 'zh'));
  INSERT INTO langs VALUES (1, 'en'), (2, 'it''s'), (3, 'ru'), (4, 'zh');
  CREATE TABLE tokens (id BIGINT NOT NULL PRIMARY KEY, token VARCHAR(40) NOT NULL) PARTITION BY HASH (id) PARTITIONS 4;
  CREATE TABLE sessions (id INT NOT NULL PRIMARY KEY, data TEXT) PARTITION BY KEY () PARTITIONS 3;
  CREATE TABLE yearly (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at))
    PARTITION BY RANGE (YEAR(at)) (PARTITION y2019 VALUES LESS THAN (2020), PARTITION ymax VALUES LESS THAN MAXVALUE);
  INSERT INTO yearly VALUES (1, '2019-03-01'), (2, '2024-03-01');
  CREATE TABLE subbed (id INT NOT NULL, at DATE NOT NULL)
    PARTITION BY RANGE (YEAR(at)) SUBPARTITION BY HASH (id) SUBPARTITIONS 2
    (PARTITION s2019 VALUES LESS THAN (2020), PARTITION smax VALUES LESS THAN MAXVALUE);
  INSERT INTO subbed VALUES (1, '2019-03-01'), (2, '2024-03-01');
  CREATE TABLE kinds (id INT NOT NULL PRIMARY KEY, name VARCHAR(10) NOT NULL);
  INSERT INTO kinds VALUES (1, 'click'), (2, 'view');
  CREATE TABLE events (id INT NOT NULL PRIMARY KEY, kind_id INT NOT NULL);
  INSERT INTO events VALUES (1, 1), (2, 2), (3, 1), (1001, 2);`;

/** Each partition of a partitioned target table with its bound, as PostgreSQL prints them. */
async function partitionsOf(schema: string, table: string): Promise<Record<string, string>> {
  const pgc = await sandbox.pg();
  try {
    const { rows } = await pgc.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
         FROM pg_partition_tree(to_regclass($1)) t JOIN pg_class c ON c.oid = t.relid WHERE t.isleaf AND t.level = 1
        ORDER BY 1`,
      [`"${schema}"."${table}"`],
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.bound]));
  } finally {
    await pgc.end();
  }
}

/** Rows per partition (the partition PostgreSQL routed each row to). */
async function rowsPerPartition(schema: string, table: string, key: string): Promise<Record<string, string[]>> {
  const pgc = await sandbox.pg();
  try {
    const { rows } = await pgc.query<{ part: string; k: string }>(
      `SELECT tableoid::regclass::text AS part, ${key}::text AS k FROM "${schema}"."${table}" ORDER BY 1, 2`,
    );
    const out: Record<string, string[]> = {};
    for (const r of rows) {
      const part = r.part.replace(/^.*\./, '').replace(/"/g, '');
      out[part] = [...(out[part] ?? []), r.k];
    }
    return out;
  } finally {
    await pgc.end();
  }
}

beforeAll(async () => {
  sandbox = await createSandbox('partitions');
  const my = await sandbox.mysql();
  const tokens = Array.from({ length: 200 }, (_v, i) => `(${i * 7919 + 1}, 'tok-${i}')`).join(', ');
  const sessions = Array.from({ length: 50 }, (_v, i) => `(${i + 1}, REPEAT('s', ${i}))`).join(', ');
  await my.query(
    `${SOURCE} INSERT INTO tokens VALUES ${tokens}; INSERT INTO sessions VALUES ${sessions}; ALTER TABLE sales AUTO_INCREMENT = 200000;`,
  );
  await my.end();
  // An existing partitioned target table with a foreign key: the run fills it and restores the key.
  const pgc = await sandbox.pg();
  await pgc.query(`
    CREATE TABLE kinds (id integer PRIMARY KEY, name varchar(10) NOT NULL);
    CREATE TABLE events (id integer NOT NULL, kind_id integer NOT NULL REFERENCES kinds (id), PRIMARY KEY (id)) PARTITION BY RANGE (id);
    CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (MINVALUE) TO (1000);
    CREATE TABLE events_high PARTITION OF events FOR VALUES FROM (1000) TO (MAXVALUE);
    CREATE SCHEMA flat;`);
  await pgc.end();
}, 120_000);

afterAll(async () => {
  await sandbox?.dispose();
});

describe('partitioned tables', () => {
  test('plan shows each partition with its bounds, and the plain tables with their reason', async () => {
    const plan = await sandbox.cli(['plan']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      'CREATE TABLE "public"."sales_pmax" PARTITION OF "public"."sales" FOR VALUES FROM (100) TO (MAXVALUE)',
    );
    expect(plan.stdout).toContain('PARTITION BY HASH ("id")');
    expect(plan.stderr + plan.stdout).toMatch(
      /yearly: partitioned by RANGE \(year\(`at`\)\), 2 partitions; a plain table: its partition key year\(`at`\) is an expression/,
    );
    expect(plan.stderr + plan.stdout).toMatch(/subbed: .*a plain table: it has subpartitions/);
    const json = JSON.parse((await sandbox.cli(['plan', '--json', '--quick'])).stdout) as {
      tables: { source: string; partitioning?: string }[];
    };
    const partitioning = Object.fromEntries(json.tables.map((t) => [t.source, t.partitioning ?? null]));
    expect(partitioning).toMatchObject({
      sales: 'table sales: partitioned by RANGE (`id`), 3 partitions → PARTITION BY RANGE with the same bounds',
      tokens:
        'table tokens: partitioned by HASH (`id`), 4 partitions → PARTITION BY HASH with the same number of partitions',
      kinds: null,
      events: null,
    });
    expect(partitioning.yearly).toMatch(/a plain table: its partition key year\(`at`\) is an expression/);
  });

  test('run exits 0, every value equal, each partition with the same bounds and the rows MySQL would put there', async () => {
    const run = await sandbox.cli(['run', '--concurrency', '2'], {}, 180_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'translated: table sales: partitioned by RANGE (`id`), 3 partitions → PARTITION BY RANGE with the same bounds',
    );
    expect(run.stdout).toMatch(/translated: table yearly: partitioned by RANGE \(year\(`at`\)\).*a plain table/);
    const { differences, tables } = await compareCanonical(sandbox);
    expect(differences).toEqual([]);
    expect(tables).toBe(10);

    expect(await partitionsOf('public', 'sales')).toEqual({
      sales_p0: 'FOR VALUES FROM (MINVALUE) TO (10)',
      sales_p1: 'FOR VALUES FROM (10) TO (100)',
      sales_pmax: 'FOR VALUES FROM (100) TO (MAXVALUE)',
    });
    expect(await rowsPerPartition('public', 'sales', 'id')).toEqual({
      sales_p0: ['1', '9'],
      sales_p1: ['10', '99'],
      sales_pmax: ['100', '123456'],
    });
    expect(await partitionsOf('public', 'visits')).toEqual({
      visits_old: "FOR VALUES FROM (MINVALUE, MINVALUE) TO ('2020-01-01', 'm')",
      visits_cur: "FOR VALUES FROM ('2020-01-01', 'm') TO (MAXVALUE, MAXVALUE)",
    });
    expect(await rowsPerPartition('public', 'visits', "day || '/' || site")).toEqual({
      visits_cur: ['2020-01-01/z', '2031-12-31/q'],
      visits_old: ['2019-05-01/a', '2020-01-01/a'],
    });
    expect(await partitionsOf('public', 'stores')).toEqual({
      stores_east: 'FOR VALUES IN (NULL, 1, 2)',
      stores_west: 'FOR VALUES IN (3, 4)',
    });
    expect(await rowsPerPartition('public', 'stores', 'id')).toEqual({
      stores_east: ['1', '2', '5'],
      stores_west: ['3', '4'],
    });
    expect(await partitionsOf('public', 'langs')).toEqual({
      langs_latin: "FOR VALUES IN ('en', 'fr', 'it''s')",
      langs_other: "FOR VALUES IN ('ru', 'zh')",
    });
    expect(await partitionsOf('public', 'tokens')).toEqual(
      Object.fromEntries([0, 1, 2, 3].map((i) => [`tokens_p${i}`, `FOR VALUES WITH (modulus 4, remainder ${i})`])),
    );
    expect(await partitionsOf('public', 'sessions')).toEqual(
      Object.fromEntries([0, 1, 2].map((i) => [`sessions_p${i}`, `FOR VALUES WITH (modulus 3, remainder ${i})`])),
    );
    expect(await partitionsOf('public', 'yearly')).toEqual({});
    expect(await partitionsOf('public', 'subbed')).toEqual({});

    const pgc = await sandbox.pg();
    try {
      // Indexes and keys restored on the partitioned parents (and so on every partition).
      const indexes = await pgc.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
          WHERE t.relname IN ('sales', 'visits') AND t.relkind = 'p' ORDER BY 1`,
      );
      expect(indexes.rows.map((r) => r.name)).toEqual([
        'sales_pkey',
        'sales_sales_amount',
        'visits_pkey',
        'visits_visits_site_day',
      ]);
      const fk = await pgc.query<{ validated: boolean }>(
        "SELECT convalidated AS validated FROM pg_constraint WHERE conrelid = 'public.events'::regclass AND contype = 'f'",
      );
      expect(fk.rows).toEqual([{ validated: true }]);
      // The identity continues where AUTO_INCREMENT left off, on a partitioned table too.
      const next = await pgc.query<{ id: number }>('INSERT INTO sales (amount) VALUES (1) RETURNING id');
      expect(next.rows[0]!.id).toBe(200000);
    } finally {
      await pgc.end();
    }
  });

  test('--partitions flatten gives plain tables with every value', async () => {
    const run = await sandbox.cli(['run', '--partitions', 'flatten', '--schema', 'flat', '--exclude', 'kinds,events']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'translated: table sales: partitioned by RANGE (`id`), 3 partitions; a plain table (--partitions flatten)',
    );
    const pgc = await sandbox.pg();
    try {
      const { rows } = await pgc.query<{ name: string; kind: string }>(
        "SELECT c.relname AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'flat' AND c.relkind IN ('r', 'p') ORDER BY 1",
      );
      expect(rows).toEqual(
        ['langs', 'sales', 'sessions', 'stores', 'subbed', 'tokens', 'visits', 'yearly'].map((name) => ({
          name,
          kind: 'r',
        })),
      );
    } finally {
      await pgc.end();
    }
    const { differences, tables } = await compareCanonical(sandbox, {
      schema: 'flat',
      only: ['langs', 'sales', 'sessions', 'stores', 'subbed', 'tokens', 'visits', 'yearly'],
    });
    expect(differences).toEqual([]);
    expect(tables).toBe(8);
  });
});
