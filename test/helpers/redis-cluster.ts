import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../bench/private-mariadb.js';
import { waitUntil } from './faults.js';

/** A private Redis Cluster of a test file: three masters on loopback, no replica. */
export interface PrivateRedisCluster {
  /** REDIS_URL naming the cluster: the first node, the others as seeds. */
  url: string;
  ports: number[];
  dispose(): Promise<void>;
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** SIGKILLs the servers and removes their directory. */
async function killAndRemove(children: readonly ChildProcess[], dir: string): Promise<void> {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await exited;
    }),
  );
  rmSync(dir, { recursive: true, force: true });
}

/** Starts three `redis-server --cluster-enabled yes` and joins them with `redis-cli --cluster create`. */
export async function startPrivateRedisCluster(): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-redis-cluster-'));
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const dispose = (): Promise<void> => killAndRemove(children, dir);
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      // The bus port defaults to port + 10000, which may be taken or out of range: a free one is named.
      const busPort = await freePort();
      ports.push(port);
      children.push(
        spawn(
          'redis-server',
          [
            '--port',
            String(port),
            '--cluster-port',
            String(busPort),
            '--bind',
            '127.0.0.1',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--dir',
            dir,
            '--dbfilename',
            `dump-${port}.rdb`,
            '--save',
            '',
            '--appendonly',
            'no',
            '--protected-mode',
            'no',
          ],
          { stdio: 'ignore' },
        ),
      );
    }
    for (const port of ports) await waitUntil(`redis-server on port ${port}`, () => answers(port), 15_000, 100);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    // The slots are assigned at once, but every node must agree before the cluster answers.
    await waitUntil(
      'the cluster to be ok on every node',
      async () => {
        for (const port of ports) {
          const node = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
          node.on('error', () => undefined);
          try {
            const info = (await node.cluster('INFO')) as string;
            if (!info.includes('cluster_state:ok')) return false;
          } finally {
            node.disconnect();
          }
        }
        return true;
      },
      30_000,
      200,
    );
  } catch (error) {
    await dispose();
    throw error;
  }
  const [first, ...rest] = ports;
  return {
    url: `redis://127.0.0.1:${first}/?cluster&seeds=${rest.map((p) => `127.0.0.1:${p}`).join(',')}`,
    ports,
    dispose,
  };
}

/** A private Sentinel group: one master, one replica, one Sentinel watching them as `mymaster`. */
export async function startPrivateSentinel(): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-redis-sentinel-'));
  const children: ChildProcess[] = [];
  const dispose = (): Promise<void> => killAndRemove(children, dir);
  const [master, replica, sentinel] = [await freePort(), await freePort(), await freePort()];
  const common = ['--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
  try {
    children.push(
      spawn('redis-server', ['--port', String(master), '--dbfilename', 'master.rdb', ...common], { stdio: 'ignore' }),
    );
    children.push(
      spawn(
        'redis-server',
        [
          '--port',
          String(replica),
          '--dbfilename',
          'replica.rdb',
          '--replicaof',
          '127.0.0.1',
          String(master),
          ...common,
        ],
        { stdio: 'ignore' },
      ),
    );
    // Sentinel rewrites its configuration file, so it gets one of its own in the private directory.
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinel}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${dir}`,
        `sentinel monitor mymaster 127.0.0.1 ${master} 1`,
        'sentinel down-after-milliseconds mymaster 2000',
        '',
      ].join('\n'),
    );
    children.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    for (const port of [master, replica, sentinel])
      await waitUntil(`redis on port ${port}`, () => answers(port), 15_000, 100);
    // The Sentinel must know the master (and the replica must be in sync) before clients ask it.
    await waitUntil(
      'the replica to be in sync with the master',
      async () => {
        const node = new Redis(replica, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
        node.on('error', () => undefined);
        try {
          return (await node.info('replication')).includes('master_link_status:up');
        } finally {
          node.disconnect();
        }
      },
      30_000,
      200,
    );
  } catch (error) {
    await dispose();
    throw error;
  }
  return { url: `redis://127.0.0.1:${sentinel}/?sentinel=mymaster`, ports: [master, replica, sentinel], dispose };
}
