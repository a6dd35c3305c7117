import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './private-mariadb.js';

/** A throwaway PostgreSQL server (of one test file, or of a benchmark), with its own data directory and port. */
export interface PrivatePostgres {
  /** `postgresql://postgres@127.0.0.1:PORT/postgres` (trust authentication). */
  url: string;
  port: number;
  datadir: string;
  /** Stops the server (fast shutdown: sessions are terminated, 57P01) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Shuts the server down and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** How to start a private PostgreSQL. */
interface PrivatePostgresOptions {
  /** `wal_level` (default replica; `logical` for logical replication slots). */
  walLevel?: 'replica' | 'logical';
  /** More `-c name=value` settings, after the defaults. */
  settings?: Record<string, string>;
}

/** The newest installed PostgreSQL's bin directory (Debian: /usr/lib/postgresql/N/bin). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions.find((v) => existsSync(join(root, v, 'bin', 'postgres')));
  if (!version) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql: install postgresql');
  return join(root, version, 'bin');
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: string[], uid?: number, gid?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], uid, gid });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} failed (${signal ?? code}): ${output.slice(-2000)}`)),
    );
  });
}

/** The uid and gid of the postgres user (the server refuses to run as root). */
function postgresIds(): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const fields = line?.split(':');
  if (!fields?.[2] || !fields[3])
    throw new Error('no postgres user in /etc/passwd: the private PostgreSQL cannot run as root');
  return [Number(fields[2]), Number(fields[3])];
}

/**
 * Starts a throwaway PostgreSQL in a temp dir on a free port (like bench/private-mariadb.ts):
 * trust authentication, fsync off, small buffers. When this process runs as root the server
 * runs as the postgres user. Resolves once the `postgres` role answers over TCP on 127.0.0.1.
 */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-postgres-'));
  const datadir = join(dir, 'data');
  const [uid, gid] = userInfo().uid === 0 ? postgresIds() : [undefined, undefined];
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const settings = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '64MB',
    max_connections: '100',
    wal_level: options.walLevel ?? 'replica',
    max_wal_senders: '10',
    max_replication_slots: '10',
    ...options.settings,
  };
  const args = ['-D', datadir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];

  const halt = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      // SIGINT is PostgreSQL's fast shutdown: sessions end with 57P01, as on a real restart.
      c.kill('SIGINT');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const launch = async (): Promise<void> => {
    const c = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], uid, gid });
    let log = '';
    c.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
    child = c;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    await waitForServer(url, c, () => log);
  };
  const stop = async (): Promise<void> => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    if (uid !== undefined && gid !== undefined) chownSync(dir, uid, gid);
    await run(
      join(bin, 'initdb'),
      ['-D', datadir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'],
      uid,
      gid,
    );
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    datadir,
    restart: async () => {
      await halt();
      await launch();
    },
    stop,
  };
}

async function waitForServer(url: string, child: ChildProcess, log: () => string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited (${child.signalCode ?? child.exitCode}) before answering: ${log()}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `private PostgreSQL at ${url} did not answer within ${timeoutMs} ms (last error: ${(lastError as Error).message})`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}
