import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  compareBinlogPositions,
  readBinlogPosition,
  readBinlogSettings,
  readReplicationGrants,
} from '../../src/dialect/mysql/binlog.js';
import { createSourceDataSource } from '../../src/dialect/mysql/connection.js';
import { followPreconditionProblems } from '../../src/follow/preconditions.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';

const SERVER_ID = 4242;

async function open(url: string): Promise<DataSource> {
  return createSourceDataSource(url, 1).initialize();
}

/** The private server's URL for another account. */
function urlAs(server: PrivateMariadb, user: string, password: string): string {
  return `mysql://${user}:${password}@127.0.0.1:${server.port}/`;
}

describe('binary log settings of a MariaDB with the binary log on', () => {
  let server: PrivateMariadb;
  let root: DataSource;
  const others: DataSource[] = [];

  beforeAll(async () => {
    const started = Date.now();
    server = await startPrivateMariadb({ serverId: SERVER_ID });
    process.stderr.write(`private MariaDB started in ${Date.now() - started} ms\n`);
    root = await open(server.url);
  });

  afterAll(async () => {
    for (const ds of [root, ...others]) await ds?.destroy().catch(() => undefined);
    await server?.stop();
  });

  it('reads log_bin, ROW, FULL, the server id and no automatic purge', async () => {
    expect(await readBinlogSettings(root)).toEqual({
      flavor: 'mariadb',
      logBin: true,
      format: 'ROW',
      rowImage: 'FULL',
      retentionSeconds: 0,
      serverId: SERVER_ID,
    });
  });

  it('reads a position that moves forward after an INSERT, with the GTID', async () => {
    const before = await readBinlogPosition(root);
    expect(before.file).toMatch(/^binlog\.\d{6}$/);
    expect(before.position).toBeGreaterThan(0);
    await root.query('CREATE DATABASE shop');
    await root.query('CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))');
    await root.query("INSERT INTO shop.items VALUES (1, 'one')");
    const after = await readBinlogPosition(root);
    expect(compareBinlogPositions(after, before)).toBeGreaterThan(0);
    expect(after.gtid).not.toBeNull();
    // domain-server-sequence; three transactions logged by this server.
    expect(after.gtid).toBe(`0-${SERVER_ID}-3`);
  });

  it('sees replication grants on *.* only', async () => {
    await root.query("CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'");
    await root.query("GRANT SELECT ON *.* TO 'reader'@'%'");
    await root.query("CREATE USER 'shopper'@'%' IDENTIFIED BY 'pw'");
    await root.query("GRANT ALL PRIVILEGES ON shop.* TO 'shopper'@'%'");
    await root.query("CREATE USER 'cdc'@'%' IDENTIFIED BY 'pw'");
    await root.query("GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'cdc'@'%'");
    // In MariaDB 10.11 REPLICATION CLIENT is another name for BINLOG MONITOR.
    await root.query("CREATE USER 'client'@'%' IDENTIFIED BY 'pw'");
    await root.query("GRANT REPLICATION CLIENT ON *.* TO 'client'@'%'");
    const grantsOf = async (user: string) => {
      const ds = await open(urlAs(server, user, 'pw'));
      others.push(ds);
      return readReplicationGrants(ds);
    };
    expect(await grantsOf('reader')).toEqual({ replicationSlave: false, replicationClient: false });
    expect(await grantsOf('shopper')).toEqual({ replicationSlave: false, replicationClient: false });
    expect(await grantsOf('cdc')).toEqual({ replicationSlave: true, replicationClient: true });
    expect(await grantsOf('client')).toEqual({ replicationSlave: false, replicationClient: true });
    expect(await readReplicationGrants(root)).toEqual({ replicationSlave: true, replicationClient: true });
  });

  it('follows changes of the global format and retention', async () => {
    await root.query("SET GLOBAL binlog_format = 'STATEMENT'");
    await root.query('SET GLOBAL binlog_expire_logs_seconds = 1800');
    const settings = await readBinlogSettings(root);
    expect(settings).toMatchObject({ format: 'STATEMENT', retentionSeconds: 1800 });
    const problems = followPreconditionProblems({
      settings,
      grants: await readReplicationGrants(root),
      tables: [],
      estimatedCopySeconds: 600,
    });
    expect(problems.map((p) => p.check)).toEqual(['binlog-format', 'retention']);
    await root.query("SET GLOBAL binlog_format = 'ROW'");
    await root.query('SET GLOBAL binlog_expire_logs_seconds = 0');
    expect(await readBinlogSettings(root)).toMatchObject({ format: 'ROW', retentionSeconds: 0 });
  });
});

describe('binary log settings of a server without the binary log', () => {
  it('a private MariaDB started with it off, MIXED, MINIMAL says so', async () => {
    const server = await startPrivateMariadb({ binlog: false, format: 'MIXED', rowImage: 'MINIMAL', serverId: 7 });
    const ds = await open(server.url);
    try {
      const settings = await readBinlogSettings(ds);
      expect(settings).toEqual({
        flavor: 'mariadb',
        logBin: false,
        format: 'MIXED',
        rowImage: 'MINIMAL',
        retentionSeconds: 0,
        serverId: 7,
      });
      await expect(readBinlogPosition(ds)).rejects.toThrow(/^binary log is off on the source/);
      expect(
        followPreconditionProblems({
          settings,
          grants: await readReplicationGrants(ds),
          tables: [],
          estimatedCopySeconds: 0,
        }).map((p) => p.check),
      ).toEqual(['binlog-off']);
    } finally {
      await ds.destroy();
      await server.stop();
    }
  });

  it('the shared MariaDB reports the binary log off', async () => {
    const { mysqlUrl } = inject('services');
    const ds = await open(mysqlUrl);
    try {
      expect(await readBinlogSettings(ds)).toMatchObject({ flavor: 'mariadb', logBin: false });
      await expect(readBinlogPosition(ds)).rejects.toThrow(/binary log is off/);
    } finally {
      await ds.destroy();
    }
  });
});
