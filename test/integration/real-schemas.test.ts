import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitIdentifier } from '../../src/vocabulary/identifiers.js';
import { compareCanonical, expectSidesEqual } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

/**
 * A source shaped on the schemas real applications bring (WordPress with WooCommerce and a
 * search plugin, Magento 2, MediaWiki, Drupal, Sakila): BIGINT UNSIGNED id chains with
 * foreign keys (a self-reference, a composite key, a mix of INT and INT UNSIGNED), a 300-column
 * table, names that PostgreSQL would cut to the same 63 bytes, ON UPDATE CURRENT_TIMESTAMP
 * columns of precision 0 and 6, prefix indexes (UNIQUE ones too, on text and on varbinary),
 * FULLTEXT over two columns, a SPATIAL key with PostGIS in the target, and PHP-serialized text
 * holding NUL characters. Everything after the run is checked in PostgreSQL against MySQL.
 */

let sandbox: Sandbox;
let run: { code: number | null; stdout: string; stderr: string };
let runId: string;
let planDefault: { code: number | null; stdout: string; stderr: string };
let planBytea: { code: number | null; stdout: string; stderr: string };
let plannedNothing: boolean;

// Two 64-character table names (MySQL's limit) that share their first 63 characters.
const LONG_TABLE = 'catalog_product_index_price_bundle_selection_temporary_storage_x';
const LONG_TABLE_A = `${`${LONG_TABLE}a`.slice(0, 63)}a`;
const LONG_TABLE_B = `${`${LONG_TABLE}b`.slice(0, 63)}b`;
// Three 64-character foreign-key names, and two index names, that share their first 63 characters.
const LONG_FK = 'CATALOG_PRODUCT_ENTITY_INT_ATTRIBUTE_ID_EAV_ATTRIBUTE_ATTRIBUTE_ID'.slice(0, 63);
const LONG_INDEX = 'CATALOG_PRODUCT_ENTITY_INT_ENTITY_ID_ATTRIBUTE_ID_STORE_ID_VALUE'.slice(0, 63);
// Cyrillic names: within MySQL's 64 characters, beyond PostgreSQL's 63 bytes.
const RU_TABLE = 'статистика_посещений_интернет_магазина_за_месяц';
const RU_COLUMN = 'количество_просмотров_страницы_товара_за_день';
const WIDE_COLUMNS = 310;
const SERIALIZED = 'O:8:"stdClass":1:{s:22:"\u0000*\u0000scheduled_timestamp";i:1700000000;}';

function wideTableSql(): string {
  const kinds = [
    'INT NULL',
    'DECIMAL(12,3) NULL',
    'VARCHAR(20) NULL',
    'DATETIME NULL',
    'BIGINT UNSIGNED NULL',
    'TEXT NULL',
    'DOUBLE NULL',
    'TINYINT(1) NULL',
  ];
  const columns = Array.from({ length: WIDE_COLUMNS }, (_v, i) => `c${i + 1} ${kinds[i % kinds.length]}`);
  const value = (row: number, i: number): string => {
    if ((row + i) % 11 === 0) return 'NULL';
    switch (i % kinds.length) {
      case 0:
        return String(((row * 7919 + i) % 100000) - 50000);
      case 1:
        return `${(row * 31 + i) % 1000}.${String((row + i) % 1000).padStart(3, '0')}`;
      case 2:
        return `'r${row}c${i}é'`;
      case 3:
        return `'2024-0${1 + ((row + i) % 9)}-1${(row + i) % 10} 1${(row + i) % 10}:0${i % 10}:00'`;
      case 4:
        return `${18446744073709551615n - BigInt(row * 1000 + i)}`;
      case 5:
        return `'text ${row} ${i} ${'x'.repeat((row + i) % 50)}'`;
      case 6:
        return `${(row + 1) / (i + 3)}`;
      default:
        return String((row + i) % 2);
    }
  };
  const rows = Array.from(
    { length: 40 },
    (_v, r) => `(${r + 1}, ${Array.from({ length: WIDE_COLUMNS }, (_w, i) => value(r + 1, i)).join(', ')})`,
  );
  return `CREATE TABLE sales_order_wide (entity_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, ${columns.join(', ')}) ROW_FORMAT=DYNAMIC;
INSERT INTO sales_order_wide VALUES ${rows.join(',\n')};`;
}

const FIXTURE = `
SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO';
SET SESSION time_zone = '+00:00';
SET SESSION explicit_defaults_for_timestamp = ON;
SET foreign_key_checks = 0;

-- WordPress core, a search plugin's FULLTEXT, and a plugin's foreign key on the BIGINT UNSIGNED ids.
CREATE TABLE wp_posts (
  ID bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  post_author bigint(20) unsigned NOT NULL DEFAULT 0,
  post_date datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_content longtext NOT NULL,
  post_title text NOT NULL,
  post_status varchar(20) NOT NULL DEFAULT 'publish',
  post_name varchar(200) NOT NULL DEFAULT '',
  post_parent bigint(20) unsigned NOT NULL DEFAULT 0,
  post_type varchar(20) NOT NULL DEFAULT 'post',
  PRIMARY KEY (ID),
  KEY post_name (post_name(191)),
  KEY type_status_date (post_type, post_status, post_date, ID),
  KEY post_parent (post_parent),
  FULLTEXT KEY wp_posts_search (post_title, post_content)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
INSERT INTO wp_posts (ID, post_date, post_content, post_title, post_name, post_type) VALUES
  (1, '2024-01-01 10:00:00', 'Welcome to WordPress. This is your first post.', 'Hello world!', 'hello-world', 'post'),
  (2, '2024-01-02 11:00:00', 'This is an example page about penguins and glaciers.', 'Sample Page', 'sample-page', 'page'),
  (5, '2024-01-03 12:00:00', 'Bread recipe: flour, water, salt.', 'Baking', 'baking', 'post');
ALTER TABLE wp_posts AUTO_INCREMENT = 9;
CREATE TABLE wp_postmeta (
  meta_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  post_id bigint(20) unsigned NOT NULL DEFAULT 0,
  meta_key varchar(255) DEFAULT NULL,
  meta_value longtext,
  PRIMARY KEY (meta_id),
  KEY post_id (post_id),
  KEY meta_key (meta_key(191)),
  CONSTRAINT fk_postmeta_post FOREIGN KEY (post_id) REFERENCES wp_posts (ID) ON DELETE CASCADE
) DEFAULT CHARSET=utf8mb4;
INSERT INTO wp_postmeta VALUES (1, 1, '_edit_lock', '1700000000:1'), (2, 2, '_wp_page_template', 'default'), (3, 5, '_thumbnail_id', '2');
CREATE TABLE wp_options (
  option_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  option_name varchar(191) NOT NULL DEFAULT '',
  option_value longtext NOT NULL,
  autoload varchar(20) NOT NULL DEFAULT 'yes',
  PRIMARY KEY (option_id),
  UNIQUE KEY option_name (option_name),
  KEY autoload (autoload)
) DEFAULT CHARSET=utf8mb4;
INSERT INTO wp_options VALUES
  (1, 'siteurl', 'https://example.org', 'yes'),
  (2, 'cron', CONCAT('a:1:{i:1700000000;', 'O:8:"stdClass":1:{s:22:"', CHAR(0 USING utf8mb4), '*', CHAR(0 USING utf8mb4), 'scheduled_timestamp";i:1700000000;}', '}'), 'yes'),
  (3, 'widget_text', '${SERIALIZED.replace(/\u0000/g, '\\0')} é', 'no'),
  (4, 'blogname', 'My “blog”', 'yes');

-- WooCommerce (HPOS): a BIGINT UNSIGNED self-reference and a chain orders <- items <- itemmeta.
CREATE TABLE wp_wc_orders (
  id bigint(20) unsigned NOT NULL,
  status varchar(20) NULL,
  parent_order_id bigint(20) unsigned NULL,
  PRIMARY KEY (id),
  KEY parent_order_id (parent_order_id),
  CONSTRAINT fk_wc_orders_parent FOREIGN KEY (parent_order_id) REFERENCES wp_wc_orders (id)
);
INSERT INTO wp_wc_orders VALUES (100, 'wc-completed', NULL), (101, 'wc-refunded', 100), (102, 'wc-pending', 101);
CREATE TABLE wp_woocommerce_order_items (
  order_item_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  order_item_name text NOT NULL,
  order_id bigint(20) unsigned NOT NULL,
  PRIMARY KEY (order_item_id),
  KEY order_id (order_id),
  CONSTRAINT fk_order_items_order FOREIGN KEY (order_id) REFERENCES wp_wc_orders (id) ON DELETE CASCADE
);
INSERT INTO wp_woocommerce_order_items VALUES (1, 'Hoodie', 100), (2, 'Beanie', 100), (3, 'Hoodie', 102);
CREATE TABLE wp_woocommerce_order_itemmeta (
  meta_id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  order_item_id bigint(20) unsigned NOT NULL,
  meta_key varchar(255) NULL,
  meta_value longtext NULL,
  PRIMARY KEY (meta_id),
  KEY order_item_id (order_item_id),
  KEY meta_key (meta_key(32)),
  CONSTRAINT fk_itemmeta_item FOREIGN KEY (order_item_id) REFERENCES wp_woocommerce_order_items (order_item_id) ON DELETE CASCADE
);
INSERT INTO wp_woocommerce_order_itemmeta VALUES (1, 1, '_qty', '2'), (2, 2, '_qty', '1'), (3, 3, '_line_total', '45.00');

-- Ids beyond bigint: this group must stay numeric(20), and its foreign key still be there.
CREATE TABLE big_ledger (id bigint unsigned NOT NULL PRIMARY KEY, note varchar(20));
INSERT INTO big_ledger VALUES (1, 'small'), (18446744073709551615, 'max');
CREATE TABLE big_ledger_line (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ledger_id bigint unsigned NOT NULL,
  amount decimal(12,2),
  CONSTRAINT fk_line_ledger FOREIGN KEY (ledger_id) REFERENCES big_ledger (id)
);
INSERT INTO big_ledger_line (ledger_id, amount) VALUES (1, 1.50), (18446744073709551615, -2.25);

-- Magento 2. A legacy INT (signed) column references INT UNSIGNED entity_id: MariaDB takes
-- that when the referencing table comes first with foreign_key_checks = 0.
CREATE TABLE legacy_product_link (
  id int NOT NULL PRIMARY KEY,
  product_id int NULL,
  CONSTRAINT fk_legacy_product FOREIGN KEY (product_id) REFERENCES catalog_product_entity (entity_id)
);
INSERT INTO legacy_product_link VALUES (1, 1), (2, NULL);
CREATE TABLE store_website (
  website_id smallint unsigned NOT NULL AUTO_INCREMENT,
  code varchar(32) NULL,
  name varchar(64) NULL,
  PRIMARY KEY (website_id),
  UNIQUE KEY STORE_WEBSITE_CODE (code)
);
INSERT INTO store_website VALUES (0, 'admin', 'Admin'), (1, 'base', 'Main Website');
CREATE TABLE eav_attribute (
  attribute_id smallint unsigned NOT NULL AUTO_INCREMENT,
  attribute_code varchar(255) NOT NULL,
  PRIMARY KEY (attribute_id)
);
INSERT INTO eav_attribute VALUES (1, 'status'), (2, 'visibility');
CREATE TABLE catalog_product_entity (
  entity_id int unsigned NOT NULL AUTO_INCREMENT,
  sku varchar(64) NOT NULL,
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  PRIMARY KEY (entity_id),
  KEY CATALOG_PRODUCT_ENTITY_SKU (sku)
);
INSERT INTO catalog_product_entity VALUES
  (1, 'MH01', '2020-01-01 00:00:00', '2001-01-01 00:00:00'),
  (2, 'MH02', '2020-01-01 00:00:00', '2001-01-01 00:00:00'),
  (3, 'MH03', '2020-01-01 00:00:00', '2001-01-01 00:00:00');
CREATE TABLE catalog_product_entity_int (
  value_id int NOT NULL AUTO_INCREMENT,
  attribute_id smallint unsigned NOT NULL DEFAULT 0,
  store_id smallint unsigned NOT NULL DEFAULT 0,
  entity_id int unsigned NOT NULL DEFAULT 0,
  value int NULL,
  PRIMARY KEY (value_id),
  UNIQUE KEY ${LONG_INDEX}1 (entity_id, attribute_id, store_id),
  KEY ${LONG_INDEX}2 (value),
  CONSTRAINT ${LONG_FK}1 FOREIGN KEY (attribute_id) REFERENCES eav_attribute (attribute_id) ON DELETE CASCADE,
  CONSTRAINT ${LONG_FK}2 FOREIGN KEY (entity_id) REFERENCES catalog_product_entity (entity_id) ON DELETE CASCADE,
  CONSTRAINT ${LONG_FK}3 FOREIGN KEY (store_id) REFERENCES store_website (website_id) ON DELETE CASCADE
);
INSERT INTO catalog_product_entity_int VALUES (1, 1, 0, 1, 1), (2, 2, 0, 1, 4), (3, 1, 1, 2, 2);
CREATE TABLE catalog_product_website (
  product_id int unsigned NOT NULL,
  website_id smallint unsigned NOT NULL,
  PRIMARY KEY (product_id, website_id),
  KEY CATALOG_PRODUCT_WEBSITE_WEBSITE_ID (website_id),
  CONSTRAINT CAT_PRD_WS_PRD_ID_CAT_PRD_ENTT_ENTT_ID FOREIGN KEY (product_id) REFERENCES catalog_product_entity (entity_id) ON DELETE CASCADE,
  CONSTRAINT CATALOG_PRODUCT_WEBSITE_WEBSITE_ID_STORE_WEBSITE_WEBSITE_ID FOREIGN KEY (website_id) REFERENCES store_website (website_id) ON DELETE CASCADE
);
INSERT INTO catalog_product_website VALUES (1, 1), (2, 1), (3, 0);
-- A composite foreign key.
CREATE TABLE catalog_product_website_price (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id int unsigned NOT NULL,
  website_id smallint unsigned NOT NULL,
  price decimal(20,6) NOT NULL,
  CONSTRAINT FK_PRICE_PRODUCT_WEBSITE FOREIGN KEY (product_id, website_id) REFERENCES catalog_product_website (product_id, website_id) ON DELETE CASCADE
);
INSERT INTO catalog_product_website_price (product_id, website_id, price) VALUES (1, 1, 45.000000), (3, 0, 9.990000);
CREATE TABLE catalogsearch_fulltext_scope1 (
  entity_id int unsigned NOT NULL,
  attribute_id int unsigned NOT NULL,
  data_index longtext,
  PRIMARY KEY (entity_id, attribute_id),
  FULLTEXT KEY FTI_FULLTEXT_DATA_INDEX (data_index)
) DEFAULT CHARSET=utf8;
INSERT INTO catalogsearch_fulltext_scope1 VALUES (1, 73, 'Chaz Kangeroo Hoodie'), (2, 73, 'Teton Pullover Hoodie'), (3, 73, 'Joust Duffle Bag');
CREATE TABLE customer_entity (
  entity_id int unsigned NOT NULL AUTO_INCREMENT,
  email varchar(255) NULL,
  PRIMARY KEY (entity_id),
  UNIQUE KEY CUSTOMER_ENTITY_EMAIL_PREFIX (email(20))
);
INSERT INTO customer_entity VALUES (1, 'roni_cost@example.com'), (2, 'veronica.costello@example.com');
CREATE TABLE sales_order (
  entity_id int unsigned NOT NULL AUTO_INCREMENT,
  state varchar(32) NULL,
  updated_at timestamp(6) NOT NULL DEFAULT current_timestamp(6) ON UPDATE current_timestamp(6),
  PRIMARY KEY (entity_id)
);
INSERT INTO sales_order VALUES (1, 'new', '2001-01-01 00:00:00.000000'), (2, 'complete', '2001-01-01 00:00:00.123456');
CREATE TABLE sales_order_grid (
  entity_id int unsigned NOT NULL PRIMARY KEY,
  status varchar(32) NULL,
  CONSTRAINT SALES_ORDER_GRID_ENTITY_ID_SALES_ORDER_ENTITY_ID FOREIGN KEY (entity_id) REFERENCES sales_order (entity_id) ON DELETE CASCADE
);
INSERT INTO sales_order_grid VALUES (1, 'pending'), (2, 'complete');
CREATE TABLE sales_order_grid_archive (
  entity_id int unsigned NOT NULL PRIMARY KEY,
  CONSTRAINT ARCHIVE_GRID FOREIGN KEY (entity_id) REFERENCES sales_order_grid (entity_id) ON DELETE CASCADE
);
INSERT INTO sales_order_grid_archive VALUES (2);
${wideTableSql()}
CREATE TABLE ${LONG_TABLE_A} (
  id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  product_id int unsigned NOT NULL,
  CONSTRAINT FK_LONG_A_PRODUCT FOREIGN KEY (product_id) REFERENCES catalog_product_entity (entity_id)
);
INSERT INTO ${LONG_TABLE_A} VALUES (1, 1), (7, 2);
CREATE TABLE ${LONG_TABLE_B} (
  id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  a_id int unsigned NOT NULL,
  CONSTRAINT FK_LONG_B_A FOREIGN KEY (a_id) REFERENCES ${LONG_TABLE_A} (id)
);
INSERT INTO ${LONG_TABLE_B} VALUES (1, 7), (2, 1), (3, 7);

-- MediaWiki: varbinary titles, binary(14) timestamps, a prefix on varbinary (counted in bytes).
CREATE TABLE mw_page (
  page_id int unsigned NOT NULL AUTO_INCREMENT,
  page_namespace int NOT NULL,
  page_title varbinary(255) NOT NULL,
  page_touched binary(14) NOT NULL,
  page_len int unsigned NOT NULL,
  PRIMARY KEY (page_id),
  UNIQUE KEY page_name_title (page_namespace, page_title),
  KEY page_len (page_len)
) DEFAULT CHARSET=binary;
INSERT INTO mw_page VALUES (1, 0, 'Main_Page', '20240101000000', 735), (2, 14, 'Category:Birds', '20240102030405', 12);
CREATE TABLE mw_user (
  user_id int unsigned NOT NULL AUTO_INCREMENT,
  user_name varbinary(255) NOT NULL DEFAULT '',
  user_touched binary(14) NOT NULL,
  PRIMARY KEY (user_id),
  UNIQUE KEY user_name_prefix (user_name(8))
) DEFAULT CHARSET=binary;
INSERT INTO mw_user VALUES (1, 'Administrator', '20240101000000'), (2, 'MediaWiki default', '20240101000000');
CREATE TABLE mw_categorylinks (
  cl_from int unsigned NOT NULL DEFAULT 0,
  cl_to varbinary(255) NOT NULL DEFAULT '',
  cl_sortkey varbinary(230) NOT NULL DEFAULT '',
  cl_timestamp timestamp NOT NULL DEFAULT '2000-01-01 00:00:00',
  PRIMARY KEY (cl_from, cl_to),
  KEY cl_sortkey (cl_to, cl_sortkey(100))
) DEFAULT CHARSET=binary;
INSERT INTO mw_categorylinks VALUES (1, 'Birds', 'MAIN PAGE', '2024-01-01 00:00:00');

-- Drupal: ascii columns and a two-part prefix index.
CREATE TABLE dr_node_field_data (
  nid int unsigned NOT NULL,
  vid int unsigned NOT NULL,
  type varchar(32) CHARACTER SET ascii NOT NULL,
  langcode varchar(12) CHARACTER SET ascii NOT NULL,
  title varchar(255) NOT NULL,
  changed int NULL,
  PRIMARY KEY (nid, langcode),
  KEY node__title_type (title(191), type(4))
) DEFAULT CHARSET=utf8mb4;
INSERT INTO dr_node_field_data VALUES (1, 1, 'article', 'en', 'Drupal article', 1700000000), (1, 2, 'article', 'de', 'Drupal Artikel', NULL);

-- Sakila: smallint/tinyint unsigned foreign keys, last_update ON UPDATE, film_text FULLTEXT, a SPATIAL key.
CREATE TABLE sk_language (
  language_id tinyint unsigned NOT NULL AUTO_INCREMENT,
  name char(20) NOT NULL,
  last_update timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (language_id)
);
INSERT INTO sk_language VALUES (1, 'English', '2006-02-15 05:02:19'), (2, 'Italian', '2006-02-15 05:02:19');
CREATE TABLE sk_address (
  address_id smallint unsigned NOT NULL AUTO_INCREMENT,
  address varchar(50) NOT NULL,
  district varchar(20) NOT NULL,
  location geometry NOT NULL,
  last_update timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (address_id),
  SPATIAL KEY idx_location (location)
);
INSERT INTO sk_address VALUES
  (1, '47 MySakila Drive', 'Alberta', ST_GeomFromText('POINT(-112.8185647 49.6999986)'), '2014-09-25 22:30:27'),
  (2, '28 MySQL Boulevard', 'QLD', ST_GeomFromText('POINT(153.1408538 -27.6333361)', 4326), '2014-09-25 22:30:09');
CREATE TABLE sk_customer (
  customer_id smallint unsigned NOT NULL AUTO_INCREMENT,
  first_name varchar(45) NOT NULL,
  address_id smallint unsigned NOT NULL,
  PRIMARY KEY (customer_id),
  KEY idx_fk_address_id (address_id),
  CONSTRAINT fk_customer_address FOREIGN KEY (address_id) REFERENCES sk_address (address_id) ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO sk_customer VALUES (1, 'MARY', 1), (2, 'PATRICIA', 2);
CREATE TABLE sk_film (
  film_id smallint unsigned NOT NULL AUTO_INCREMENT,
  title varchar(128) NOT NULL,
  language_id tinyint unsigned NOT NULL,
  original_language_id tinyint unsigned DEFAULT NULL,
  last_update timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (film_id),
  CONSTRAINT fk_film_language FOREIGN KEY (language_id) REFERENCES sk_language (language_id) ON UPDATE CASCADE,
  CONSTRAINT fk_film_language_original FOREIGN KEY (original_language_id) REFERENCES sk_language (language_id) ON UPDATE CASCADE
);
INSERT INTO sk_film VALUES (1, 'ACADEMY DINOSAUR', 1, NULL, '2006-02-15 05:03:42'), (2, 'ACE GOLDFINGER', 1, 2, '2006-02-15 05:03:42');
CREATE TABLE sk_film_text (
  film_id smallint NOT NULL,
  title varchar(255) NOT NULL,
  description text,
  PRIMARY KEY (film_id),
  FULLTEXT KEY idx_title_description (title, description)
);
INSERT INTO sk_film_text VALUES
  (1, 'ACADEMY DINOSAUR', 'A Epic Drama of a Feminist And a Mad Scientist who must Battle a Teacher in The Canadian Rockies'),
  (2, 'ACE GOLDFINGER', 'A Astounding Epistle of a Database Administrator And a Explorer who must Find a Car in Ancient China');
CREATE TABLE \`${RU_TABLE}\` (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
  \`${RU_COLUMN}\` int NOT NULL,
  KEY \`индекс_количества_просмотров_страницы\` (\`${RU_COLUMN}\`)
) DEFAULT CHARSET=utf8mb4;
INSERT INTO \`${RU_TABLE}\` VALUES (1, 10), (5, 20);
SET foreign_key_checks = 1;
`;

/** MySQL's foreign keys as `table(columns) -> table(columns)`, with PostgreSQL's table names. */
async function mysqlForeignKeys(my: mysql.Connection): Promise<string[]> {
  const [rows] = await my.query(
    `SELECT k.TABLE_NAME AS t, k.CONSTRAINT_NAME AS n, GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION) AS c,
            k.REFERENCED_TABLE_NAME AS rt, GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION) AS rc
       FROM information_schema.KEY_COLUMN_USAGE k
      WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
      GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME`,
  );
  return (rows as { t: string; c: string; rt: string; rc: string }[])
    .map((r) => `${fitIdentifier(r.t)}(${r.c}) -> ${fitIdentifier(r.rt)}(${r.rc})`)
    .sort();
}

async function pgForeignKeys(
  pgc: pg.Client,
): Promise<{ key: string; name: string; types: string[][]; validated: boolean }[]> {
  const { rows } = await pgc.query<{
    t: string;
    name: string;
    c: string[];
    rt: string;
    rc: string[];
    types: string[];
    rtypes: string[];
    validated: boolean;
  }>(
    `SELECT cl.relname AS t, con.conname AS name, rc.relname AS rt, con.convalidated AS validated,
            array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS c,
            array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS rc,
            array(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS types,
            array(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(con.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS rtypes
       FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class rc ON rc.oid = con.confrelid
      WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace`,
  );
  return rows.map((r) => ({
    key: `${r.t}(${r.c.join(',')}) -> ${r.rt}(${r.rc.join(',')})`,
    name: r.name,
    types: [r.types, r.rtypes],
    validated: r.validated,
  }));
}

describe('real application schemas arrive whole', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('real');
    const my = await sandbox.mysql();
    await my.query({ sql: FIXTURE });
    await my.end();
    const pgc = await sandbox.pg();
    await pgc.query('CREATE EXTENSION postgis');
    for (const schema of ['nul_reject', 'nul_strip']) await pgc.query(`CREATE SCHEMA ${schema}`);
    await pgc.end();
    // What plan foresees, before anything is written: with the default NUL policy, and with the run's.
    const relations = async (): Promise<number> => {
      const client = await sandbox.pg();
      try {
        return (
          await client.query(
            "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
          )
        ).rows[0].n as number;
      } finally {
        await client.end();
      }
    };
    const before = await relations();
    planDefault = await sandbox.cli(['plan', '--json'], {}, 120_000);
    planBytea = await sandbox.cli(['plan', '--json', '--nul', 'bytea'], {}, 120_000);
    plannedNothing = (await relations()) === before;
    // The whole database; wp_options' serialized values keep their NULs as bytea.
    run = await sandbox.cli(['run', '--nul', 'bytea', '--concurrency', '2'], {}, 240_000);
    runId = /^run (run-\S+):/m.exec(run.stdout)?.[1] ?? '(no run id)';
  }, 300_000);
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('runs to exit 0, every table verified by checksum, and reports what it translated', async () => {
    const all = run.stdout + run.stderr;
    expect(run.code, all).toBe(0);
    expect(run.stdout).toMatch(/every table copied and verified$/m);
    expect(run.stdout).toMatch(
      /translated: key type: .*wp_postmeta\.post_id, wp_posts\.ID → bigint \(BIGINT UNSIGNED, every value \(MAX\) and AUTO_INCREMENT fit bigint\)/,
    );
    expect(run.stdout).toMatch(
      /translated: key type: big_ledger\.id, big_ledger_line\.ledger_id → numeric\(20\) \(BIGINT UNSIGNED values beyond bigint: big_ledger\.id holds 18446744073709551615/,
    );
    expect(run.stdout).toContain('translated: table wp_options: column option_value holds NUL characters → bytea');
    expect(run.stdout).toMatch(
      /translated: table catalog_product_entity: ON UPDATE CURRENT_TIMESTAMP of updated_at \(0 digits\) → BEFORE UPDATE trigger/,
    );
    expect(run.stdout).toMatch(
      /translated: table sales_order: ON UPDATE CURRENT_TIMESTAMP of updated_at \(6 digits\) → BEFORE UPDATE trigger/,
    );
    expect(run.stdout).toMatch(
      /translated: table sk_film_text: FULLTEXT index idx_title_description → GIN index sk_film_text_idx_title_description on to_tsvector\('simple'::regconfig/,
    );
    expect(run.stdout).toMatch(/translated: table sk_address: SPATIAL index idx_location → GiST index/);
    expect(run.stdout).toMatch(
      /translated: table customer_entity: prefix index CUSTOMER_ENTITY_EMAIL_PREFIX → UNIQUE index .*: email\(20\) → left\(email, 20\)/,
    );
    expect(run.stdout).not.toMatch(/^adjusted:/m);
    const pgc = await sandbox.pg();
    try {
      const tables = await pgc.query<{ table_name: string; status: string; method: string }>(
        `SELECT table_name, verification->>'status' AS status, verification->>'method' AS method FROM my2pg.run_tables ORDER BY 1`,
      );
      const my = await sandbox.mysql();
      const [sourceTables] = await my.query('SHOW TABLES');
      await my.end();
      expect(tables.rows.length).toBe((sourceTables as unknown[]).length);
      expect(tables.rows.length).toBe(33);
      for (const t of tables.rows)
        expect({ table: t.table_name, status: t.status, method: t.method }).toEqual({
          table: t.table_name,
          status: 'verified',
          method: 'checksum',
        });
    } finally {
      await pgc.end();
    }
  });

  it('plan foresaw it, writing nothing: the NUL rows of wp_options block under the default policy, nothing blocks under --nul bytea', async () => {
    type Plan = {
      blockers: number;
      tables: {
        source: string;
        target: string;
        action: string;
        hazards: { kind: string; column: string | null; count: number | null; blocking: boolean }[];
      }[];
    };
    expect(plannedNothing).toBe(true);
    expect(planDefault.stderr).toBe('');
    expect(planDefault.code).toBe(1);
    const plan = JSON.parse(planDefault.stdout) as Plan;
    const my = await sandbox.mysql();
    const [rows] = await my.query('SELECT COUNT(*) AS n FROM wp_options WHERE INSTR(option_value, CHAR(0)) > 0');
    await my.end();
    const blocking = plan.tables.flatMap((t) =>
      t.hazards
        .filter((h) => h.blocking)
        .map((h) => ({ table: t.source, kind: h.kind, column: h.column, count: h.count })),
    );
    expect(blocking).toEqual([
      {
        table: 'wp_options',
        kind: 'nul-character',
        column: 'option_value',
        count: Number((rows as { n: number }[])[0]!.n),
      },
    ]);
    expect(plan.tables).toHaveLength(33);
    expect(plan.tables.every((t) => t.action === 'create')).toBe(true);
    // The long names get the names the run gives them.
    expect(plan.tables.find((t) => t.source === LONG_TABLE_A)!.target).toBe(fitIdentifier(LONG_TABLE_A));
    expect(planBytea.code, planBytea.stdout.slice(0, 2000)).toBe(0);
    expect((JSON.parse(planBytea.stdout) as Plan).blockers).toBe(0);
  });

  it('every value of every table compares equal, read from each side independently', async () => {
    // wp_options is bytea now (checked byte by byte below); the long-named tables have other names in PostgreSQL.
    const my = await sandbox.mysql();
    const tables = (await my.query('SHOW TABLES'))[0] as Record<string, string>[];
    await my.end();
    const names = tables
      .map((r) => Object.values(r)[0]!)
      .filter((t) => !['wp_options', LONG_TABLE_A, LONG_TABLE_B, RU_TABLE].includes(t));
    const { tables: compared, values, differences } = await compareCanonical(sandbox, { only: names });
    expect(differences).toEqual([]);
    expect(compared).toBe(names.length);
    expect(values).toBeGreaterThan(40 * WIDE_COLUMNS);
    for (const [table, column] of [
      [LONG_TABLE_A, 'product_id'],
      [LONG_TABLE_B, 'a_id'],
      [RU_TABLE, RU_COLUMN],
    ] as const) {
      const renamed = {
        table,
        columns: ['id', column],
        targetTable: fitIdentifier(table),
        targetColumns: ['id', fitIdentifier(column)],
      };
      expect((await expectSidesEqual(sandbox, renamed))[table]).toBeGreaterThan(1);
    }
  });

  it('the 300-column table is verified by checksum, and a single changed value in column 251 is found', async () => {
    const pgc = await sandbox.pg();
    try {
      const row = await pgc.query(
        `SELECT verification->>'status' AS status, verification->>'method' AS method, verification->>'sourceRows' AS n FROM my2pg.run_tables WHERE table_name = 'sales_order_wide'`,
      );
      expect(row.rows[0]).toEqual({ status: 'verified', method: 'checksum', n: '40' });
      await pgc.query(`UPDATE sales_order_wide SET c251 = c251 || '!' WHERE entity_id = 17`);
    } finally {
      await pgc.end();
    }
    const changed = await sandbox.cli(['verify', runId], {}, 120_000);
    expect(changed.code, changed.stdout + changed.stderr).toBe(1);
    expect(changed.stdout).toMatch(
      /table sales_order_wide: 40 rows in MySQL, 40 in PostgreSQL: 1 rows differ: .*row entity_id=17 differs in c251/,
    );
    const fix = await sandbox.pg();
    try {
      await fix.query(`UPDATE sales_order_wide SET c251 = left(c251, -1) WHERE entity_id = 17`);
    } finally {
      await fix.end();
    }
    const again = await sandbox.cli(['verify', runId], {}, 120_000);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  });

  it('every foreign key of MySQL is in PostgreSQL, validated, with one type on both sides', async () => {
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      const expected = await mysqlForeignKeys(my);
      const actual = await pgForeignKeys(pgc);
      expect(actual.map((k) => k.key).sort()).toEqual(expected);
      expect(expected.length).toBe(19);
      for (const fk of actual) {
        expect(fk.validated, fk.key).toBe(true);
        expect(fk.types[0], `${fk.key}: ${JSON.stringify(fk.types)}`).toEqual(fk.types[1]);
        expect(Buffer.byteLength(fk.name), fk.name).toBeLessThanOrEqual(63);
      }
      const types = Object.fromEntries(actual.map((k) => [k.key.split(' ->')[0], k.types[0]!.join(',')]));
      expect(types).toMatchObject({
        'wp_postmeta(post_id)': 'bigint',
        'wp_wc_orders(parent_order_id)': 'bigint',
        'wp_woocommerce_order_itemmeta(order_item_id)': 'bigint',
        'big_ledger_line(ledger_id)': 'numeric(20,0)',
        'catalog_product_website_price(product_id,website_id)': 'bigint,integer',
        'sk_film(language_id)': 'smallint',
        // INT (signed) referencing INT UNSIGNED: the widest of the group.
        'legacy_product_link(product_id)': 'bigint',
      });
      // The three 64-character FK names sharing 63 characters are three constraints.
      const long = actual.filter((k) => k.key.startsWith('catalog_product_entity_int('));
      expect(new Set(long.map((k) => k.name)).size).toBe(3);
      for (const k of long)
        expect(k.name).toMatch(/^CATALOG_PRODUCT_ENTITY_INT_ATTRIBUTE_ID_EAV_ATTRIBUTE_[A-Z_]*_[0-9a-f]{8}$/);
      // A new row that breaks a restored FK is refused, so the constraint is really in force.
      await expect(
        pgc.query('INSERT INTO wp_postmeta (meta_id, post_id, meta_key) VALUES (999, 424242, $1)', ['x']),
      ).rejects.toMatchObject({ code: '23503' });
    } finally {
      await my.end();
      await pgc.end();
    }
  });

  it('a table created next to existing ones takes the type of the existing key it references', async () => {
    const pgc = await sandbox.pg();
    try {
      await pgc.query('DROP TABLE legacy_product_link');
      const again = await sandbox.cli(['run', '--tables', 'legacy_product_link'], {}, 120_000);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(
        /translated: key type: .*legacy_product_link\.product_id → bigint \(the existing target column catalog_product_entity\.entity_id.* is bigint\)/,
      );
      const fk = (await pgForeignKeys(pgc)).find((k) => k.key.startsWith('legacy_product_link('));
      expect(fk).toMatchObject({
        key: 'legacy_product_link(product_id) -> catalog_product_entity(entity_id)',
        types: [['bigint'], ['bigint']],
        validated: true,
      });
    } finally {
      await pgc.end();
    }
  });

  it("every sequence continues at MySQL's AUTO_INCREMENT, long table names included", async () => {
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      const [rows] = await my.query(
        `SELECT t.TABLE_NAME AS tbl, c.COLUMN_NAME AS col, CAST(t.AUTO_INCREMENT AS CHAR) AS next FROM information_schema.TABLES t
           JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME AND c.EXTRA LIKE '%auto_increment%'
          WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY 1`,
      );
      const expected = (rows as { tbl: string; next: string }[]).map((r) => [r.tbl, r.next]);
      expect(expected).toContainEqual(['wp_posts', '9']);
      const actual: [string, string][] = [];
      for (const r of rows as { tbl: string; col: string }[]) {
        const next = await pgc.query(`SELECT nextval(pg_get_serial_sequence($1, $2))::text AS n`, [
          `public."${fitIdentifier(r.tbl)}"`,
          r.col,
        ]);
        actual.push([r.tbl, next.rows[0].n]);
      }
      expect(actual).toEqual(expected);
      const identity = await pgc.query(
        `SELECT format_type(atttypid, atttypmod) AS t, attidentity FROM pg_attribute WHERE attrelid = 'wp_posts'::regclass AND attname = 'ID'`,
      );
      expect(identity.rows[0]).toEqual({ t: 'bigint', attidentity: 'd' });
    } finally {
      await my.end();
      await pgc.end();
    }
  });

  it('generated names fit in 63 bytes and stay unique: long tables, indexes and constraints', async () => {
    const pgc = await sandbox.pg();
    try {
      const tables = await pgc.query<{ relname: string }>(
        `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'catalog_product_index_price_bundle%' AND relkind = 'r' ORDER BY 1`,
      );
      expect(tables.rows.map((r) => r.relname)).toEqual(
        [fitIdentifier(LONG_TABLE_A), fitIdentifier(LONG_TABLE_B)].sort(),
      );
      expect(new Set(tables.rows.map((r) => r.relname)).size).toBe(2);
      // Multibyte names are cut on a character boundary: no broken character, 63 bytes at most.
      const ru = await pgc.query<{ indexname: string; indexdef: string }>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY 1`,
        [fitIdentifier(RU_TABLE)],
      );
      expect(ru.rows).toHaveLength(2);
      for (const r of ru.rows) {
        expect(Buffer.byteLength(r.indexname)).toBeLessThanOrEqual(63);
        expect(r.indexname).not.toContain('\uFFFD');
      }
      expect(ru.rows.map((r) => r.indexdef).join('\n')).toContain(`("${fitIdentifier(RU_COLUMN)}")`);
      expect(fitIdentifier(RU_TABLE)).toMatch(/^статистика_посещений_интерне_[0-9a-f]{8}$/);
      const indexes = await pgc.query<{ indexname: string; indexdef: string }>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalog_product_entity_int' AND indexname NOT LIKE '%pkey' ORDER BY 1`,
      );
      // The two 64-character index names sharing 63 characters, and the two MySQL made for foreign
      // keys (named after the 64-character constraints): four names that share their first 54 bytes.
      expect(indexes.rows.map((r) => r.indexdef.replace(/^.* USING /, '')).sort()).toEqual([
        'btree (attribute_id)',
        'btree (entity_id, attribute_id, store_id)',
        'btree (store_id)',
        'btree (value)',
      ]);
      expect(new Set(indexes.rows.map((r) => r.indexname)).size).toBe(4);
      for (const r of indexes.rows)
        expect(r.indexname).toMatch(/^catalog_product_entity_int_CATALOG_PRODUCT_ENTITY_INT__[0-9a-f]{8}$/);
      const all = await pgc.query<{ name: string }>(
        `SELECT relname::text AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace
         UNION ALL SELECT conname::text FROM pg_constraint WHERE connamespace = 'public'::regnamespace
         UNION ALL SELECT tgname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal`,
      );
      for (const r of all.rows) expect(Buffer.byteLength(r.name), r.name).toBeLessThanOrEqual(63);
    } finally {
      await pgc.end();
    }
  });

  it('ON UPDATE CURRENT_TIMESTAMP behaves as in MySQL: moves on a change, not on a no-op, not over an explicit value; precision kept', async () => {
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      const statements = [
        // 1: a real change moves updated_at.
        `UPDATE catalog_product_entity SET sku = 'MH01-new' WHERE entity_id = 1`,
        // 2: setting a column to the value it has changes nothing: updated_at stays.
        `UPDATE catalog_product_entity SET sku = 'MH02' WHERE entity_id = 2`,
        // 3: a change that sets updated_at itself keeps the value it set.
        `UPDATE catalog_product_entity SET sku = 'MH03-new', updated_at = '2010-05-05 05:05:05' WHERE entity_id = 3`,
      ];
      await pgc.query("SET timezone = 'UTC'");
      await my.query("SET SESSION time_zone = '+00:00'");
      for (const sql of statements) {
        await my.query(sql);
        await pgc.query(sql);
      }
      await my.query("SET SESSION time_zone = '+00:00'");
      const [mysqlRows] = await my.query(
        `SELECT entity_id, updated_at > '2020-01-01' AS moved, CAST(updated_at AS CHAR) AS at FROM catalog_product_entity ORDER BY entity_id`,
      );
      const pgRows = await pgc.query(
        `SELECT entity_id, updated_at > '2020-01-01' AS moved, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at, extract(microseconds FROM updated_at)::bigint % 1000000 AS micros FROM catalog_product_entity ORDER BY entity_id`,
      );
      const mysqlMoved = (mysqlRows as { moved: number }[]).map((r) => Boolean(r.moved));
      expect(mysqlMoved).toEqual([true, false, false]);
      expect(pgRows.rows.map((r) => r.moved)).toEqual(mysqlMoved);
      expect(pgRows.rows[1].at).toBe('2001-01-01 00:00:00');
      expect(pgRows.rows[2].at).toBe('2010-05-05 05:05:05');
      // TIMESTAMP (precision 0): whole seconds, never ahead of the clock.
      expect(Number(pgRows.rows[0].micros)).toBe(0);
      const ahead = await pgc.query(`SELECT updated_at <= now() AS ok FROM catalog_product_entity WHERE entity_id = 1`);
      expect(ahead.rows[0].ok).toBe(true);

      // TIMESTAMP(6): the transaction's time to the microsecond; no change, no move.
      await pgc.query('BEGIN');
      await pgc.query(`UPDATE sales_order SET state = 'processing' WHERE entity_id = 1`);
      await pgc.query(`UPDATE sales_order SET state = 'complete' WHERE entity_id = 2`);
      const six = await pgc.query(
        `SELECT entity_id, updated_at = now() AS now, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM sales_order ORDER BY entity_id`,
      );
      await pgc.query('COMMIT');
      expect(six.rows[0].now).toBe(true);
      expect(six.rows[1]).toEqual({ entity_id: '2', now: false, at: '2001-01-01 00:00:00.123456' });
      const triggers = await pgc.query(
        `SELECT count(*)::int AS n, count(DISTINCT tgfoid)::int AS functions FROM pg_trigger WHERE tgname = 'my2pg_on_update_current_timestamp'`,
      );
      // catalog_product_entity, sales_order, sk_language, sk_address, sk_film: one shared function.
      expect(triggers.rows[0]).toEqual({ n: 5, functions: 1 });
    } finally {
      await my.end();
      await pgc.end();
    }
  });

  it('a unique prefix index refuses exactly the duplicates MySQL refuses (characters for text, bytes for varbinary)', async () => {
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      // Same first 20 characters as roni_cost@example.com, different after.
      const duplicate = `INSERT INTO customer_entity (entity_id, email) VALUES (10, 'roni_cost@example.com.au')`;
      await expect(my.query(duplicate)).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
      await expect(pgc.query(duplicate)).rejects.toMatchObject({ code: '23505' });
      const fine = `INSERT INTO customer_entity (entity_id, email) VALUES (11, 'roni_cosT@example.org')`;
      await my.query(fine);
      await pgc.query(fine);
      // 'Administ' is the same 8 bytes.
      await expect(
        my.query(`INSERT INTO mw_user VALUES (10, 'Administratrix', '20240101000000')`),
      ).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
      await expect(
        pgc.query(`INSERT INTO mw_user VALUES (10, 'Administratrix', '20240101000000')`),
      ).rejects.toMatchObject({ code: '23505' });
      const defs = await pgc.query<{ indexdef: string }>(
        `SELECT indexdef FROM pg_indexes WHERE tablename IN ('customer_entity', 'mw_user', 'wp_postmeta') AND indexname NOT LIKE '%pkey' ORDER BY 1`,
      );
      expect(defs.rows.map((r) => r.indexdef.replace(/^.* USING /, ''))).toEqual(
        expect.arrayContaining([
          'btree ("left"((email)::text, 20))',
          'btree (SUBSTRING(user_name FROM 1 FOR 8))',
          'btree (meta_key)',
          'btree (post_id)',
        ]),
      );
    } finally {
      await my.end();
      await pgc.end();
    }
  });

  it('FULLTEXT becomes a GIN index that a to_tsvector search uses and that finds what MATCH finds; SPATIAL becomes GiST', async () => {
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      const [mysqlHits] = await my.query(
        `SELECT film_id FROM sk_film_text WHERE MATCH (title, description) AGAINST ('astounding' IN NATURAL LANGUAGE MODE)`,
      );
      const search = `SELECT film_id FROM sk_film_text WHERE to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(description, '')) @@ plainto_tsquery('simple', $1)`;
      const pgHits = await pgc.query(search, ['astounding']);
      expect(pgHits.rows).toEqual(mysqlHits);
      expect(pgHits.rows).toEqual([{ film_id: 2 }]);
      await pgc.query('SET enable_seqscan = off');
      const plan = await pgc.query(`EXPLAIN ${search}`, ['astounding']);
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(
        /Bitmap Index Scan on sk_film_text_idx_title_description/,
      );
      const posts = await pgc.query(
        `SELECT "ID" FROM wp_posts WHERE to_tsvector('simple', coalesce(post_title, '') || ' ' || coalesce(post_content, '')) @@ plainto_tsquery('simple', 'penguins')`,
      );
      expect(posts.rows).toEqual([{ ID: '2' }]);
      const indexes = await pgc.query<{ tablename: string; indexdef: string }>(
        `SELECT tablename, indexdef FROM pg_indexes WHERE indexdef ~ 'USING (gin|gist)' ORDER BY 1`,
      );
      expect(indexes.rows.map((r) => `${r.tablename} ${/USING (\w+)/.exec(r.indexdef)![1]}`)).toEqual([
        'catalogsearch_fulltext_scope1 gin',
        'sk_address gist',
        'sk_film_text gin',
        'wp_posts gin',
      ]);
      const near = await pgc.query(
        `SELECT address_id FROM sk_address WHERE location && ST_MakeEnvelope(-113, 49, -112, 50, 0)`,
      );
      expect(near.rows).toEqual([{ address_id: 1 }]);
    } finally {
      await my.end();
      await pgc.end();
    }
  });

  it('--nul bytea: the serialized values keep every byte, NULs included', async () => {
    const my = await sandbox.mysql();
    const pgc = await sandbox.pg();
    try {
      const [source] = await my.query(`SELECT option_id, HEX(option_value) AS hex FROM wp_options ORDER BY option_id`);
      const target =
        await pgc.query(`SELECT option_id, upper(encode(option_value, 'hex')) AS hex, format_type(a.atttypid, a.atttypmod) AS type
                                        FROM wp_options, pg_attribute a WHERE a.attrelid = 'wp_options'::regclass AND a.attname = 'option_value' ORDER BY option_id`);
      expect(target.rows.map((r) => ({ option_id: r.option_id, hex: r.hex }))).toEqual(
        (source as { option_id: string; hex: string }[]).map((r) => ({ option_id: String(r.option_id), hex: r.hex })),
      );
      expect(target.rows[0].type).toBe('bytea');
      const cron = await pgc.query(
        `SELECT position('\\x00'::bytea IN option_value) > 0 AS has_nul, convert_from(option_value, 'UTF8') AS text FROM wp_options WHERE option_name = 'blogname'`,
      );
      expect(cron.rows[0]).toEqual({ has_nul: false, text: 'My “blog”' });
      // The other text columns of the table stay text.
      const name = await pgc.query(
        `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'wp_options'::regclass AND attname = 'option_name'`,
      );
      expect(name.rows[0].t).toBe('character varying(191)');
    } finally {
      await my.end();
      await pgc.end();
    }
  });

  describe('the NUL policies on PHP-serialized options', () => {
    it('reject (the default): the rows go to my2pg.rejected_rows with column and reason, exit 1; --allow-rejects exits 0', async () => {
      const rejected = await sandbox.cli(['run', '--tables', 'wp_options', '--schema', 'nul_reject'], {}, 120_000);
      expect(rejected.code, rejected.stdout + rejected.stderr).toBe(1);
      expect(rejected.stdout).toMatch(
        /rejected: table wp_options, row \{"option_id":"2"\}, column option_value: text holds NUL characters.*--nul bytea.*--nul strip/,
      );
      const pgc = await sandbox.pg();
      try {
        const rows = await pgc.query(
          `SELECT r.key->>'option_id' AS id, r.column_name, r.reason FROM my2pg.rejected_rows r JOIN my2pg.runs u ON u.id = r.run_id WHERE u.target_schema = 'nul_reject' ORDER BY 1`,
        );
        expect(rows.rows.map((r) => [r.id, r.column_name])).toEqual([
          ['2', 'option_value'],
          ['3', 'option_value'],
        ]);
        const kept = await pgc.query(
          `SELECT option_id::text AS id, option_value FROM nul_reject.wp_options ORDER BY option_id`,
        );
        expect(kept.rows).toEqual([
          { id: '1', option_value: 'https://example.org' },
          { id: '4', option_value: 'My “blog”' },
        ]);
      } finally {
        await pgc.end();
      }
      const allowed = await sandbox.cli(
        ['run', '--tables', 'wp_options', '--schema', 'nul_reject', '--allow-rejects'],
        {},
        120_000,
      );
      expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
      expect(allowed.stdout).toContain('rejected: table wp_options');
    });

    it('strip: the NULs are removed, counted, and the report says which table was adjusted', async () => {
      const stripped = await sandbox.cli(
        ['run', '--tables', 'wp_options', '--schema', 'nul_strip', '--nul', 'strip'],
        {},
        120_000,
      );
      expect(stripped.code, stripped.stdout + stripped.stderr).toBe(0);
      expect(stripped.stdout).toContain(
        'adjusted: table wp_options, column option_value: NUL characters removed from 2 values (--nul strip)',
      );
      expect(stripped.stdout).toContain('values: 0 tables exact, 1 with values adjusted by a policy (wp_options)');
      expect(stripped.stdout).toContain('(1 with values adjusted by a policy, listed above)');
      const my = await sandbox.mysql();
      const pgc = await sandbox.pg();
      try {
        const [source] = await my.query(
          `SELECT option_id, REPLACE(option_value, CHAR(0 USING utf8mb4), '') AS v FROM wp_options ORDER BY option_id`,
        );
        const target = await pgc.query(
          `SELECT option_id::text AS option_id, option_value AS v FROM nul_strip.wp_options ORDER BY option_id`,
        );
        expect(target.rows).toEqual(
          (source as { option_id: string; v: string }[]).map((r) => ({ option_id: String(r.option_id), v: r.v })),
        );
        expect(target.rows[2].v).toBe(`${SERIALIZED.replace(/\u0000/g, '')} é`);
      } finally {
        await my.end();
        await pgc.end();
      }
    });

    it('bytea into an existing text column: the rows are rejected with a message that asks for a bytea column', async () => {
      const result = await sandbox.cli(
        ['run', '--tables', 'wp_options', '--schema', 'nul_strip', '--nul', 'bytea'],
        {},
        120_000,
      );
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toMatch(
        /rejected: table wp_options, row \{"option_id":"2"\}, column option_value: .*make the column bytea \(ALTER TABLE/,
      );
    });
  });
});
