import { spawn } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSlowTable,
  expectSameContent,
  queueNamesOf,
  startPrivateRedis,
  stopProcess,
  type PrivateRedis,
} from '../helpers/faults.js';
import { startPrivateRedisCluster, startPrivateSentinel, type PrivateRedisCluster } from '../helpers/redis-cluster.js';
import { BIN, createSandbox, waitForOutput, type Sandbox } from '../helpers/sandbox.js';

// The queue's Redis as teams run it: its eviction policy checked, and a real Redis Cluster.
const TABLES = { a_one: 5_000, b_two: 1_200, c_three: 37 } as const;

let sandbox: Sandbox;

async function targetRows(): Promise<number> {
  const pgc = await sandbox.pg();
  try {
    const counts = await Promise.all(
      Object.keys(TABLES).map(async (t) => Number((await pgc.query(`SELECT count(*) AS n FROM "${t}"`)).rows[0].n)),
    );
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    await pgc.end();
  }
}

async function hasStateSchema(): Promise<boolean> {
  const pgc = await sandbox.pg();
  try {
    return (await pgc.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'my2pg'`)).rowCount === 1;
  } finally {
    await pgc.end();
  }
}

/** Empties the target's tables and drops the state schema, so that a new run starts from nothing. */
async function resetTarget(): Promise<void> {
  const pgc = await sandbox.pg();
  await pgc.query('DROP SCHEMA IF EXISTS my2pg CASCADE');
  for (const t of Object.keys(TABLES)) await pgc.query(`TRUNCATE "${t}"`);
  await pgc.end();
}

async function expectAllCopied(): Promise<void> {
  for (const [table, rows] of Object.entries(TABLES)) await expectSameContent(sandbox, table, rows);
}

/** From an empty target: two workers on `redisUrl`, `start --wait`, every table compared with the source; the workers stopped. */
async function runWithTwoWorkers(redisUrl: string): Promise<void> {
  await resetTarget();
  const env = { REDIS_URL: redisUrl };
  const workers = [sandbox.worker(['--concurrency', '1'], env), sandbox.worker(['--concurrency', '1'], env)];
  try {
    const result = await sandbox.cli(['start', '--wait'], env, 120_000);
    expect(result.code, result.stdout + result.stderr + workers.map((w) => w.output()).join('\n')).toBe(0);
    expect(result.stdout).toMatch(/every table copied and verified/);
    await expectAllCopied();
  } finally {
    for (const worker of workers) expect((await stopProcess(worker)).code).toBe(0);
  }
}

describe('the queue on Redis: eviction policy, Redis Cluster', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('redistopo');
    for (const [table, rows] of Object.entries(TABLES)) await createSlowTable(sandbox, table, rows, 1_000_000);
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  describe('maxmemory-policy', () => {
    let redis: PrivateRedis;
    let admin: Redis;
    beforeAll(async () => {
      redis = await startPrivateRedis(['--maxmemory-policy', 'allkeys-lru']);
      admin = new Redis(redis.url);
    });
    afterAll(async () => {
      admin?.disconnect();
      await redis?.dispose();
    });

    it('allkeys-lru: plan lists the blocker, start and run refuse with exit 2 and write nothing', async () => {
      const env = { REDIS_URL: redis.url };
      const plan = await sandbox.cli(['plan', '--quick'], env);
      expect(plan.code, plan.stdout + plan.stderr).toBe(1);
      expect(plan.stdout).toMatch(/maxmemory-policy allkeys-lru.*set maxmemory-policy noeviction/);
      for (const command of ['start', 'run']) {
        const refused = await sandbox.cli([command], env);
        expect(refused.code, refused.stdout + refused.stderr).toBe(2);
        const lines = refused.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/maxmemory-policy allkeys-lru.*set maxmemory-policy noeviction/);
      }
      expect(await admin.dbsize()).toBe(0);
      expect(await hasStateSchema()).toBe(false);
      expect(await targetRows()).toBe(0);
      // A worker does not refuse (the run was checked at start) but warns at once.
      const worker = sandbox.worker(['--concurrency', '1'], env);
      await waitForOutput(worker, /maxmemory-policy allkeys-lru.*set maxmemory-policy noeviction/);
      await waitForOutput(worker, /worker: ready/);
      expect((await stopProcess(worker)).code).toBe(0);
    });

    it('noeviction: run proceeds and ends exact', async () => {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      const result = await sandbox.cli(['run'], { REDIS_URL: redis.url }, 120_000);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).not.toContain('maxmemory-policy');
      expect(await admin.dbsize()).toBeGreaterThan(0);
      await expectAllCopied();
    });
  });

  it('a Redis refusing CONFIG (managed): start says the policy could not be checked, and goes on', async () => {
    const managed = await startPrivateRedis(['--rename-command', 'CONFIG', '']);
    try {
      const plan = await sandbox.cli(['plan', '--quick'], { REDIS_URL: managed.url });
      expect(plan.stderr).toMatch(/maxmemory-policy .* could not be checked.*make sure it is noeviction/);
      expect(plan.stdout).not.toContain('redis-eviction-policy');
    } finally {
      await managed.dispose();
    }
  });

  describe('on a Redis Cluster of three masters', () => {
    let cluster: PrivateRedisCluster;
    beforeAll(async () => {
      cluster = await startPrivateRedisCluster();
    }, 90_000);
    afterAll(async () => {
      await cluster?.dispose();
    });

    it('a run with two workers ends exact; every queue key carries the prefix as a hash tag', async () => {
      // The workers stop gracefully and exit 0 (BullMQ's blocking connection on a cluster leaves node
      // sockets open after Worker.close(); the process no longer waits for them).
      await runWithTwoWorkers(cluster.url);
      const client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
      try {
        await client.ping();
        const keys = (await Promise.all(client.nodes('master').map((node) => node.keys(`*${sandbox.prefix}*`)))).flat();
        expect(keys.length).toBeGreaterThan(0);
        expect(keys.filter((k) => !k.startsWith(`{${sandbox.prefix}}:`))).toEqual([]);
      } finally {
        client.disconnect();
      }
    });

    it('status and the board read the run from the cluster', async () => {
      const env = { REDIS_URL: cluster.url };
      const status = await sandbox.cli(['status', '--json'], env);
      expect(status.code, status.stderr).toBe(0);
      const tables = (JSON.parse(status.stdout) as { tables: { table: string; status: string }[] }).tables;
      expect(tables.map((t) => [t.table, t.status]).sort()).toEqual(
        Object.keys(TABLES)
          .sort()
          .map((t) => [t, 'verified']),
      );
      const names = await queueNamesOf(sandbox);
      const board = spawn(process.execPath, [BIN, 'board', '--port', '0', '--read-only'], {
        env: { ...sandbox.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let said = '';
      board.stderr.on('data', (d: Buffer) => (said += d.toString()));
      try {
        await waitForOutput({ output: () => said }, /listening on http:\/\/\S+/, 20_000);
        const url = /listening on (http:\/\/\S+)/.exec(said)![1]!;
        const api = (await (await fetch(`${url}api/queues`)).json()) as {
          queues: { name: string; counts: Record<string, number> }[];
        };
        const copy = api.queues.find((q) => q.name === names.copy);
        expect(copy?.counts.completed, JSON.stringify(api.queues)).toBe(Object.keys(TABLES).length);
      } finally {
        expect((await stopProcess(board)).code).toBe(0);
      }
    });
  });

  describe('on a Sentinel group (one master, one replica)', () => {
    let group: PrivateRedisCluster;
    beforeAll(async () => {
      group = await startPrivateSentinel();
    }, 90_000);
    afterAll(async () => {
      await group?.dispose();
    });

    it('a run with two workers through the Sentinel ends exact; the jobs are on the master', async () => {
      await runWithTwoWorkers(group.url);
      const master = new Redis(group.ports[0]!, '127.0.0.1');
      try {
        expect((await master.keys(`${sandbox.prefix}:*`)).length).toBeGreaterThan(0);
      } finally {
        master.disconnect();
      }
    });
  });
});
