/** Opening the configured queue backend: Redis when a Redis URL is set, else the PostgreSQL target. */
import { must, redactUrl, type Config } from '../config/config.js';
import { openPostgresBackend, pingPostgresQueue } from './postgres-backend.js';
import type { OpenBackendOptions, QueueBackend } from './queue-backend.js';
import { openRedisBackend } from './redis-backend.js';
import { parseRedisAddress, pingRedis } from './connection.js';

/**
 * The prefix of the queue's keys. On a Redis Cluster every key of a queue must sit in one hash
 * slot (BullMQ's Lua scripts touch several at once), so the prefix becomes a hash tag `{prefix}`
 * unless it already holds one.
 */
function redisQueuePrefix(config: Config): string {
  const prefix = config.queuePrefix;
  if (config.redisUrl === undefined || parseRedisAddress(config.redisUrl).kind !== 'cluster') return prefix;
  return /\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

/** Opens the configured queue backend. */
export function openQueueBackend(config: Config, options: OpenBackendOptions): QueueBackend {
  if (config.redisUrl !== undefined) return openRedisBackend(config.redisUrl, redisQueuePrefix(config), options);
  return openPostgresBackend(
    must(config.databaseUrl, 'the PostgreSQL target (it holds the queue)'),
    config.queueSchema,
    options,
  );
}

/** Checks that the queue answers before anything is changed: a UsageError with one clear line otherwise. */
export async function checkQueueReachable(config: Config): Promise<void> {
  if (config.redisUrl !== undefined) return pingRedis(config.redisUrl);
  return pingPostgresQueue(must(config.databaseUrl, 'the PostgreSQL target (it holds the queue)'));
}

/** Where the configured queues are, in words (status lines, errors): no password. */
export function describeQueueLocation(config: Config): string {
  return config.redisUrl !== undefined
    ? `Redis ${redactUrl(config.redisUrl)}, prefix ${redisQueuePrefix(config)}`
    : `PostgreSQL schema ${config.queueSchema} of the target`;
}
