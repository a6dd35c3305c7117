import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';

/** A throwaway MariaDB server (of one test file, or of the follow benchmark), with its own data directory and port. */
export interface PrivateMariadb {
  /** `mysql://root@127.0.0.1:PORT/` (root, empty password). */
  url: string;
  port: number;
  datadir: string;
  /** Stops the server (SIGTERM: sessions are cut) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Shuts the server down (SIGTERM, SIGKILL after 10 s) and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** How to start a private MariaDB; by default the binary log is on, ROW, FULL. */
export interface PrivateMariadbOptions {
  binlog?: boolean;
  format?: 'ROW' | 'STATEMENT' | 'MIXED';
  rowImage?: 'FULL' | 'MINIMAL';
  serverId?: number;
  /** More server options, after the defaults (a later option wins: `--innodb-buffer-pool-size=1G`). */
  serverArgs?: string[];
}

/** A TCP port nobody listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Runs a command to its end; rejects with its output when it fails. */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} failed (${signal ?? code}): ${output.slice(-2000)}`)),
    );
  });
}

// Small InnoDB files: install and start are well under a second. Both steps must agree on them.
const SMALL_SERVER = [
  '--innodb-buffer-pool-size=64M',
  '--innodb-log-file-size=16M',
  '--skip-name-resolve',
  '--character-set-server=utf8mb4',
  '--collation-server=utf8mb4_unicode_ci',
];

/**
 * Starts a throwaway MariaDB in a temp dir on a free port (like the private Redis in
 * test/helpers/faults.ts), the binary log on and ROW unless told otherwise. When this process
 * runs as root the server runs as the mysql user. Resolves once root (empty password) answers
 * over TCP on 127.0.0.1.
 */
export async function startPrivateMariadb(options: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-mariadb-'));
  const datadir = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const user = asRoot ? ['--user=mysql'] : [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const url = `mysql://root@127.0.0.1:${port}/`;

  const halt = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async (): Promise<void> => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  let args: string[] = [];
  const launch = async (): Promise<void> => {
    const c = spawn('mariadbd', args, { stdio: 'ignore' });
    child = c;
    exited = new Promise((resolve) => c.once('exit', () => resolve()));
    await waitForServer(url, c, join(dir, 'error.log'));
  };

  try {
    if (asRoot) {
      const [uid, gid] = await mysqlIds();
      chownSync(dir, uid, gid);
    }
    await run('mariadb-install-db', [
      '--no-defaults',
      `--datadir=${datadir}`,
      ...user,
      '--skip-test-db',
      '--auth-root-authentication-method=normal',
      ...SMALL_SERVER,
    ]);
    const binlog = options.binlog ?? true;
    args = [
      '--no-defaults',
      `--datadir=${datadir}`,
      ...user,
      `--port=${port}`,
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${join(dir, 'error.log')}`,
      // Its own temporary tables in its own directory: the shared server's /tmp is not its business.
      `--tmpdir=${dir}`,
      '--bind-address=127.0.0.1',
      `--server-id=${options.serverId ?? 1}`,
      ...(binlog ? [`--log-bin=${join(datadir, 'binlog')}`] : []),
      `--binlog-format=${options.format ?? 'ROW'}`,
      `--binlog-row-image=${options.rowImage ?? 'FULL'}`,
      ...SMALL_SERVER,
      ...(options.serverArgs ?? []),
    ];
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

/** The uid and gid of the mysql user (the server refuses to run as root). */
async function mysqlIds(): Promise<[number, number]> {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('mysql:'));
  const fields = line?.split(':');
  if (!fields?.[2] || !fields[3])
    throw new Error('no mysql user in /etc/passwd: the private MariaDB cannot run as root');
  return [Number(fields[2]), Number(fields[3])];
}

async function waitForServer(url: string, child: ChildProcess, errorLog: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      let log = '';
      try {
        log = readFileSync(errorLog, 'utf8').slice(-2000);
      } catch {
        // no log written
      }
      throw new Error(`mariadbd exited (${child.signalCode ?? child.exitCode}) before answering: ${log}`);
    }
    try {
      const connection = await createConnection({ uri: url, connectTimeout: 1_000 });
      await connection.end();
      return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `private MariaDB at ${url} did not answer within ${timeoutMs} ms (last error: ${(lastError as Error).message})`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}
