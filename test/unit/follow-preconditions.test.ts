import { describe, expect, it } from 'vitest';
import {
  compareBinlogPositions,
  replicationGrantsOf,
  type BinlogSettings,
  type ReplicationGrants,
} from '../../src/dialect/mysql/binlog.js';
import type { SourceIndex, SourceTable } from '../../src/dialect/mysql/catalog.js';
import { followKeyOf, followPreconditionProblems } from '../../src/follow/preconditions.js';
import { src } from '../helpers/columns.js';

/** A table of int columns: `name!` is NOT NULL, `name` nullable. */
function table(
  name: string,
  columns: string[],
  primaryKey: string[] = [],
  indexes: Partial<SourceIndex>[] = [],
): SourceTable {
  return {
    name,
    columns: columns.map((c) => src('int', { name: c.replace(/!$/, ''), nullable: !c.endsWith('!') })),
    primaryKey,
    indexes: indexes.map((i, n) => ({
      name: `i${n}`,
      unique: true,
      columns: [],
      kind: 'BTREE',
      partial: false,
      subParts: (i.columns ?? []).map(() => null),
      functional: false,
      ...i,
    })),
    foreignKeys: [],
    autoIncrement: null,
    estimatedRows: 0,
    comment: '',
  };
}

const GOOD_SETTINGS: BinlogSettings = {
  flavor: 'mariadb',
  logBin: true,
  format: 'ROW',
  rowImage: 'FULL',
  retentionSeconds: 0,
  serverId: 1,
};
const ALL_GRANTS: ReplicationGrants = { replicationSlave: true, replicationClient: true };
const KEYED = table('users', ['id!', 'name'], ['id']);

describe('followKeyOf', () => {
  it('is the primary key when there is one', () => {
    expect(followKeyOf(table('t', ['a!', 'b!', 'c'], ['a', 'b'], [{ columns: ['c'] }]))).toEqual(['a', 'b']);
  });
  it('else the first unique index whose columns are all NOT NULL and whole', () => {
    expect(followKeyOf(table('t', ['a', 'b!', 'c!'], [], [{ columns: ['a', 'b'] }, { columns: ['b', 'c'] }]))).toEqual([
      'b',
      'c',
    ]);
    expect(followKeyOf(table('t', ['a!', 'b!'], [], [{ columns: ['a'], unique: false }, { columns: ['b'] }]))).toEqual([
      'b',
    ]);
  });
  it('refuses a unique key with a nullable column', () => {
    expect(followKeyOf(table('t', ['a!', 'b'], [], [{ columns: ['a', 'b'] }]))).toBeNull();
  });
  it('refuses a prefix or functional unique key', () => {
    expect(followKeyOf(table('t', ['a!'], [], [{ columns: ['a'], subParts: [10], partial: true }]))).toBeNull();
    // Prefix lengths alone are enough to refuse, even if the partial flag were missing.
    expect(followKeyOf(table('t', ['a!'], [], [{ columns: ['a'], subParts: [10] }]))).toBeNull();
    expect(followKeyOf(table('t', ['a!'], [], [{ columns: ['a'], functional: true, partial: true }]))).toBeNull();
  });
  it('is null without a primary or unique key', () => {
    expect(followKeyOf(table('t', ['a!', 'b!'], [], [{ columns: ['a'], unique: false }]))).toBeNull();
    expect(followKeyOf(table('t', ['a!']))).toBeNull();
  });
});

describe('followPreconditionProblems', () => {
  const problems = (over: Partial<Parameters<typeof followPreconditionProblems>[0]> = {}) =>
    followPreconditionProblems({
      settings: GOOD_SETTINGS,
      grants: ALL_GRANTS,
      tables: [KEYED],
      estimatedCopySeconds: 60,
      ...over,
    });

  it('finds nothing when every precondition holds', () => {
    expect(problems()).toEqual([]);
  });

  it('binary log off: only that binary log problem, plus keys and privileges', () => {
    const found = problems({
      settings: { ...GOOD_SETTINGS, logBin: false, format: 'STATEMENT', rowImage: 'MINIMAL', retentionSeconds: 60 },
      grants: { replicationSlave: false, replicationClient: true },
      tables: [KEYED, table('log', ['line'])],
    });
    expect(found.map((p) => p.check)).toEqual(['binlog-off', 'no-key', 'privileges']);
    expect(found[0]!.message).toMatch(/^binary log is off on the source: start it with log_bin/);
  });

  it('format must be ROW', () => {
    const [found, ...rest] = problems({ settings: { ...GOOD_SETTINGS, format: 'MIXED' } });
    expect(rest).toEqual([]);
    expect(found!.check).toBe('binlog-format');
    expect(found!.message).toMatch(/^binary log format is MIXED/);
    expect(found!.message).toContain("SET GLOBAL binlog_format = 'ROW'");
    expect(found!.message).toContain('binlog_format=ROW in my.cnf');
  });

  it('row image must be FULL', () => {
    const found = problems({ settings: { ...GOOD_SETTINGS, rowImage: 'MINIMAL' } });
    expect(found.map((p) => p.check)).toEqual(['binlog-row-image']);
    expect(found[0]!.message).toMatch(/^binary log row image is MINIMAL/);
    expect(found[0]!.message).toContain("SET GLOBAL binlog_row_image = 'FULL'");
  });

  it('one no-key problem per table without a key, naming it and the fix', () => {
    const found = problems({
      tables: [table('audit_log', ['line']), KEYED, table('events', ['a', 'b!'], [], [{ columns: ['a'] }])],
    });
    expect(found.map((p) => p.check)).toEqual(['no-key', 'no-key']);
    expect(found[0]!.message).toMatch(/^table audit_log has no primary key/);
    expect(found[1]!.message).toMatch(/^table events has no primary key/);
    for (const p of found)
      expect(p.message).toMatch(/add a PRIMARY KEY or a NOT NULL UNIQUE key.*or exclude the table/);
  });

  it('privileges: names what is missing and gives the GRANT', () => {
    const client = problems({ grants: { replicationSlave: true, replicationClient: false } });
    expect(client.map((p) => p.check)).toEqual(['privileges']);
    expect(client[0]!.message).toMatch(/^the source user lacks REPLICATION CLIENT/);
    expect(client[0]!.message).not.toContain('lacks REPLICATION SLAVE');
    expect(client[0]!.message).toContain('GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ');
    const both = problems({ grants: { replicationSlave: false, replicationClient: false }, user: "'my2pg'@'%'" });
    expect(both[0]!.message).toMatch(/^the source user lacks REPLICATION SLAVE and REPLICATION CLIENT/);
    expect(both[0]!.message).toContain("GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'my2pg'@'%'");
  });

  it('retention: at least an hour, and three times the estimated copy', () => {
    // Never purged: fine whatever the copy takes.
    expect(problems({ settings: { ...GOOD_SETTINGS, retentionSeconds: 0 }, estimatedCopySeconds: 1e6 })).toEqual([]);
    expect(problems({ settings: { ...GOOD_SETTINGS, retentionSeconds: 3600 }, estimatedCopySeconds: 60 })).toEqual([]);
    expect(problems({ settings: { ...GOOD_SETTINGS, retentionSeconds: 3600 }, estimatedCopySeconds: 1200 })).toEqual(
      [],
    );
    const short = problems({ settings: { ...GOOD_SETTINGS, retentionSeconds: 1800 }, estimatedCopySeconds: 60 });
    expect(short.map((p) => p.check)).toEqual(['retention']);
    expect(short[0]!.message).toMatch(/^binary logs are kept 1800 s/);
    expect(short[0]!.message).toContain('SET GLOBAL binlog_expire_logs_seconds = 3600');
    const long = problems({ settings: { ...GOOD_SETTINGS, retentionSeconds: 86_400 }, estimatedCopySeconds: 40_000 });
    expect(long.map((p) => p.check)).toEqual(['retention']);
    expect(long[0]!.message).toContain('86400 s');
    expect(long[0]!.message).toContain('120000 s');
    expect(long[0]!.message).toContain('SET GLOBAL binlog_expire_logs_seconds = 120000');
    expect(long[0]!.message).toContain('expire_logs_days = 2');
  });
});

describe('replicationGrantsOf', () => {
  const none = { replicationSlave: false, replicationClient: false };
  const both = { replicationSlave: true, replicationClient: true };

  it.each<[string, string[], ReplicationGrants]>([
    [
      'MariaDB root',
      [
        'GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION',
        'GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION',
      ],
      both,
    ],
    [
      'MariaDB replication user',
      [
        "GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `cdc`@`%` IDENTIFIED BY PASSWORD '*94BDCEBE19083CE2A1F959FD02F964C7AF4CFC29'",
      ],
      both,
    ],
    [
      'MariaDB 10.5+ REPLICA spelling',
      ['GRANT REPLICATION REPLICA ON *.* TO `cdc`@`%`'],
      { replicationSlave: true, replicationClient: false },
    ],
    ['MariaDB SELECT only', ['GRANT USAGE ON *.* TO `reader`@`%`', 'GRANT SELECT ON `shop`.* TO `reader`@`%`'], none],
    [
      'MySQL 8 replication user with dynamic privileges',
      [
        'GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `debezium`@`%`',
        'GRANT BACKUP_ADMIN,REPLICATION_SLAVE_ADMIN ON *.* TO `debezium`@`%`',
      ],
      both,
    ],
    [
      'MySQL 8 REPLICATION_SLAVE_ADMIN is not REPLICATION SLAVE',
      ['GRANT USAGE ON *.* TO `u`@`%`', 'GRANT REPLICATION_SLAVE_ADMIN ON *.* TO `u`@`%`'],
      none,
    ],
    [
      'grants on one database do not count',
      [
        'GRANT USAGE ON *.* TO `u`@`%`',
        'GRANT ALL PRIVILEGES ON `shop`.* TO `u`@`%`',
        'GRANT REPLICATION SLAVE ON `shop`.* TO `u`@`%`',
      ],
      none,
    ],
    [
      'grants spread over lines',
      [
        'GRANT REPLICATION CLIENT ON *.* TO `u`@`%`',
        'GRANT SELECT, INSERT ON `shop`.* TO `u`@`%`',
        'GRANT REPLICATION SLAVE ON *.* TO `u`@`%` WITH GRANT OPTION',
      ],
      both,
    ],
    [
      'a column grant and a role grant',
      ['GRANT SELECT (`on`, `to`), UPDATE (`x`) ON `shop`.`t` TO `u`@`%`', 'GRANT `replicator`@`%` TO `u`@`%`'],
      none,
    ],
    ['lower case, odd spacing', ['grant   replication   slave ,replication client on *.* to u@localhost'], both],
    ['a user named like a privilege', ['GRANT USAGE ON *.* TO `REPLICATION SLAVE`@`%`'], none],
    ['a procedure grant', ['GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u`@`%`'], none],
  ])('%s', (_name, lines, expected) => {
    expect(replicationGrantsOf(lines)).toEqual(expected);
  });
});

describe('compareBinlogPositions', () => {
  it('orders by the numeric suffix of the file, then the position', () => {
    expect(
      compareBinlogPositions({ file: 'binlog.000009', position: 900 }, { file: 'binlog.000010', position: 4 }),
    ).toBeLessThan(0);
    expect(
      compareBinlogPositions({ file: 'mysql-bin.999999', position: 4 }, { file: 'mysql-bin.1000000', position: 4 }),
    ).toBeLessThan(0);
    expect(
      compareBinlogPositions({ file: 'binlog.000010', position: 500 }, { file: 'binlog.000010', position: 400 }),
    ).toBeGreaterThan(0);
    expect(
      compareBinlogPositions({ file: 'binlog.000010', position: 400 }, { file: 'binlog.000010', position: 400 }),
    ).toBe(0);
  });
});
