import { Cluster, Redis, type RedisOptions } from 'ioredis';
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

/** Where the queue's Redis is, read from REDIS_URL (docs/queue-backends.md#redis-cluster-and-sentinel). */
export type RedisAddress =
  | { kind: 'single' }
  | { kind: 'cluster'; nodes: { host: string; port: number }[] }
  | { kind: 'sentinel'; name: string; sentinels: { host: string; port: number }[] };

/**
 * `redis://host:port` is one Redis; `?cluster` makes the host a seed node of a Redis Cluster
 * (`&seeds=h2:p2,h3:p3` adds more); `?sentinel=<master name>` makes it a Sentinel of that group
 * (`&seeds=` adds more Sentinels). The URL's user and password are the Redis nodes'.
 */
export function parseRedisAddress(url: string): RedisAddress {
  const parsed = new URL(url);
  const first = {
    host: parsed.hostname,
    port: Number(parsed.port || (parsed.searchParams.has('sentinel') ? 26379 : 6379)),
  };
  const seeds = (parsed.searchParams.get('seeds') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => {
      const at = s.lastIndexOf(':');
      return at < 0 ? { host: s, port: first.port } : { host: s.slice(0, at), port: Number(s.slice(at + 1)) };
    });
  if (parsed.searchParams.has('cluster')) return { kind: 'cluster', nodes: [first, ...seeds] };
  const name = parsed.searchParams.get('sentinel');
  if (name) return { kind: 'sentinel', name, sentinels: [first, ...seeds] };
  return { kind: 'single' };
}

/** A client of the Redis, Cluster or Sentinel group at `url`; a Cluster's nodes get `options`. */
export function openRedisClient(url: string, options: RedisOptions): Redis | Cluster {
  const address = parseRedisAddress(url);
  const parsed = new URL(url);
  const auth = {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  if (address.kind === 'cluster') {
    return new Cluster(address.nodes, {
      redisOptions: { ...options, ...auth },
      lazyConnect: options.lazyConnect ?? false,
      enableOfflineQueue: options.enableOfflineQueue ?? true,
      enableReadyCheck: true,
      ...(options.retryStrategy ? { clusterRetryStrategy: options.retryStrategy } : {}),
    });
  }
  if (address.kind === 'sentinel') {
    return new Redis({ ...options, ...auth, sentinels: address.sentinels, name: address.name });
  }
  return new Redis(url, options);
}

/** A Redis connection from a URL with the given options. */
export function connectRedis(url: string, options: RedisOptions): Redis | Cluster {
  return openRedisClient(url, { ...options, lazyConnect: false });
}

/**
 * Closes a connection at once. ioredis's `disconnect()` on a connection that has ended already
 * (Redis refused it and no retry follows, or it quit) arms a 2 s timer on its closed socket,
 * waiting for a 'close' event that came before, and that timer would keep a finished command
 * alive: such a connection needs nothing more.
 */
export function disconnectRedis(client: Redis | Cluster): void {
  if (client.status !== 'end') client.disconnect();
}

/** Checks that Redis answers; a UsageError with one clear line otherwise. */
export async function pingRedis(url: string): Promise<void> {
  const client = openRedisClient(url, {
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
