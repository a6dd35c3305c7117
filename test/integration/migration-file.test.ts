import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual, type Databases } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

// One migration file, two MySQL databases, two PostgreSQL schemas: `run --config` plans, works
// and verifies each database's run into its own schema, creating the schemas it names.

let sandbox: Sandbox;
let dir: string;
let shopDb: string;
let blogDb: string;
const SHOP_SCHEMA = 'shop';
const BLOG_SCHEMA = 'blog_archive';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The sides of one source database and the sandbox's PostgreSQL database. */
function sidesOf(database: string): Databases {
  return {
    mysql: () =>
      mysql.createConnection({
        uri: withDatabase(sandbox.mysqlServerUrl, database),
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        charset: 'utf8mb4',
      }),
    pg: () => sandbox.pg(),
  };
}

/** Writes a migration file into the test's directory; returns its path. */
function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** The head of a file for both databases: source server without a database, target by variable. */
function head(): string[] {
  const server = new URL(sandbox.mysqlServerUrl);
  server.pathname = '/';
  return [
    `source: ${server.toString()}`,
    'target: ${MY2PG_TEST_TARGET}',
    `databases: {${shopDb}: ${SHOP_SCHEMA}, ${blogDb}: ${BLOG_SCHEMA}}`,
  ];
}

async function pgState(): Promise<{ relations: number; schemas: string[] }> {
  const client = await sandbox.pg();
  try {
    const relations = await client.query(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`,
    );
    const schemas = await client.query(
      `SELECT nspname FROM pg_namespace WHERE nspname IN ('my2pg', $1, $2) ORDER BY 1`,
      [SHOP_SCHEMA, BLOG_SCHEMA],
    );
    return { relations: relations.rows[0].n as number, schemas: schemas.rows.map((r) => r.nspname as string) };
  } finally {
    await client.end();
  }
}

describe('the migration file: several databases into their schemas', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('file');
    dir = mkdtempSync(join(tmpdir(), 'my2pg-file-it-'));
    shopDb = `${sandbox.name}_shop`;
    blogDb = `${sandbox.name}_blog`;
    const admin = await mysql.createConnection({ uri: sandbox.mysqlServerUrl, multipleStatements: true });
    await admin.query(
      `CREATE DATABASE \`${shopDb}\` CHARACTER SET utf8mb4; CREATE DATABASE \`${blogDb}\` CHARACTER SET utf8mb4`,
    );
    await admin.query(`
      USE \`${shopDb}\`;
      CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, bio TEXT NULL);
      INSERT INTO customers VALUES (1, 'Ann', 'likes tea'), (2, 'Bob', NULL), (3, 'Chloé', 'ünïcode ✓');
      CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL, paid TINYINT(1) NOT NULL);
      INSERT INTO orders VALUES (10, 1, 12.50, 1), (11, 3, 0.99, 0), (12, 1, 99999999.99, 1);
      CREATE TABLE cache_tmp (id INT PRIMARY KEY);
      USE \`${blogDb}\`;
      CREATE TABLE wp_posts (id INT PRIMARY KEY, title VARCHAR(100) NOT NULL, published TINYINT(1) NOT NULL);
      INSERT INTO wp_posts VALUES (1, 'Hello', 1), (2, 'Draft', 0);
      CREATE TABLE wp_users (id INT PRIMARY KEY, login VARCHAR(40) NOT NULL);
      INSERT INTO wp_users VALUES (1, 'admin'), (2, 'ed');
      CREATE TABLE other_stuff (id INT PRIMARY KEY);
      CREATE VIEW v_published AS SELECT id, title FROM wp_posts WHERE published = 1;
      CREATE VIEW kept_titles AS SELECT id, title FROM wp_posts;
    `);
    await admin.end();
  });
  afterAll(async () => {
    if (shopDb) {
      const admin = await mysql.createConnection({ uri: sandbox.mysqlServerUrl });
      await admin.query(`DROP DATABASE IF EXISTS \`${shopDb}\``);
      await admin.query(`DROP DATABASE IF EXISTS \`${blogDb}\``);
      await admin.end();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await sandbox?.dispose();
  });

  const env = (): NodeJS.ProcessEnv => ({ MY2PG_TEST_TARGET: sandbox.databaseUrl });

  it.each([
    [
      'an unknown key',
      (): string[] => [...head(), 'tables:', `  inclde: [${blogDb}.wp_posts]`],
      /migration file .*bad\.yaml: tables: unknown key "inclde" \(known: include, exclude\)/,
    ],
    [
      'a wrong type',
      (): string[] => [...head(), 'batchSize: many'],
      /migration file .*bad\.yaml: batchSize: .*expected number/,
    ],
    [
      'an unknown table in tables.include',
      (): string[] => [...head(), 'tables:', `  include: [${shopDb}.customers, ${shopDb}.nope, '${blogDb}.wp_*']`],
      new RegExp(`database ${'\\w+'}: unknown table in the MySQL source: tables.include \\(database \\w+\\) nope`),
    ],
    [
      'an include glob that matches nothing',
      (): string[] => [...head(), 'tables:', `  include: ['${blogDb}.zz_*']`],
      /tables.include \(database \w+\) zz_\* \(matches nothing\)/,
    ],
    [
      'an unknown columnTypes table',
      (): string[] => [...head(), 'columnTypes:', `  ${shopDb}.nope.bio: text`],
      /columnTypes\.\w+\.nope\.bio: the MySQL source has no such table\.column/,
    ],
    [
      'a database the server does not have',
      (): string[] => [
        ...head().slice(0, 2),
        `databases: {${shopDb}: ${SHOP_SCHEMA}, no_such_db_${sandbox.name}: other}`,
      ],
      /databases\.no_such_db_\w+: the MySQL server has no database/,
    ],
  ])(
    'a file with %s is exit 2 naming its path, and nothing is created in PostgreSQL',
    async (_what, lines, expected) => {
      const result = await sandbox.cli(['run', '--config', file('bad.yaml', lines())], env());
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(expected);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(await pgState()).toEqual({ relations: 0, schemas: [] });
    },
  );

  it('run --config migrates each database into its schema, creating it; a flag wins over the file', async () => {
    const path = file('my2pg.yaml', [
      ...head(),
      'tables:',
      `  include: [${shopDb}.customers, ${shopDb}.orders, '${blogDb}.wp_*']`,
      'types:',
      '  varchar(40): text',
      'columnTypes:',
      `  ${shopDb}.customers.bio: varchar(500)`,
      // Unqualified: every database; a glob that matches no view of shop is fine.
      'views:',
      "  exclude: ['v_*']",
      'verify: checksum',
      'batchSize: 2',
    ]);
    // --verify count wins over the file's checksum.
    const result = await sandbox.cli(['run', '--config', path, '--verify', 'count'], env());
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain(`schema ${SHOP_SCHEMA} created in the target`);
    expect(result.stderr).toContain(`schema ${BLOG_SCHEMA} created in the target`);
    expect(result.stdout + result.stderr).toMatch(/not migrated: view v_published \(excluded/);

    expect(
      await expectSidesEqual(sidesOf(shopDb), [
        { table: 'customers', columns: ['id', 'name', 'bio'], schema: SHOP_SCHEMA },
        { table: 'orders', columns: ['id', 'customer_id', 'total', 'paid'], booleans: ['paid'], schema: SHOP_SCHEMA },
      ]),
    ).toEqual({ customers: 3, orders: 3 });
    expect(
      await expectSidesEqual(sidesOf(blogDb), [
        { table: 'wp_posts', columns: ['id', 'title', 'published'], booleans: ['published'], schema: BLOG_SCHEMA },
        { table: 'wp_users', columns: ['id', 'login'], schema: BLOG_SCHEMA },
      ]),
    ).toEqual({ wp_posts: 2, wp_users: 2 });

    const client = await sandbox.pg();
    try {
      const tables = await client.query(
        `SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ($1, $2) AND table_type = 'BASE TABLE' ORDER BY 1`,
        [SHOP_SCHEMA, BLOG_SCHEMA],
      );
      // The glob took both wp_ tables and nothing else; cache_tmp and other_stuff stayed behind.
      expect(tables.rows.map((r) => r.t)).toEqual([
        `${BLOG_SCHEMA}.wp_posts`,
        `${BLOG_SCHEMA}.wp_users`,
        `${SHOP_SCHEMA}.customers`,
        `${SHOP_SCHEMA}.orders`,
      ]);
      const types = await client.query(
        `SELECT table_schema || '.' || table_name || '.' || column_name AS c, format_type(a.atttypid, a.atttypmod) AS type
           FROM information_schema.columns ic JOIN pg_attribute a ON a.attrelid = (quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass AND a.attname = ic.column_name
          WHERE table_schema IN ($1, $2) AND table_name LIKE ANY (ARRAY['wp\\_%', 'customers']) AND column_name IN ('bio', 'name', 'login', 'title') ORDER BY 1`,
        [SHOP_SCHEMA, BLOG_SCHEMA],
      );
      expect(Object.fromEntries(types.rows.map((r) => [r.c, r.type]))).toEqual({
        // types: varchar(40) → text, in both databases; columnTypes: one column of one database.
        [`${BLOG_SCHEMA}.wp_posts.title`]: 'character varying(100)',
        [`${BLOG_SCHEMA}.wp_users.login`]: 'text',
        [`${SHOP_SCHEMA}.customers.bio`]: 'character varying(500)',
        [`${SHOP_SCHEMA}.customers.name`]: 'text',
      });
      const runs = await client.query(
        `SELECT target_schema, source_database, status, options->>'verify' AS verify, options->>'batchSize' AS batch, options->'queues'->>'copy' AS queue FROM my2pg.runs ORDER BY target_schema`,
      );
      expect(runs.rows.map((r) => [r.target_schema, r.source_database, r.status, r.verify, r.batch])).toEqual([
        [BLOG_SCHEMA, blogDb, 'verified', 'count', '2'],
        [SHOP_SCHEMA, shopDb, 'verified', 'count', '2'],
      ]);
      // Separate targets: each schema has queues of its own.
      expect(runs.rows[0].queue).not.toBe(runs.rows[1].queue);
      // views.exclude took v_published by its glob; the other view was created.
      const views = await client.query(
        `SELECT table_name FROM information_schema.views WHERE table_schema = $1 ORDER BY 1`,
        [BLOG_SCHEMA],
      );
      expect(views.rows.map((r) => r.table_name)).toEqual(['kept_titles']);
    } finally {
      await client.end();
    }

    // The other commands read the target from the file; with databases, --schema picks one.
    const ambiguous = await sandbox.cli(['status', '--config', path], env());
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toMatch(/lists several databases .*: pass --schema SCHEMA or a run id to pick one/);
    const status = await sandbox.cli(['status', '--config', path, '--schema', BLOG_SCHEMA, '--json'], {
      ...env(),
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/nowhere',
    });
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as {
      run: { targetSchema: string; status: string };
      tables: { table: string }[];
    };
    expect(report.run).toMatchObject({ targetSchema: BLOG_SCHEMA, status: 'verified' });
    expect(report.tables.map((t) => t.table).sort()).toEqual(['wp_posts', 'wp_users']);
    // verify opens the run's own source database.
    const verify = await sandbox.cli(['verify', '--config', path, '--schema', SHOP_SCHEMA], env());
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it('start --config enqueues one run per database and prints every run id; a run id or --schema picks one for the other commands', async () => {
    const path = join(dir, 'my2pg.yaml');
    const result = await sandbox.cli(['start', '--config', path], env());
    expect(result.code, result.stderr).toBe(0);
    const ids = result.stdout.trim().split('\n');
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^run-/);
    // No worker runs: the jobs wait. A run id needs no --schema.
    const status = await sandbox.cli(['status', '--config', path, ids[1]!, '--json'], env());
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { run: { targetSchema: string; status: string } }).run).toMatchObject({
      targetSchema: BLOG_SCHEMA,
      status: 'running',
    });
    for (const schema of [SHOP_SCHEMA, BLOG_SCHEMA]) {
      const cancel = await sandbox.cli(['cancel', '--config', path, '--schema', schema, '--yes'], env());
      expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0);
    }
    const client = await sandbox.pg();
    try {
      const runs = await client.query(
        `SELECT id, target_schema, status FROM my2pg.runs WHERE id = ANY($1) ORDER BY target_schema`,
        [ids],
      );
      expect(runs.rows.map((r) => [r.target_schema, r.status])).toEqual([
        [BLOG_SCHEMA, 'cancelled'],
        [SHOP_SCHEMA, 'cancelled'],
      ]);
    } finally {
      await client.end();
    }
  });
});
