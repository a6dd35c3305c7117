import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** Peak resident memory of a process (VmHWM, bytes), or 0 when /proc cannot tell. */
function peakRss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A child process whose peak RSS is sampled until it exits (VmHWM only grows, so sampling loses little). */
export interface Watched {
  child: ChildProcess;
  /** Resolves at exit with the code, output and peak RSS seen. */
  done: Promise<{ code: number | null; stdout: string; stderr: string; peakRssBytes: number; seconds: number }>;
  output(): string;
}

export function spawnWatched(
  command: string,
  args: string[],
  options: SpawnOptions & { input?: string } = {},
): Watched {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let peak = 0;
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setInterval(() => {
    peak = Math.max(peak, peakRss(child.pid));
  }, 100);
  const done = new Promise<{
    code: number | null;
    stdout: string;
    stderr: string;
    peakRssBytes: number;
    seconds: number;
  }>((resolve, reject) => {
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    // 'exit' fires before the zombie is reaped by libuv? No: read once more on 'exit' anyway.
    child.on('exit', () => {
      peak = Math.max(peak, peakRss(child.pid));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, peakRssBytes: peak, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
  return { child, done, output: () => stdout + stderr };
}

/** Runs a shell pipeline, timed. */
export async function runShell(
  script: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string; seconds: number }> {
  const watched = spawnWatched('bash', ['-o', 'pipefail', '-c', script], { env });
  const result = await watched.done;
  return { code: result.code, output: result.stdout + result.stderr, seconds: result.seconds };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Deletes every key of a BullMQ prefix (the bench's runs), in batches. */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * The environment of a `my2pg` process a benchmark starts: nothing of the benchmark's own
 * environment but PATH and HOME, its source, target, Redis and queue prefix, warnings only;
 * `extra` adds (or overrides) variables.
 */
export function my2pgEnv(
  where: { sourceUrl: string; databaseUrl: string; redisUrl: string; prefix: string },
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MYSQL_URL: where.sourceUrl,
    DATABASE_URL: where.databaseUrl,
    REDIS_URL: where.redisUrl,
    MY2PG_QUEUE_PREFIX: where.prefix,
    MY2PG_LOG_LEVEL: 'warn',
    ...extra,
  };
}
