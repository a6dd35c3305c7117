/**
 * The queue of a sandbox, whichever backend the tests run on (MY2PG_TEST_QUEUE: `postgres`, the
 * product's default without REDIS_URL, or `redis`): its jobs through the product's own backend
 * seam, and what it holds, read straight from Redis or from the target's queue schema.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { openQueueBackend } from '../../src/queue/open-queue-backend.js';
import type { AnyQueue, QueueBackend } from '../../src/queue/queue-backend.js';
import { queueNamesOf } from './faults.js';
import type { Sandbox } from './sandbox.js';

/** The schema holding a sandbox's queue on PostgreSQL (the product's default). */
const TEST_QUEUE_SCHEMA = 'my2pg_queue';

/**
 * A backend on the sandbox's queue, or on the Redis at `redisUrl` when one is given (a private
 * Redis); `extraEnv` as a command of the test would get it (another prefix).
 */
export function sandboxBackend(sandbox: Sandbox, redisUrl?: string, extraEnv: NodeJS.ProcessEnv = {}): QueueBackend {
  const env = { ...sandbox.env, ...extraEnv, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
  // Worker settings: its Redis connection retries for ever, so a test outlives a Redis restart.
  return openQueueBackend(loadConfig({}, ['queue'], env), { role: 'worker', onError: () => undefined });
}

/** The copy queue of a sandbox's target schema, on the sandbox's queue (or the Redis at `redisUrl`). */
export async function copyQueue(
  sandbox: Sandbox,
  redisUrl?: string,
  schema = 'public',
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<AnyQueue & { closeAll(): Promise<void> }> {
  const names = await queueNamesOf(sandbox, schema);
  const backend = sandboxBackend(sandbox, redisUrl, extraEnv);
  const queue = backend.queue(names.copy);
  return Object.assign(queue, {
    async closeAll() {
      await queue.close().catch(() => undefined);
      await backend.close();
    },
  });
}

/**
 * What the sandbox's queue holds: on Redis every key of the prefix, on PostgreSQL one entry per
 * job (`queue:id`) and per registered target (`target:id`). Empty when nothing was enqueued.
 */
export async function queueEntries(sandbox: Sandbox): Promise<string[]> {
  if (sandbox.queueBackend === 'redis') {
    const redis = new Redis(sandbox.redisUrl);
    try {
      const out: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${sandbox.prefix}:*`, 'COUNT', 500);
        cursor = next;
        out.push(...keys);
      } while (cursor !== '0');
      return out;
    } finally {
      redis.disconnect();
    }
  }
  const client = new pg.Client({ connectionString: sandbox.databaseUrl });
  await client.connect();
  try {
    const out: string[] = [];
    const s = `"${TEST_QUEUE_SCHEMA}"`;
    const present = await client.query('SELECT to_regclass($1) AS job, to_regclass($2) AS targets', [
      `${s}.job`,
      `${s}.my2pg_targets`,
    ]);
    if (present.rows[0]?.job) {
      const { rows } = await client.query(`SELECT queue || ':' || id AS entry FROM ${s}.job`);
      out.push(...rows.map((r: { entry: string }) => r.entry));
    }
    if (present.rows[0]?.targets) {
      const { rows } = await client.query(`SELECT 'target:' || id AS entry FROM ${s}.my2pg_targets`);
      out.push(...rows.map((r: { entry: string }) => r.entry));
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Every entry of the sandbox's queue with its content, as text (to look for what must not be there). */
export async function queueContent(sandbox: Sandbox): Promise<{ entries: string[]; text: string }> {
  const entries = await queueEntries(sandbox);
  if (sandbox.queueBackend === 'redis') {
    const redis = new Redis(sandbox.redisUrl);
    try {
      const parts: string[] = [];
      for (const key of entries) {
        const type = await redis.type(key);
        if (type === 'string') parts.push(String(await redis.get(key)));
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
      }
      return { entries, text: `${entries.join('\n')}\n${parts.join('\n')}` };
    } finally {
      redis.disconnect();
    }
  }
  const client = new pg.Client({ connectionString: sandbox.databaseUrl });
  await client.connect();
  try {
    const s = `"${TEST_QUEUE_SCHEMA}"`;
    // Every table of the queue schema, whole rows as JSON.
    const { rows: tables } = await client.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [TEST_QUEUE_SCHEMA],
    );
    const parts: string[] = [];
    for (const { table_name } of tables as { table_name: string }[]) {
      const { rows } = await client.query(`SELECT row_to_json(t)::text AS row FROM ${s}."${table_name}" t`);
      parts.push(...rows.map((r: { row: string }) => r.row));
    }
    return { entries, text: `${entries.join('\n')}\n${parts.join('\n')}` };
  } finally {
    await client.end();
  }
}
