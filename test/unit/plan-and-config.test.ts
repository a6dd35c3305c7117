import { describe, expect, it } from 'vitest';
import { loadConfig, redactUrl } from '../../src/config/config.js';
import { UsageError } from '../../src/core/errors.js';
import { matchTargetTable, selectTables, splitNames } from '../../src/vocabulary/table-selection.js';
import { copyJobId } from '../../src/queue/contract.js';
import { shellWord } from '../../src/cli/report.js';

const TABLES = ['alembic_version', 'friendships', 'game_visits', 'monthly_scores', 'scores', 'users'];

describe('table selection', () => {
  it('takes every table but alembic_version, which finalize syncs', () => {
    const { tables, syncAlembic } = selectTables(TABLES, {});
    expect(tables.map((t) => t.table)).toEqual(['friendships', 'game_visits', 'monthly_scores', 'scores', 'users']);
    expect(syncAlembic).toBe(true);
  });
  it('filters with --tables and --exclude', () => {
    expect(selectTables(TABLES, { tables: ['users', 'scores'] }).tables.map((t) => t.table)).toEqual([
      'scores',
      'users',
    ]);
    expect(selectTables(TABLES, { exclude: ['game_visits', 'alembic_version'] })).toEqual({
      tables: ['friendships', 'monthly_scores', 'scores', 'users'].map((table) => ({ table })),
      syncAlembic: false,
    });
  });
  it('lists every unknown name at once', () => {
    expect(() => selectTables(TABLES, { tables: ['users', 'nope'], exclude: ['gone'] })).toThrow(
      /--tables nope, --exclude gone/,
    );
    expect(() => selectTables(TABLES, { tables: ['nope'] })).toThrow(UsageError);
  });
  it("uses the entities' columns", () => {
    expect(selectTables(TABLES, { entities: [{ table: 'users', columns: ['id'] }] }).tables).toEqual([
      { table: 'users', columns: ['id'] },
    ]);
  });
  it('splits comma lists', () => {
    expect(splitNames(['a,b', ' c '])).toEqual(['a', 'b', 'c']);
    expect(splitNames(undefined)).toBeUndefined();
  });
  it('matches target tables exactly, then ignoring case', () => {
    expect(matchTargetTable('Users', ['users'])).toBe('users');
    expect(matchTargetTable('users', ['users', 'Users'])).toBe('users');
    expect(matchTargetTable('x', ['users'])).toBeUndefined();
  });
  it('prints table names in retry commands as one shell word', () => {
    expect(shellWord('users')).toBe('users');
    expect(shellWord("it's $HOME")).toBe(`'it'\\''s $HOME'`);
  });
  it('derives job ids without colons', () => {
    expect(copyJobId('run-1', 'users')).toBe('run-1.users');
    expect(copyJobId('run-1', 'a:b')).toMatch(/^run-1\.t-[0-9a-f]{16}$/);
  });
});

describe('configuration', () => {
  it('builds the MySQL URL from the seed variables and accepts SQLAlchemy URLs', () => {
    const config = loadConfig({}, ['source', 'target', 'queue'], {
      MYSQL_HOST: 'db',
      MYSQL_PORT: '3307',
      MYSQL_USER: 'app',
      MYSQL_PASSWORD: 'p@ss word',
      MYSQL_DATABASE: 'game',
      DATABASE_URL: 'postgresql+psycopg2://u:pw@pg:5432/game',
    });
    expect(config.mysqlUrl).toBe('mysql://app:p%40ss%20word@db:3307/game');
    expect(config.databaseUrl).toBe('postgresql://u:pw@pg:5432/game');
    // No Redis configured: the queue lives in the target, in its own schema.
    expect([config.redisUrl, config.queueBackend, config.queueSchema]).toEqual([undefined, 'postgres', 'my2pg_queue']);
    expect(config.queuePrefix).toBe('my2pg');
    expect(config.schema).toBe('public');
  });
  it('flags win over the environment', () => {
    const config = loadConfig({ source: 'mysql://a@h/x', schema: 'app' }, ['source'], { MYSQL_URL: 'mysql://b@h/y' });
    expect(config.mysqlUrl).toBe('mysql://a@h/x');
    expect(config.schema).toBe('app');
  });
  it('lists every problem at once, with passwords redacted', () => {
    let message = '';
    try {
      loadConfig({}, ['source', 'target', 'queue'], { MYSQL_URL: 'ftp://u:topsecret@h/db', REDIS_URL: 'nonsense' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('no PostgreSQL target');
    expect(message).toContain('must start with mysql://');
    expect(message).toContain('Redis URL');
    expect(message).not.toContain('topsecret');
  });
  it('reads the NUL policy (default reject) and the FULLTEXT configuration (default simple)', () => {
    expect(loadConfig({}, [], {})).toMatchObject({ nulPolicy: 'reject', fulltextConfig: 'simple' });
    expect(loadConfig({}, [], { MY2PG_NUL: 'bytea', MY2PG_FULLTEXT_CONFIG: 'english' })).toMatchObject({
      nulPolicy: 'bytea',
      fulltextConfig: 'english',
    });
    expect(loadConfig({}, [], {})).toMatchObject({ zeroDatePolicy: 'null' });
    expect(loadConfig({}, [], { MY2PG_ZERO_DATE: 'reject' })).toMatchObject({ zeroDatePolicy: 'reject' });
    expect(() => loadConfig({}, [], { MY2PG_ZERO_DATE: 'epoch' })).toThrow(
      /the zero-date policy \(MY2PG_ZERO_DATE or --zero-date\) must be null or reject/,
    );
    expect(() => loadConfig({}, [], { MY2PG_NUL: 'drop' })).toThrow(
      /the NUL policy \(MY2PG_NUL or --nul\) must be reject, strip or bytea/,
    );
  });
  it('reads the worker grace period and the log level, with a default per command', () => {
    const env = { MY2PG_SHUTDOWN_GRACE_MS: '5000' };
    expect(loadConfig({}, [], env).shutdownGraceMs).toBe(5000);
    expect(loadConfig({}, [], {}).shutdownGraceMs).toBe(30000);
    expect(loadConfig({}, [], {}, { logLevel: 'warn' }).logLevel).toBe('warn');
    expect(loadConfig({}, [], { MY2PG_LOG_LEVEL: 'debug' }, { logLevel: 'warn' }).logLevel).toBe('debug');
    expect(() => loadConfig({}, [], { MY2PG_SHUTDOWN_GRACE_MS: 'soon' })).toThrow(
      /MY2PG_SHUTDOWN_GRACE_MS must be a whole number/,
    );
  });
  it('redacts passwords', () => {
    expect(redactUrl('postgresql://u:secret@h:5432/db')).toBe('postgresql://u:***@h:5432/db');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
