import { describe, expect, it } from 'vitest';
import { beginStatement, READING_SETTINGS, writerSettings } from '../../src/dialect/postgres/transaction.js';

describe('beginStatement: the one way a transaction is opened', () => {
  it.each([
    [{}, 'BEGIN'],
    [{ readOnly: true }, 'BEGIN READ ONLY'],
    [{ repeatableRead: true, readOnly: true }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'],
    [
      { snapshot: '00000003-0000001B-1' },
      "BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT '00000003-0000001B-1'",
    ],
    [
      { settings: { lock_timeout: '5s', search_path: 'pg_catalog' } },
      "BEGIN; SET LOCAL lock_timeout = '5s'; SET LOCAL search_path = 'pg_catalog'",
    ],
    [{ settings: { search_path: "it's" } }, "BEGIN; SET LOCAL search_path = 'it''s'"],
  ])('%j → %s', (mode, sql) => {
    expect(beginStatement(mode)).toBe(sql);
  });

  it('the snapshot is imported before any setting, as PostgreSQL requires', () => {
    const sql = beginStatement({ readOnly: true, snapshot: 'AB-1', settings: READING_SETTINGS });
    expect(sql.split('; ').slice(0, 2)).toEqual([
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      "SET TRANSACTION SNAPSHOT 'AB-1'",
    ]);
    expect(sql).toContain("SET LOCAL datestyle = 'ISO, YMD'");
  });

  it('the follower sets the replication role only when asked (a superuser target role)', () => {
    expect(beginStatement({ settings: writerSettings('follower', true) })).toBe(
      "BEGIN; SET LOCAL timezone = 'UTC'; SET LOCAL lock_timeout = '60s'; SET LOCAL my2pg.writer = 'follower'; SET LOCAL session_replication_role = 'replica'",
    );
    expect(beginStatement({ settings: writerSettings('copy') })).not.toContain('session_replication_role');
  });

  it('refuses what would not be a snapshot id or a setting name', () => {
    expect(() => beginStatement({ snapshot: "1'; DROP TABLE t; --" })).toThrow(/not a snapshot id/);
    expect(() => beginStatement({ settings: { 'a; DROP': 'x' } })).toThrow(/not a setting name/);
  });
});
