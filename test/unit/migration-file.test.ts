import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { readMigrationFile } from '../../src/config/migration-file.js';
import { resolveCommandConfig } from '../../src/cli/command-config.js';
import { resolveRunSettings } from '../../src/cli/run-settings.js';
import { matchNames, selectTables } from '../../src/vocabulary/table-selection.js';
import { resolveExcludedViews } from '../../src/schema/translate/schema-objects.js';
import { parseColumnTypeOverrides, resolveColumnOverrides } from '../../src/schema/type-overrides.js';
import type { SourceObjects } from '../../src/schema/translate/source-objects.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A working directory holding `my2pg.yaml` (or another file) with this text. */
function workdir(text: string, name = 'my2pg.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-file-'));
  dirs.push(dir);
  writeFileSync(join(dir, name), text);
  return dir;
}

/** The message of the UsageError `fn` throws (fails when it throws nothing or something else). */
function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

async function usageErrorOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as Error).message;
}

const ENV = { MYSQL_PASSWORD: 's3cret', PGPASSWORD: 'pgpw' };

describe('the migration file', () => {
  it('the shipped example parses with every key, ${VAR} expanded', () => {
    const file = readMigrationFile(join(ROOT, 'examples/my2pg.yaml'), ENV)!;
    expect(file.source).toBe('mysql://app:s3cret@127.0.0.1:3306/shop');
    expect(file.target).toBe('postgresql://app:pgpw@127.0.0.1:5432/warehouse');
    expect(file.tables).toEqual({ include: ['customers', 'orders', 'order_items', 'product*'], exclude: ['*_tmp'] });
    expect(file.types).toEqual({ 'tinyint(1)': 'boolean', 'int unsigned': 'bigint' });
    expect(file.zeroDate).toBe('null');
    // Every key of the schema is in the example, set or (databases, which excludes schema) commented.
    const text = readFileSync(join(ROOT, 'examples/my2pg.yaml'), 'utf8');
    const known = usageError(() => readMigrationFile('x.yaml', {}, workdir('nosuchkey: 1', 'x.yaml')))
      .match(/known: ([^)]*)/)![1]!
      .split(', ');
    expect(known.length).toBeGreaterThan(15);
    for (const key of known) expect(text, key).toMatch(new RegExp(`^(# )?${key}:`, 'm'));
    for (const key of Object.keys(file).filter((k) => k !== 'path')) expect(known).toContain(key);
    expect(known.filter((k) => !(k in file))).toEqual(['databases']);
  });

  it('reads JSON as well, and my2pg.yaml from the working directory without --config', () => {
    const dir = workdir('{"schema": "app", "batchSize": 10, "verify": "count"}');
    expect(readMigrationFile(undefined, {}, dir)).toMatchObject({
      schema: 'app',
      batchSize: 10,
      verify: 'count',
      path: 'my2pg.yaml',
    });
    expect(readMigrationFile(undefined, {}, workdir('x: 1', 'other.yaml'))).toBeUndefined();
    expect(usageError(() => readMigrationFile('missing.yaml', {}, dir))).toMatch(
      /migration file missing.yaml not found/,
    );
  });

  it.each([
    [
      'unknown key at the top level',
      'sauce: mysql://x/y\n',
      /\(top level\): unknown key "sauce" \(known: source, target/,
    ],
    ['unknown nested key', 'tables:\n  includes: [a]\n', /tables: unknown key "includes" \(known: include, exclude\)/],
    [
      'unknown key under rename',
      'rename:\n  table: {a: b}\n',
      /rename: unknown key "table" \(known: tables, columns\)/,
    ],
    ['wrong type', 'batchSize: lots\n', /batchSize: .*expected number/],
    ['wrong type in a list', 'tables:\n  include: [a, 3]\n', /tables\.include\[1\]: .*expected string/],
    ['bad enum value', 'verify: sha256\n', /verify: .*"checksum"\|"count"\|"none"/],
    ['bad identifierCase', 'identifierCase: upper\n', /identifierCase: .*"keep"\|"lower"\|"snake"/],
    [
      'unset variable',
      'source: mysql://u:${NOT_SET_ANYWHERE}@h/db\n',
      /source: \$\{NOT_SET_ANYWHERE\} is not set in the environment or \.env/,
    ],
    [
      'two databases into one schema',
      'databases: {shop: app, blog: app}\n',
      /databases: shop and blog both go into schema app/,
    ],
    ['schema and databases', 'schema: a\ndatabases: {shop: shop}\n', /schema: give either schema .* or databases/],
    [
      'a name too long for PostgreSQL',
      `databases: {shop: ${'s'.repeat(64)}}\n`,
      /databases\.shop: is longer than 63 bytes/,
    ],
  ])('reports %s with its path, exit 2', (_what, text, expected) => {
    const message = usageError(() => readMigrationFile('bad.yaml', {}, workdir(text, 'bad.yaml')));
    expect(message).toMatch(/^migration file bad.yaml: /);
    expect(message).toMatch(expected);
  });

  it('reports a file that is not YAML with the line', () => {
    expect(usageError(() => readMigrationFile('bad.yaml', {}, workdir('schema: a\ntables: [a\n', 'bad.yaml')))).toMatch(
      /^migration file bad.yaml is not valid YAML or JSON: .* at line \d+, column \d+$/,
    );
  });

  it('reports every problem at once', () => {
    const message = usageError(() =>
      readMigrationFile('bad.yaml', {}, workdir('verify: x\nbatchSize: -1\nnope: 1\n', 'bad.yaml')),
    );
    expect(message).toMatch(/verify: /);
    expect(message).toMatch(/batchSize: /);
    expect(message).toMatch(/unknown key "nope"/);
  });

  it('an unqualified per-table key beside databases is named', async () => {
    const dir = workdir(
      'source: mysql://root@h/x\ntarget: postgresql://u@h/db\ndatabases: {shop: shop, blog: blog}\ncolumnTypes:\n  users.bio: text\n  shop.orders.note: text\nwhere:\n  posts: id > 1\n',
    );
    const message = await usageErrorOf(resolveRunSettings({}, {}, { env: {}, cwd: dir }));
    expect(message).toMatch(
      /columnTypes\.users\.bio: in a file with databases, name the table as DATABASE\.TABLE \(one of shop, blog\)/,
    );
    expect(message).toMatch(/where\.posts: /);
    expect(message).not.toMatch(/shop\.orders/);
  });
});

describe('precedence: flags, then the file, then the environment, then defaults', () => {
  const env = {
    MYSQL_URL: 'mysql://env@envhost:3306/envdb',
    DATABASE_URL: 'postgresql://env@envhost/envdb',
    MY2PG_SCHEMA: 'envschema',
    MY2PG_NUL: 'strip',
    MY2PG_ENUM: 'check',
  };

  it('the file wins over the environment, flags over the file; defaults fill the rest', async () => {
    const dir = workdir(
      'source: mysql://file@filehost:3306/filedb\nschema: fileschema\nnul: bytea\nbatchSize: 100\nverify: count\ntables:\n  include: [a, b]\n',
    );
    const [fromFile] = await resolveRunSettings({}, {}, { env, cwd: dir });
    expect(fromFile!.config.mysqlUrl).toBe('mysql://file@filehost:3306/filedb');
    expect(fromFile!.config.databaseUrl).toBe('postgresql://env@envhost/envdb');
    expect(fromFile!.config.schema).toBe('fileschema');
    expect(fromFile!.input).toMatchObject({
      nul: 'bytea',
      enumMode: 'check',
      batchSize: 100,
      verify: 'count',
      tables: ['a', 'b'],
      rangeRows: undefined,
    });
    expect(fromFile!.input.origins?.tables).toBe('tables.include');

    const [fromFlags] = await resolveRunSettings(
      { source: 'mysql://flag@flaghost:3306/flagdb', schema: 'flagschema' },
      { nul: 'reject', batchSize: 7, verify: 'none', tables: ['c'] },
      { env, cwd: dir },
    );
    expect(fromFlags!.config.mysqlUrl).toBe('mysql://flag@flaghost:3306/flagdb');
    expect(fromFlags!.config.schema).toBe('flagschema');
    expect(fromFlags!.input).toMatchObject({ nul: 'reject', batchSize: 7, verify: 'none', tables: ['c'] });
    expect(fromFlags!.input.origins?.tables).toBe('--tables');

    const [defaults] = await resolveRunSettings(
      {},
      {},
      { env: { MYSQL_URL: 'mysql://e@h/db', DATABASE_URL: 'postgresql://e@h/db' }, cwd: workdir('{}') },
    );
    expect(defaults!.config.schema).toBe('public');
    expect(defaults!.input).toMatchObject({
      nul: 'reject',
      enumMode: 'type',
      batchSize: 5000,
      verify: undefined,
      tables: undefined,
    });
  });

  it('--config names another file', async () => {
    const dir = workdir('schema: other\n', 'other.yml');
    writeFileSync(join(dir, 'my2pg.yaml'), 'schema: default\n');
    const [settings] = await resolveRunSettings({}, { config: 'other.yml' }, { env, cwd: dir });
    expect(settings!.config.schema).toBe('other');
    expect(settings!.file).toBe('other.yml');
  });

  it("labels the file's overrides with their keys", async () => {
    const dir = workdir('types:\n  "tinyint(1)": "bool; drop"\n');
    expect(await usageErrorOf(resolveRunSettings({}, {}, { env, cwd: dir }))).toMatch(
      /types\.tinyint\(1\): "bool; drop" is not a PostgreSQL type name/,
    );
    const [settings] = await resolveRunSettings({}, {}, { env, cwd: workdir('columnTypes:\n  users.nope: text\n') });
    const overrides = settings!.input.columnTypeOverrides!;
    expect(usageError(() => resolveColumnOverrides(overrides, [{ name: 'users', columns: [{ name: 'id' }] }]))).toMatch(
      /columnTypes\.users\.nope: the MySQL source has no such table\.column/,
    );
  });

  it('databases: one run per database, URL and schema replaced, db.table keys taken apart', async () => {
    const dir = workdir(
      [
        'source: mysql://root:${MYSQL_PASSWORD}@127.0.0.1:3306/',
        'target: postgresql://u@h/db',
        'databases: {shop: shop_pg, blog: blog_pg}',
        'tables:',
        '  include: [shop.orders, "wp_*"]',
        '  exclude: [blog.wp_cache]',
        'columnTypes:',
        '  shop.orders.note: text',
        'where:',
        '  blog.wp_posts: "status = \'publish\'"',
      ].join('\n'),
    );
    const [shop, blog] = await resolveRunSettings({}, {}, { env: ENV, cwd: dir });
    expect(shop!.config.mysqlUrl).toBe('mysql://root:s3cret@127.0.0.1:3306/shop');
    expect(blog!.config.mysqlUrl).toBe('mysql://root:s3cret@127.0.0.1:3306/blog');
    expect([shop!.config.schema, blog!.config.schema]).toEqual(['shop_pg', 'blog_pg']);
    expect([shop!.database, blog!.database]).toEqual(['shop', 'blog']);
    expect(shop!.input).toMatchObject({
      targetSchema: 'shop_pg',
      tables: ['orders', 'wp_*'],
      exclude: undefined,
      where: {},
    });
    expect(blog!.input).toMatchObject({
      targetSchema: 'blog_pg',
      tables: ['wp_*'],
      exclude: ['wp_cache'],
      where: { wp_posts: "status = 'publish'" },
    });
    expect(shop!.input.columnTypeOverrides).toEqual([
      { spec: 'orders.note', pgType: 'text', label: 'columnTypes.shop.orders.note' },
    ]);
    expect(blog!.input.columnTypeOverrides).toEqual([]);
    expect(blog!.input.origins?.exclude).toBe('tables.exclude (database blog)');
    expect(await usageErrorOf(resolveRunSettings({ schema: 'x' }, {}, { env: ENV, cwd: dir }))).toMatch(
      /--schema: the file gives each database its schema/,
    );
  });

  it('other commands read target, redis and schema from the file; with databases --schema or a run id picks one', () => {
    const single = workdir(
      'source: mysql://u:${UNSET_FOR_STATUS}@h/db\ntarget: postgresql://file@h/db\nredis: redis://filehost:6380\nschema: app\n',
    );
    // status needs no source, so its unset variable does not matter there.
    const status = resolveCommandConfig({}, ['target', 'queue'], { env: {}, cwd: single });
    expect(status.config).toMatchObject({
      databaseUrl: 'postgresql://file@h/db',
      redisUrl: 'redis://filehost:6380',
      queueBackend: 'redis',
      schema: 'app',
      mysqlUrl: undefined,
    });
    expect(
      resolveCommandConfig({ schema: 'flag', redis: 'redis://flag:1' }, ['target', 'queue'], { env: {}, cwd: single })
        .config,
    ).toMatchObject({ schema: 'flag', redisUrl: 'redis://flag:1' });
    expect(usageError(() => resolveCommandConfig({}, ['source', 'target'], { env: {}, cwd: single }))).toMatch(
      /source: \$\{UNSET_FOR_STATUS\} is not set/,
    );

    const multi = workdir(
      'source: mysql://root@h:3306/\ntarget: postgresql://file@h/db\ndatabases: {shop: shop_pg, blog: blog_pg}\n',
    );
    expect(usageError(() => resolveCommandConfig({}, ['target', 'queue'], { env: {}, cwd: multi }))).toMatch(
      /lists several databases \(shop → shop_pg, blog → blog_pg\): pass --schema SCHEMA or a run id to pick one/,
    );
    const worker = resolveCommandConfig({ schema: 'blog_pg' }, ['source', 'target', 'queue'], { env: {}, cwd: multi });
    expect(worker.config).toMatchObject({ mysqlUrl: 'mysql://root@h:3306/blog', schema: 'blog_pg' });
    expect(usageError(() => resolveCommandConfig({ schema: 'nope' }, ['target'], { env: {}, cwd: multi }))).toMatch(
      /--schema nope is none of the schemas/,
    );
    const byRun = resolveCommandConfig({}, ['source', 'target'], { env: {}, cwd: multi, runId: 'run-1' });
    expect(byRun.forRun({ sourceDatabase: 'shop', targetSchema: 'shop_pg' })).toMatchObject({
      mysqlUrl: 'mysql://root@h:3306/shop',
      schema: 'shop_pg',
    });
    // The board shows every target: no choice needed. No `redis:` in the file: the queue is in the target.
    expect(resolveCommandConfig({}, ['queue'], { env: {}, cwd: multi, pickSchema: false }).config).toMatchObject({
      redisUrl: undefined,
      queueBackend: 'postgres',
      databaseUrl: 'postgresql://file@h/db',
    });
  });
});

describe('names or globs', () => {
  const TABLES = ['alembic_version', 'cache_a', 'cache_bb', 'users', 'wp_posts', 'wp_users', 'WP_OLD', 'a*b'];

  it('include and exclude take picomatch globs, case-sensitively', () => {
    const pick = (request: Parameters<typeof selectTables>[1]) =>
      selectTables(TABLES, request).tables.map((t) => t.table);
    expect(pick({ tables: ['wp_*'] })).toEqual(['wp_posts', 'wp_users']);
    expect(pick({ tables: ['cache_?'] })).toEqual(['cache_a']);
    expect(pick({ tables: ['{users,cache_bb}'] })).toEqual(['cache_bb', 'users']);
    expect(pick({ exclude: ['wp_*', 'cache_*', 'no_match_*'] })).toEqual(['users', 'WP_OLD', 'a*b']);
    // A known name is itself even when it holds glob characters.
    expect(pick({ tables: ['a*b'] })).toEqual(['a*b']);
  });

  it('an unknown name or an include glob matching nothing is named; an empty exclude glob is fine', () => {
    expect(usageError(() => selectTables(TABLES, { tables: ['nope', 'zz_*'], exclude: ['gone', 'yy_*'] }))).toMatch(
      /--tables nope, --tables zz_\* \(matches nothing\), --exclude gone \(/,
    );
    expect(
      usageError(() => selectTables(TABLES, { tables: ['Users'], origins: { tables: 'tables.include' } })),
    ).toMatch(/unknown table in the MySQL source: tables.include Users/);
    expect(matchNames(['x_*'], TABLES, true)).toEqual({ matched: new Set(), unknown: [] });
  });

  it('alembic_version follows an include glob', () => {
    expect(selectTables(TABLES, { tables: ['alembic_*'] }).syncAlembic).toBe(true);
    expect(selectTables(TABLES, { exclude: ['alembic*'] }).syncAlembic).toBe(false);
  });

  it('excluded views take globs; an unknown exact name is named', () => {
    const objects = { views: [{ name: 'v_a' }, { name: 'v_b' }, { name: 'report' }] } as unknown as SourceObjects;
    expect(resolveExcludedViews(objects, ['v_*', 'none_*'])).toEqual({ views: ['v_a', 'v_b'], unknown: [] });
    expect(resolveExcludedViews(objects, ['report', 'missing'])).toEqual({ views: ['report'], unknown: ['missing'] });
  });

  it('--column-type keeps its flag wording', () => {
    expect(
      usageError(() =>
        resolveColumnOverrides(parseColumnTypeOverrides(['users.nope=text']), [{ name: 'users', columns: [] }]),
      ),
    ).toMatch(/--column-type "users.nope": the MySQL source has no such table\.column$/);
  });
});
