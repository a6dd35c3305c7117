/**
 * BullMQ's one hard requirement of a Redis: `maxmemory-policy noeviction`. Any other policy lets
 * Redis delete queue keys (a job, a flow's dependency set, a lock) when memory runs short, and a
 * run then loses jobs silently. Read with CONFIG GET; a managed Redis that refuses CONFIG cannot
 * be checked, which is said, not refused.
 */
import { UsageError } from '../core/errors.js';
import { redactUrl, type Config } from '../config/config.js';
import { Cluster } from 'ioredis';
import { openRedisClient, pingRedis } from './connection.js';

/** What CONFIG GET maxmemory-policy told: the policy, or why it could not be read. */
export type EvictionPolicyReading = { policy: string } | { unchecked: string };

/** Reads `maxmemory-policy` from the Redis at `url` (every master of a cluster: the first that is not noeviction wins). */
export async function readEvictionPolicy(
  url: string,
  unreachable: 'refuse' | 'unchecked' = 'refuse',
): Promise<EvictionPolicyReading> {
  try {
    await pingRedis(url);
  } catch (error) {
    // `plan` needs no Redis: an unreachable one is only not checked.
    if (unreachable === 'refuse') throw error;
    return { unchecked: (error as Error).message.replace(/; start Redis.*$/, '') };
  }
  const client = openRedisClient(url, {
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    if (client instanceof Cluster) await client.ping();
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    for (const node of nodes) {
      const reply = (await node.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      if (policy === undefined) return { unchecked: 'CONFIG GET maxmemory-policy returned nothing' };
      if (policy !== 'noeviction') return { policy };
    }
    return { policy: 'noeviction' };
  } catch (error) {
    // A managed Redis (ElastiCache, Memorystore, …) renames or refuses CONFIG.
    return { unchecked: `CONFIG GET was refused (${(error as Error).message.replace(/\.+$/, '')})` };
  } finally {
    client.disconnect();
  }
}

/** The one line that names the setting and the fix, for a policy that is not noeviction. */
export function evictionProblem(url: string, reading: EvictionPolicyReading): string | undefined {
  if (!('policy' in reading) || reading.policy === 'noeviction') return undefined;
  return `Redis ${redactUrl(url)} has maxmemory-policy ${reading.policy}, which lets Redis evict BullMQ's queue keys (jobs would vanish): set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction)`;
}

/** What to say when the policy could not be read. */
export function uncheckedNotice(url: string, reading: EvictionPolicyReading): string | undefined {
  if (!('unchecked' in reading)) return undefined;
  return `the maxmemory-policy of Redis ${redactUrl(url)} could not be checked: ${reading.unchecked}; make sure it is noeviction`;
}

/**
 * For `start` and `run`, before anything is written: a UsageError (exit 2) when the queue is in
 * a Redis that may evict its keys. Returns the notice to print when the policy could not be read.
 * No check when the queue is in PostgreSQL.
 */
export async function refuseEvictingRedis(config: Config): Promise<string | undefined> {
  if (config.redisUrl === undefined) return undefined;
  const reading = await readEvictionPolicy(config.redisUrl);
  const problem = evictionProblem(config.redisUrl, reading);
  if (problem !== undefined) throw new UsageError(problem);
  return uncheckedNotice(config.redisUrl, reading);
}
