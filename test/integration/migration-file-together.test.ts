import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual, type Databases } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

/**
 * Everything the migration file can change, at once: two source databases into two schemas,
 * `snake` case, a table and a column renamed, a `where`, and a column override. `plan` with the
 * file shows the names and counts the filtered rows; `run` with it ends verified, and every value
 * is compared under the new names.
 */
let sandbox: Sandbox;
let dir: string;
let shop: string;
let blog: string;

function sidesOf(database: string): Databases {
  const uri = new URL(sandbox.mysqlServerUrl);
  uri.pathname = `/${database}`;
  return {
    mysql: () =>
      mysql.createConnection({
        uri: uri.toString(),
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
        charset: 'utf8mb4',
      }),
    pg: () => sandbox.pg(),
  };
}

beforeAll(async () => {
  sandbox = await createSandbox('together');
  dir = mkdtempSync(join(tmpdir(), 'my2pg-together-'));
  shop = `${sandbox.name}_shop`;
  blog = `${sandbox.name}_blog`;
  const admin = await mysql.createConnection({ uri: sandbox.mysqlServerUrl, multipleStatements: true });
  await admin.query(`
    CREATE DATABASE \`${shop}\` CHARACTER SET utf8mb4; CREATE DATABASE \`${blog}\` CHARACTER SET utf8mb4;
    USE \`${shop}\`;
    CREATE TABLE Customers (CustomerID INT PRIMARY KEY AUTO_INCREMENT, FullName VARCHAR(60) NOT NULL, eMail VARCHAR(80) NULL, KEY ix_mail (eMail));
    INSERT INTO Customers (FullName, eMail) VALUES ('Ann O''Neil', 'ann@example.com'), ('Bob', NULL), ('Chloé 😀', 'c@example.com');
    CREATE TABLE OrderItems (
      OrderItemID BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT,
      CustomerID INT NOT NULL,
      UnitPrice DECIMAL(10,2) NOT NULL,
      createdAt DATETIME(6) NOT NULL,
      CONSTRAINT fk_customer FOREIGN KEY (CustomerID) REFERENCES Customers (CustomerID)
    );
    INSERT INTO OrderItems (CustomerID, UnitPrice, createdAt) VALUES
      (1, 10.50, '2023-12-31 23:59:59.999999'), (1, 20.00, '2024-01-01 00:00:00.000000'),
      (2, 0.99, '2024-06-15 12:30:00.123456'), (3, 99999999.99, '2025-02-28 08:00:00.5'), (3, 1.00, '2022-01-01 00:00:00');
    CREATE VIEW big_items AS SELECT OrderItemID, UnitPrice FROM OrderItems WHERE UnitPrice > 5;
    CREATE VIEW big_item_ids AS SELECT OrderItemID FROM big_items;
    USE \`${blog}\`;
    CREATE TABLE BlogPosts (PostID INT PRIMARY KEY, PostTitle VARCHAR(100) NOT NULL, Body MEDIUMTEXT NOT NULL, isDraft TINYINT(1) NOT NULL);
    INSERT INTO BlogPosts VALUES (1, 'Hello', 'first\\tpost', 0), (2, 'Draft', REPEAT('x', 70000), 1);
  `);
  await admin.end();
}, 120_000);

afterAll(async () => {
  const admin = await mysql.createConnection({ uri: sandbox.mysqlServerUrl, multipleStatements: true });
  await admin.query(`DROP DATABASE IF EXISTS \`${shop}\`; DROP DATABASE IF EXISTS \`${blog}\``);
  await admin.end();
  await sandbox?.dispose();
});

describe('one migration file with everything', () => {
  it('plans, runs and verifies two databases into two schemas under the new names', async () => {
    const server = new URL(sandbox.mysqlServerUrl);
    server.pathname = '/';
    const lines = [
      `source: ${server.toString()}`,
      'target: ${MY2PG_TOGETHER_TARGET}',
      `databases: {${shop}: shop, ${blog}: blog}`,
      'identifierCase: snake',
      'rename:',
      `  tables: {${shop}.Customers: clients}`,
      `  columns: {${shop}.Customers: {FullName: display_name}}`,
      'where:',
      `  ${shop}.OrderItems: "createdAt >= '2024-01-01'"`,
      'columnTypes:',
      `  ${blog}.BlogPosts.Body: text`,
    ];
    // The views over OrderItems would read every row in MySQL but only the filtered ones in PostgreSQL.
    const unfiltered = join(dir, 'views-kept.yaml');
    writeFileSync(unfiltered, `${lines.join('\n')}\n`);
    const path = join(dir, 'my2pg.yaml');
    writeFileSync(path, `${[...lines, 'views:', `  exclude: ['${shop}.big_item*']`].join('\n')}\n`);
    const env = { MY2PG_TOGETHER_TARGET: sandbox.databaseUrl };

    const blocked = await sandbox.cli(['plan', '--config', unfiltered], env);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toMatch(
      /view big_items: it reads OrderItems, which the migration file's where copies only in part/,
    );
    expect(blocked.stdout).toMatch(/view big_item_ids: it reads OrderItems/);

    const planned = await sandbox.cli(['plan', '--config', path, '--json'], env);
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(0);
    const plans = (
      JSON.parse(planned.stdout) as {
        plans: {
          schema: string;
          objects: { kind: string; action: string }[];
          tables: {
            source: string;
            target: string;
            where?: string;
            estimatedRows: number;
            columns: { source: string; target: string; pgType: string; reason: string }[];
          }[];
        }[];
      }
    ).plans;
    expect(plans.map((p) => p.schema)).toEqual(['shop', 'blog']);
    const items = plans[0]!.tables.find((t) => t.source === 'OrderItems')!;
    // The where is counted, not estimated: 3 of the 5 rows.
    expect(items).toMatchObject({ target: 'order_items', where: "createdAt >= '2024-01-01'", estimatedRows: 3 });
    expect(items.columns.map((c) => c.target)).toEqual(['order_item_id', 'customer_id', 'unit_price', 'created_at']);
    expect(plans[0]!.tables.find((t) => t.source === 'Customers')!.columns.map((c) => c.target)).toEqual([
      'customer_id',
      'display_name',
      'e_mail',
    ]);
    expect(plans[0]!.objects.find((o) => o.kind === 'schema')).toMatchObject({ action: 'create' });
    expect(plans[0]!.objects.filter((o) => o.kind === 'view').map((o) => o.action)).toEqual(['exclude', 'exclude']);
    expect(plans[1]!.tables[0]!.columns.find((c) => c.source === 'Body')).toMatchObject({
      target: 'body',
      pgType: 'text',
      reason: 'column override',
    });
    // plan wrote nothing: not even the schemas the run will create.
    const pgc = await sandbox.pg();
    const schemas = await pgc.query("SELECT nspname FROM pg_namespace WHERE nspname IN ('shop', 'blog', 'my2pg')");
    expect(schemas.rows).toEqual([]);
    await pgc.end();

    const run = await sandbox.cli(['run', '--config', path], env, 180_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);

    await expectSidesEqual(sidesOf(shop), [
      {
        table: 'Customers',
        schema: 'shop',
        targetTable: 'clients',
        key: ['CustomerID'],
        columns: ['CustomerID', 'FullName', 'eMail'],
        targetColumns: ['customer_id', 'display_name', 'e_mail'],
      },
      {
        table: 'OrderItems',
        schema: 'shop',
        targetTable: 'order_items',
        key: ['OrderItemID'],
        columns: ['OrderItemID', 'CustomerID', 'UnitPrice'],
        targetColumns: ['order_item_id', 'customer_id', 'unit_price'],
        where: "createdAt >= '2024-01-01'",
      },
    ]);
    // DATETIME(6) to the microsecond, both sides printed the same way.
    const my = await sidesOf(shop).mysql();
    const [source] = await my.query(
      "SELECT DATE_FORMAT(createdAt, '%Y-%m-%d %H:%i:%s.%f') AS t FROM OrderItems WHERE createdAt >= '2024-01-01' ORDER BY OrderItemID",
    );
    await my.end();
    const pgTimes = await sandbox.pg();
    const target = await pgTimes.query(
      "SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US') AS t FROM shop.order_items ORDER BY order_item_id",
    );
    await pgTimes.end();
    expect(target.rows).toEqual(source);
    expect(target.rows).toEqual([
      { t: '2024-01-01 00:00:00.000000' },
      { t: '2024-06-15 12:30:00.123456' },
      { t: '2025-02-28 08:00:00.500000' },
    ]);
    const counts = await expectSidesEqual(sidesOf(blog), [
      {
        table: 'BlogPosts',
        schema: 'blog',
        targetTable: 'blog_posts',
        key: ['PostID'],
        columns: ['PostID', 'PostTitle', 'Body', 'isDraft'],
        targetColumns: ['post_id', 'post_title', 'body', 'is_draft'],
        booleans: ['isDraft'],
      },
    ]);
    expect(counts.BlogPosts).toBe(2);

    const check = await sandbox.pg();
    try {
      const types = await check.query(
        "SELECT table_schema || '.' || table_name || '.' || column_name AS c, data_type FROM information_schema.columns WHERE table_schema IN ('shop', 'blog') AND column_name IN ('body', 'display_name') ORDER BY 1",
      );
      expect(types.rows).toEqual([
        { c: 'blog.blog_posts.body', data_type: 'text' },
        { c: 'shop.clients.display_name', data_type: 'character varying' },
      ]);
      // The foreign key between the renamed tables is back, and the sequences continue.
      const fk = await check.query(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = 'shop.order_items'::regclass AND confrelid = 'shop.clients'::regclass",
      );
      expect(fk.rowCount).toBe(1);
      const next = await check.query('INSERT INTO shop.clients (display_name) VALUES ($1) RETURNING customer_id', [
        'Dora',
      ]);
      expect(next.rows[0].customer_id).toBe(4);
    } finally {
      await check.end();
    }
  }, 300_000);
});
