import { Redis, type RedisOptions } from 'ioredis';
import { UsageError } from '../core/errors.js';
import { redactUrl } from '../config/config.js';

/** Options for workers: never give up on a command, reconnect forever (BullMQ requirement). */
export function workerRedisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // A connection attempt that hangs (a half-open socket) is cut and retried; commands wait for
    // the reconnection, and a job's watchdog bounds how long an attempt may wait for them.
    connectTimeout: 10_000,
    retryStrategy: (times) => Math.min(times * 500, 5000),
  };
}

/**
 * Options for producers (CLI): a command fails after a few reconnect attempts instead of
 * hanging, but the connection itself keeps reconnecting, so a `--wait` that outlives a Redis
 * restart picks up again (the wait loop decides how long an outage it tolerates).
 */
export function producerRedisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 250, 2000),
  };
}

/** A Redis connection from a URL with the given options. */
export function connectRedis(url: string, options: RedisOptions): Redis {
  return new Redis(url, { ...options, lazyConnect: false });
}

/**
 * Closes a connection at once. ioredis's `disconnect()` on a connection that has ended already
 * (Redis refused it and no retry follows, or it quit) arms a 2 s timer on its closed socket,
 * waiting for a 'close' event that came before, and that timer would keep a finished command
 * alive: such a connection needs nothing more.
 */
export function disconnectRedis(client: Redis): void {
  if (client.status !== 'end') client.disconnect();
}

/** Checks that Redis answers; a UsageError with one clear line otherwise. */
export async function pingRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // The socket's own error (ECONNREFUSED, ENOTFOUND) says more than "Connection is closed".
  let socketError: Error | undefined;
  client.on('error', (error: Error) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const why = (socketError ?? (error as Error)).message.replace(/\.+$/, '');
    throw new UsageError(`cannot reach Redis at ${redactUrl(url)}: ${why}; start Redis or set REDIS_URL / --redis`);
  } finally {
    disconnectRedis(client);
  }
}
