import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

/**
 * `my2pg plan` and `my2pg run` must agree: on each schema, the plan exits 0 exactly when the
 * run creates every table, index, foreign key, CHECK and view without a problem. The schemas
 * are the integration suite's fixtures, Magento's foreign key to a UNIQUE key of a table that
 * sorts after the referencing one, partitioned tables (one falling back to a plain table), and
 * one the run cannot fully create (a foreign key to a
 * column that is indexed but not unique, which InnoDB allows and PostgreSQL refuses).
 */

const TYPES = fileURLToPath(new URL('../../fixtures/types/mysql.sql', import.meta.url));
const SEED = fileURLToPath(new URL('../../fixtures/seed-app/mysql.sql', import.meta.url));
const SAKILA = fileURLToPath(new URL('../fixtures/sakila-views.sql', import.meta.url));

interface Case {
  label: string;
  sql: (database: string) => string;
  /** What the run is expected to do, so that the test also fails when both sides are wrong together. */
  clean: boolean;
}

const CASES: Case[] = [
  {
    label: 'magento',
    clean: true,
    sql: () => `
      SET foreign_key_checks = 0;
      CREATE TABLE magento_bulk (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, uuid VARBINARY(39) NOT NULL,
        description VARCHAR(255), UNIQUE KEY MAGENTO_BULK_UUID (uuid));
      CREATE TABLE magento_acknowledged_bulk (id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, bulk_uuid VARBINARY(39) NOT NULL,
        UNIQUE KEY MAGENTO_ACKNOWLEDGED_BULK_BULK_UUID (bulk_uuid),
        CONSTRAINT MAGENTO_ACKNOWLEDGED_BULK_BULK_UUID_MAGENTO_BULK_UUID FOREIGN KEY (bulk_uuid) REFERENCES magento_bulk (uuid) ON DELETE CASCADE);
      CREATE TABLE a_ack (id INT PRIMARY KEY, bulk_uuid VARCHAR(39) NOT NULL,
        CONSTRAINT a_ack_bulk FOREIGN KEY (bulk_uuid) REFERENCES z_bulk (uuid));
      CREATE TABLE z_bulk (id INT PRIMARY KEY, uuid VARCHAR(39) NOT NULL, UNIQUE KEY z_bulk_uuid (uuid));
      INSERT INTO magento_bulk (uuid, description) VALUES ('b-1', 'first'), ('b-2', 'second');
      INSERT INTO magento_acknowledged_bulk (bulk_uuid) VALUES ('b-2');
      INSERT INTO z_bulk VALUES (1, 'u1'), (2, 'u2');
      INSERT INTO a_ack VALUES (1, 'u1'), (2, 'u2'), (3, 'u2');`,
  },
  {
    label: 'nonunique',
    clean: false,
    sql: () => `
      CREATE TABLE parent (id INT PRIMARY KEY, code INT NOT NULL, KEY parent_code (code));
      CREATE TABLE child (id INT PRIMARY KEY, code INT NOT NULL,
        CONSTRAINT child_code FOREIGN KEY (code) REFERENCES parent (code));
      INSERT INTO parent VALUES (1, 10), (2, 10), (3, 20);
      INSERT INTO child VALUES (1, 10), (2, 20);`,
  },
  {
    label: 'partitions',
    clean: true,
    sql: () => `
      CREATE TABLE sales (id INT NOT NULL AUTO_INCREMENT, amount DECIMAL(8,2) NOT NULL, PRIMARY KEY (id), KEY sales_amount (amount))
        PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (10), PARTITION pmax VALUES LESS THAN MAXVALUE);
      CREATE TABLE tokens (id INT NOT NULL PRIMARY KEY, token VARCHAR(20) NOT NULL, UNIQUE KEY tokens_id_token (id, token))
        PARTITION BY HASH (id) PARTITIONS 3;
      CREATE TABLE yearly (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at))
        PARTITION BY RANGE (YEAR(at)) (PARTITION y2019 VALUES LESS THAN (2020), PARTITION ymax VALUES LESS THAN MAXVALUE);
      INSERT INTO sales (id, amount) VALUES (1, 1), (10, 2), (500, 3);
      INSERT INTO tokens VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');
      INSERT INTO yearly VALUES (1, '2019-01-01'), (2, '2024-01-01');`,
  },
  { label: 'typesfx', clean: true, sql: () => readFileSync(TYPES, 'utf8') },
  { label: 'seedfx', clean: true, sql: () => readFileSync(SEED, 'utf8') },
  {
    label: 'sakilafx',
    clean: true,
    sql: (database) =>
      `SET foreign_key_checks = 0; ${readFileSync(SAKILA, 'utf8').replace(/\bsakila\./g, `${database}.`)}`,
  },
];

interface StatusJson {
  summary?: {
    constraints?: { kind: string; table: string; name: string; status: string; error?: string }[];
    views?: { name: string; status: string; reason?: string }[];
    problems?: string[];
  };
}

/** What the run did not create as it should: failed or violated definitions, views not verified, problems. */
function runProblems(status: StatusJson): string[] {
  const summary = status.summary ?? {};
  return [
    ...(summary.constraints ?? [])
      .filter((c) => c.status !== 'restored' && c.status !== 'already-present')
      .map((c) => `${c.kind} ${c.table}.${c.name}: ${c.status} ${c.error ?? ''}`),
    ...(summary.views ?? [])
      .filter((v) => v.status !== 'verified' && v.status !== 'excluded')
      .map((v) => `view ${v.name}: ${v.status} ${v.reason ?? ''}`),
    ...(summary.problems ?? []),
  ];
}

const sandboxes: Sandbox[] = [];

afterAll(async () => {
  for (const sandbox of sandboxes) await sandbox.dispose();
});

describe('plan and run agree', () => {
  for (const c of CASES) {
    it(`${c.label}: plan exits 0 exactly when the run creates every object without a problem`, async () => {
      const sandbox = await createSandbox(`agree_${c.label}`);
      sandboxes.push(sandbox);
      const my = await sandbox.mysql();
      try {
        await my.query(c.sql(sandbox.name));
      } finally {
        await my.end();
      }
      const plan = await sandbox.cli(['plan'], {}, 120_000);
      expect(plan.stderr, plan.stdout).toBe('');
      const run = await sandbox.cli(['run', '--concurrency', '2'], {}, 240_000);
      const status = await sandbox.cli(['status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const problems = runProblems(JSON.parse(status.stdout) as StatusJson);
      const context = `plan:\n${plan.stdout}\nrun:\n${run.stdout}${run.stderr}\nproblems: ${problems.join('\n')}`;
      expect(problems.length === 0, context).toBe(c.clean);
      expect(plan.code === 0, context).toBe(problems.length === 0);
      if (c.clean) expect(run.code, context).toBe(0);
      else expect(plan.stdout).toMatch(/BLOCKER ddl-refused/);
    }, 400_000);
  }
});
