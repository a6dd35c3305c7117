/**
 * `npm run bench -- --soak N [options]`: N live runs in a row, each as a new user would do it
 * with an application writing: a private MariaDB with the binary log on holds the seed app's
 * tables; each round starts two workers (`my2pg worker --concurrency 2`), a writer on the source,
 * `my2pg start --follow`, waits until every table is copied and the follower follows, stops the
 * writer, and runs `my2pg cutover RUN --wait`. A round must end GO within `--round-timeout`;
 * one that does not is a hang: its jobs' states are printed and the next round starts.
 * `--bin` runs another build of my2pg (an older commit's, to count how often it hung).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { generateSourceDatabase } from './generate.js';
import { deleteRedisPrefix, median, my2pgEnv, spawnWatched, type Watched } from './measure.js';
import { startPrivateMariadb, type PrivateMariadb } from './private-mariadb.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface SoakRound {
  round: number;
  outcome: 'GO' | 'NO-GO' | 'hang' | 'error';
  seconds: number;
  copySeconds: number;
  writes: number;
  line: string;
}

export async function runSoakBench(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      soak: { type: 'string', default: '20' },
      users: { type: 'string', default: '20000' },
      'range-rows': { type: 'string', default: '100000' },
      'write-rate': { type: 'string', default: '300' },
      'round-timeout': { type: 'string', default: '300' },
      'stall-timeout': { type: 'string', default: '60' },
      bin: { type: 'string', default: fileURLToPath(new URL('../bin/my2pg.js', import.meta.url)) },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    process.stdout.write(`npm run bench -- --soak N [options]
  --soak N            live rounds in a row; default 20
  --users U           seed tables at scale U (640k rows for 20000); default 20000
  --range-rows R      start's --range-rows (more range jobs at once); default 100000
  --write-rate W      the application's single-row writes/s during the copy; default 300
  --round-timeout S   a round not GO within S seconds is a hang; default 300
  --stall-timeout S   the workers' --stall-timeout; default 60
  --bin PATH          the my2pg to run (bin/my2pg.js of another build); default this checkout's
Environment: BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres), REDIS_URL. The MariaDB is private (binary log on).
`);
    return 0;
  }
  const rounds = Math.max(1, Number(args.soak));
  const users = Number(args.users);
  const writeRate = Number(args['write-rate']);
  const roundTimeoutMs = Number(args['round-timeout']) * 1000;
  const bin = args.bin;
  const pgServer = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const tag = randomBytes(3).toString('hex');
  const database = `my2pg_soak_${tag}`;
  const log = (line: string): void => void process.stderr.write(`soak: ${line}\n`);
  const withDatabase = (url: string, db: string): string => {
    const u = new URL(url);
    u.pathname = `/${db}`;
    return u.toString();
  };
  const adminPg = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: pgServer });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  // Read now: the checkout may move on while the rounds run (--bin then names the build that ran).
  const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  let server: PrivateMariadb | undefined;
  const results: SoakRound[] = [];
  try {
    server = await startPrivateMariadb({ serverArgs: ['--max-connections=500'] });
    const sourceUrl = withDatabase(server.url, database);
    const counts = await generateSourceDatabase(server.url, database, users, { log });
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    log(`private MariaDB on port ${server.port}, ${rows} rows; ${rounds} rounds with ${bin}`);
    for (let round = 1; round <= rounds; round += 1) {
      const targetDb = `${database}_r${round}`;
      const prefix = `my2pg-soak-${tag}-${round}`;
      await adminPg(`CREATE DATABASE "${targetDb}"`);
      const env = my2pgEnv(
        { sourceUrl, databaseUrl: withDatabase(pgServer, targetDb), redisUrl, prefix },
        { MY2PG_STALL_TIMEOUT: args['stall-timeout'] },
      );
      const cli = (argsOf: string[]): Watched => spawnWatched(process.execPath, [bin, ...argsOf], { cwd: ROOT, env });
      const workers: Watched[] = [];
      const writer = await mysql.createConnection({ uri: sourceUrl });
      let writing = true;
      let writes = 0;
      const t0 = Date.now();
      const result: SoakRound = { round, outcome: 'error', seconds: 0, copySeconds: 0, writes: 0, line: '' };
      const deadline = t0 + roundTimeoutMs;
      try {
        // The start registers the target's queues; the workers then find them.
        const start = await cli(['start', '--follow', '--range-rows', args['range-rows']]).done;
        if (start.code !== 0) throw new Error(`start --follow exited ${start.code}: ${start.stderr.slice(-1500)}`);
        const runId = start.stdout.trim();
        for (let i = 0; i < 2; i += 1) workers.push(cli(['worker', '--concurrency', '2']));
        const writes$ = (async () => {
          for (let n = 0; writing; n += 1) {
            const due = t0 + (n * 1000) / writeRate;
            const wait = due - Date.now();
            if (wait > 0) await sleep(wait);
            await (n % 2 === 0
              ? writer.query(
                  'INSERT INTO game_visits (user_id, ip_address, user_agent, is_logged_in, bytes_sent, visited_at) VALUES (?, ?, ?, 1, ?, NOW(6))',
                  [1 + (n % Math.max(1, users)), '10.0.0.1', 'soak', n],
                )
              : writer.query('UPDATE scores SET score = score + 1 WHERE id = ?', [
                  1 + (n % Math.max(1, counts.scores ?? 1)),
                ]));
            writes += 1;
          }
        })();
        const target = new pg.Client({ connectionString: withDatabase(pgServer, targetDb) });
        await target.connect();
        try {
          // Copied: every table's job done and the follower following.
          for (;;) {
            const tables = await target
              .query(
                "SELECT count(*) FILTER (WHERE status <> 'copied')::int AS left FROM my2pg.run_tables WHERE run_id = $1",
                [runId],
              )
              .catch(() => ({ rows: [{ left: -1 }] }));
            const follow = await target
              .query('SELECT status FROM my2pg.follow WHERE run_id = $1', [runId])
              .catch(() => ({ rows: [] }));
            if (tables.rows[0]?.left === 0 && follow.rows[0]?.status === 'following') break;
            if (Date.now() > deadline)
              throw new Hang('the copy (tables not all copied, or the follower not following)');
            await sleep(500);
          }
        } finally {
          await target.end();
        }
        result.copySeconds = (Date.now() - t0) / 1000;
        writing = false;
        await writes$;
        const cut = cli(['cutover', runId, '--wait']);
        const ended = await Promise.race([cut.done, sleep(Math.max(1000, deadline - Date.now())).then(() => null)]);
        if (!ended) {
          cut.child.kill('SIGKILL');
          throw new Hang('cutover --wait');
        }
        result.line = /cutover: (GO|NO-GO)[^\n]*/.exec(ended.stdout)?.[0] ?? (ended.stdout + ended.stderr).slice(-600);
        result.outcome = ended.code === 0 && result.line.startsWith('cutover: GO') ? 'GO' : 'NO-GO';
      } catch (error) {
        result.outcome = error instanceof Hang ? 'hang' : 'error';
        result.line = (error as Error).message;
        if (error instanceof Hang) {
          const status = await cli(['status', '--json']).done.catch(() => null);
          log(`round ${round}: HANG in ${result.line}; status: ${status?.stdout.slice(0, 4000) ?? '-'}`);
        }
      } finally {
        writing = false;
        result.seconds = (Date.now() - t0) / 1000;
        result.writes = writes;
        await writer.end().catch(() => undefined);
        for (const w of workers) w.child.kill('SIGTERM');
        await Promise.race([Promise.all(workers.map((w) => w.done)), sleep(40_000)]);
        for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
        const stalls = workers.reduce((n, w) => n + (w.output().match(/job stalled/g)?.length ?? 0), 0);
        if (stalls > 0) result.line += ` (watchdog: ${stalls} attempts ended)`;
        await adminPg(`DROP DATABASE IF EXISTS "${targetDb}" WITH (FORCE)`).catch(() => undefined);
        await deleteRedisPrefix(redisUrl, prefix).catch(() => undefined);
      }
      results.push(result);
      log(
        `round ${round}: ${result.outcome} in ${result.seconds.toFixed(1)} s (copy ${result.copySeconds.toFixed(1)} s, ${result.writes} writes): ${result.line}`,
      );
    }
  } finally {
    await server?.stop();
  }
  const go = results.filter((r) => r.outcome === 'GO').length;
  const hangs = results.filter((r) => r.outcome === 'hang').length;
  const seconds = results.map((r) => r.seconds);
  process.stdout.write(
    [
      `### Soak: ${rounds} live rounds — ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
      '',
      `- command: \`npm run bench -- ${argv.join(' ')}\` (checkout ${commit}, my2pg ${bin})`,
      `- each round: two \`my2pg worker --concurrency 2\`, ${writeRate} writes/s on the source during the copy, \`start --follow --range-rows ${args['range-rows']}\`, \`cutover --wait\`; bound ${roundTimeoutMs / 1000} s`,
      `- rounds GO: ${go}/${results.length}; **hangs: ${hangs}**; other failures: ${results.length - go - hangs}`,
      `- round time s: median ${median(seconds).toFixed(1)}, max ${Math.max(...seconds).toFixed(1)}`,
      `- load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
      ...results.filter((r) => r.outcome !== 'GO').map((r) => `- round ${r.round}: ${r.outcome}: ${r.line}`),
      '',
    ].join('\n'),
  );
  return go === results.length ? 0 : 1;
}

/** A round that did not end within its bound. */
class Hang extends Error {}
