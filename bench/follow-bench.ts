/**
 * `npm run bench -- --follow [options]`: the `--follow` benchmark. Starts a private MariaDB with
 * the binary log on (bench/private-mariadb.ts), generates the seed app's tables there, and each
 * round runs `my2pg run --follow` into a fresh PostgreSQL database, then measures, with the copy
 * complete and the follower caught up:
 *   1. apply rate: a burst of row changes (one big transaction across tables, then many small
 *      ones), row events applied per second from the first change to caught up;
 *   2. lag under a steady writer (~1,000 small transactions/s: inserts, updates, deletes),
 *      sampled every second;
 *   3. the write freeze of `my2pg cutover --wait --lock` with the writer still running.
 * Prints a markdown block for docs/benchmarks.md. Everything it creates is removed at the end.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { generateSourceDatabase, sourceDataBytes } from './generate.js';
import { deleteRedisPrefix, median, my2pgEnv, spawnWatched, type Watched } from './measure.js';
import { startPrivateMariadb, type PrivateMariadb } from './private-mariadb.js';
import { queuesOfRun } from '../src/queue/target-scope.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/my2pg.js', import.meta.url));

interface Position {
  file: string;
  position: number;
}

/** One round's figures. */
interface Round {
  copySeconds: number;
  burst: {
    events: number;
    writeSeconds: number;
    applySeconds: number;
    firstAppliedSeconds: number;
    rate: number;
    peakReported: number;
    /** CPU seconds of the \`my2pg run\` process (workers, follower) from the first change to caught up. */
    cpu: number;
    /** Batch commits seen, and after the first: median events and ms per commit, events/s over them. */
    commits: number;
    batchEvents: number;
    batchMs: number;
    batchRate: number;
  };
  load: {
    seconds: number;
    writes: number;
    rowEvents: number;
    lagMs: number[];
    reportedLag: number[];
    catchUpSeconds: number;
  };
  cutover: {
    ok: boolean;
    line: string;
    problems: string[];
    frozen: number;
    predicted: number;
    drain: number;
    verify: number;
    finalize: number;
    /** Waiting for every table to be verified while following, s (from the follower's start). */
    verifiedAfter: number;
    /** \`my2pg verify RUN\` after the go: a separate full verification of both sides. */
    verifyExit: number | null;
    timings: Record<string, number> | null;
    wallSeconds: number;
    runExit: number | null;
  };
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function comparePositions(a: Position, b: Position): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.position - b.position;
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN when it cannot tell. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs the follow benchmark with the command line's arguments; returns the exit code. */
export async function runFollowBench(argv: string[]): Promise<number> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      follow: { type: 'boolean', default: true },
      users: { type: 'string', default: '100000' },
      rounds: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '2' },
      'burst-rows': { type: 'string', default: '200000' },
      'small-transactions': { type: 'string', default: '2000' },
      'load-rate': { type: 'string', default: '1000' },
      'load-seconds': { type: 'string', default: '30' },
      'buffer-pool': { type: 'string', default: '1G' },
      'max-freeze': { type: 'string', default: '2' },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    process.stdout.write(`npm run bench -- --follow [options]
  --users N               seed tables at scale N (3.2M rows for 100000); default 100000
  --rounds R              rounds (each a new \`my2pg run --follow\` and cutover); default 3
  --concurrency C         my2pg --concurrency; default 2
  --burst-rows B          rows changed by the big transaction (half game_visits updates, a quarter scores
                          updates, a quarter game_visits inserts); default 200000
  --small-transactions S  then S transactions of 10 row updates each (4 connections); default 2000
  --load-rate W           steady writer: W single-row transactions/s (40% insert, 40% update, 20% delete); default 1000
  --load-seconds T        how long the steady writer runs before cutover; default 30
  --buffer-pool SIZE      the private MariaDB's innodb_buffer_pool_size; default 1G
  --max-freeze S          cutover --max-freeze (cutover --wait waits until the predicted freeze fits); default 2
Environment: BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres), REDIS_URL. The MariaDB is private (binary log on).
`);
    return 0;
  }
  const users = Number(args.users);
  const rounds = Math.max(1, Number(args.rounds));
  const concurrency = Number(args.concurrency);
  const burstRows = Number(args['burst-rows']);
  const smallTransactions = Number(args['small-transactions']);
  const loadRate = Number(args['load-rate']);
  const loadSeconds = Number(args['load-seconds']);
  const pgServer = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const tag = randomBytes(3).toString('hex');
  const database = `my2pg_bench_${tag}`;
  const targetDb = `my2pg_bench_${tag}_follow`;
  const prefix = `my2pg-bench-${tag}`;
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
  const withDatabase = (url: string, db: string): string => {
    const u = new URL(url);
    u.pathname = `/${db}`;
    return u.toString();
  };

  let server: PrivateMariadb | undefined;
  const adminPg = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: pgServer });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  const dropTarget = (): Promise<void> => adminPg(`DROP DATABASE IF EXISTS "${targetDb}" WITH (FORCE)`);
  const dropRedisKeys = (): Promise<void> => deleteRedisPrefix(redisUrl, prefix);

  try {
    const loadBefore = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const started = Date.now();
    server = await startPrivateMariadb({
      serverArgs: [`--innodb-buffer-pool-size=${args['buffer-pool']}`, '--max-connections=500'],
    });
    log(
      `private MariaDB on port ${server.port} (binary log on, ROW, FULL) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const sourceUrl = withDatabase(server.url, database);
    const counts = await generateSourceDatabase(server.url, database, users, { log });
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    const bytes = await sourceDataBytes(server.url, database);
    const env = my2pgEnv(
      { sourceUrl, databaseUrl: withDatabase(pgServer, targetDb), redisUrl, prefix },
      // A profiling hook for the `my2pg` processes (bench/apply-timing.mjs), off by default.
      process.env.BENCH_MY2PG_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_MY2PG_NODE_OPTIONS } : {},
    );
    const my = await mysql.createConnection({ uri: sourceUrl });
    const masterPosition = async (): Promise<Position> => {
      const [rowsOut] = await my.query('SHOW MASTER STATUS');
      const row = (rowsOut as { File: string; Position: number | string }[])[0]!;
      return { file: row.File, position: Number(row.Position) };
    };
    const [[versionRow]] = (await my.query('SELECT VERSION() AS v')) as unknown as [[{ v: string }]];
    // Named by its host: MariaDB's anonymous ''@'localhost' would otherwise take a local connection.
    for (const host of ['127.0.0.1', 'localhost']) {
      await my.query(`CREATE USER IF NOT EXISTS 'bench_app'@'${host}'`);
      await my.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.* TO 'bench_app'@'${host}'`);
    }
    const results: Round[] = [];

    for (let round = 1; round <= rounds; round += 1) {
      await dropTarget();
      await adminPg(`CREATE DATABASE "${targetDb}"`);
      const target = new pg.Client({ connectionString: withDatabase(pgServer, targetDb) });
      await target.connect();
      const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
      let run: Watched | undefined;
      let queue: Queue | undefined;
      try {
        // --- the copy, then the follower starts --------------------------------------------
        const t0 = Date.now();
        run = spawnWatched(process.execPath, [BIN, 'run', '--follow', '--concurrency', String(concurrency)], {
          cwd: ROOT,
          env,
        });
        const runExit = run.done.then((r) => r.code);
        let follow:
          | { run_id: string; status: string; binlog_file: string; binlog_position: string; events_applied: string }
          | undefined;
        const readFollow = async (): Promise<typeof follow> => {
          const r = await target
            .query('SELECT run_id, status, binlog_file, binlog_position, events_applied FROM my2pg.follow')
            .catch(() => ({ rows: [] }));
          return r.rows[0] as typeof follow;
        };
        for (;;) {
          follow = await readFollow();
          if (follow?.status === 'following') break;
          if (run.child.exitCode !== null)
            throw new Error(`my2pg run --follow exited early: ${run.output().slice(-2000)}`);
          if (Date.now() - t0 > 30 * 60_000) throw new Error('the copy did not finish within 30 minutes');
          await sleep(100);
        }
        const copySeconds = (Date.now() - t0) / 1000;
        const runId = follow.run_id;
        const options = (await target.query('SELECT options FROM my2pg.runs WHERE id = $1', [runId])).rows[0]
          ?.options as Record<string, unknown> | undefined;
        queue = new Queue(queuesOfRun(options).copy, { connection: redis, prefix });
        const reported = async (): Promise<{ lagSeconds: number; eventsPerSecond: number } | null> => {
          const job = await queue!.getJob(`${runId}.follow`);
          const p = job?.progress as { lagSeconds?: number; eventsPerSecond?: number } | undefined;
          return p && typeof p === 'object' && typeof p.lagSeconds === 'number'
            ? { lagSeconds: p.lagSeconds, eventsPerSecond: p.eventsPerSecond ?? 0 }
            : null;
        };
        const applied = async (): Promise<{ at: number; position: Position; events: number }> => {
          const f = await readFollow();
          return {
            at: Date.now(),
            position: { file: f!.binlog_file, position: Number(f!.binlog_position) },
            events: Number(f!.events_applied),
          };
        };
        const waitCaughtUp = async (to: Position, events = 0, timeoutMs = 600_000): Promise<number> => {
          const since = Date.now();
          for (;;) {
            const a = await applied();
            if (comparePositions(a.position, to) >= 0 && a.events >= events) return a.at;
            if (run!.child.exitCode !== null)
              throw new Error(`my2pg run --follow exited: ${run!.output().slice(-2000)}`);
            if (Date.now() - since > timeoutMs)
              throw new Error(`the follower did not reach ${to.file}:${to.position} within ${timeoutMs / 1000} s`);
            await sleep(20);
          }
        };
        await waitCaughtUp(await masterPosition());
        // The follow job reports once a second; cutover --wait needs a report.
        while ((await reported()) === null) await sleep(200);
        log(`round ${round}: copied in ${fmt(copySeconds)} s, run ${runId} following`);

        // --- 1. apply rate ---------------------------------------------------------------------
        const before = await applied();
        // The application's user: without SUPER, so read_only after a go refuses its writes as it would an application's.
        const appUrl = new URL(sourceUrl);
        appUrl.username = 'bench_app';
        const writers = await Promise.all(
          Array.from({ length: 4 }, () => mysql.createConnection({ uri: appUrl.toString() })),
        );
        const vis = Math.min(Math.floor(burstRows / 2), counts.game_visits ?? 0);
        const sco = Math.min(Math.floor(burstRows / 4), counts.scores ?? 0);
        const ins = Math.min(burstRows - vis - sco, counts.game_visits ?? 0);
        let peakReported = 0;
        let sampling = true;
        const peakSampler = (async () => {
          while (sampling) {
            peakReported = Math.max(peakReported, (await reported().catch(() => null))?.eventsPerSecond ?? 0);
            await sleep(500);
          }
        })();
        const profiling = Boolean(process.env.BENCH_MY2PG_NODE_OPTIONS);
        const cpuBefore = cpuSeconds(run.child.pid);
        const burstStart = Date.now();
        let events = 0;
        const w0 = writers[0]!;
        await w0.query('BEGIN');
        const affected = async (c: mysql.Connection, sql: string, params: unknown[] = []): Promise<number> =>
          ((await c.query(sql, params))[0] as mysql.ResultSetHeader).affectedRows;
        events += await affected(w0, 'UPDATE game_visits SET is_logged_in = 1 - is_logged_in WHERE id <= ?', [vis]);
        events += await affected(w0, 'UPDATE scores SET score = score + 1 WHERE id <= ?', [sco]);
        events += await affected(
          w0,
          'INSERT INTO game_visits (user_id, ip_address, user_agent, is_logged_in, bytes_sent, visited_at) SELECT user_id, ip_address, user_agent, is_logged_in, bytes_sent, NOW(6) FROM game_visits WHERE id <= ?',
          [ins],
        );
        await w0.query('COMMIT');
        const bigEvents = events;
        const scoresCount = counts.scores ?? 0;
        let next = 0;
        await Promise.all(
          writers.map(async (c) => {
            for (let i = next++; i < smallTransactions; i = next++) {
              const from = 1 + ((i * 10) % Math.max(1, scoresCount - 10));
              await c.query('BEGIN');
              // Not `events += await …`: that reads `events` before the await, losing the other connections' counts.
              const n = await affected(c, 'UPDATE scores SET score = score + 1 WHERE id BETWEEN ? AND ?', [
                from,
                from + 9,
              ]);
              events += n;
              await c.query('COMMIT');
            }
          }),
        );
        const writeSeconds = (Date.now() - burstStart) / 1000;
        const burstEnd = await masterPosition();
        let firstApplied = 0;
        // Each batch's commit as the 20 ms polls see it: when events_applied moved, and by how much.
        const commits: { at: number; events: number }[] = [{ at: burstStart, events: before.events }];
        for (;;) {
          const a = await applied();
          if (!firstApplied && a.events > before.events) firstApplied = a.at;
          if (a.events > commits.at(-1)!.events) commits.push({ at: a.at, events: a.events });
          if (comparePositions(a.position, burstEnd) >= 0 && a.events - before.events >= events) break;
          if (Date.now() - burstStart > 600_000) throw new Error('the burst was not applied within 10 minutes');
          await sleep(20);
        }
        const applySeconds = (Date.now() - burstStart) / 1000;
        const cpu = cpuSeconds(run.child.pid) - cpuBefore;
        if (profiling) run.child.kill('SIGUSR2');
        sampling = false;
        await peakSampler;
        const batches = commits
          .slice(1)
          .map((c, i) => ({ events: c.events - commits[i]!.events, ms: c.at - commits[i]!.at }));
        // The first interval holds the source's write time (the big transaction reaches the binary log at its COMMIT).
        const steady = batches.slice(1);
        const burst = {
          events,
          writeSeconds,
          applySeconds,
          firstAppliedSeconds: (firstApplied - burstStart) / 1000,
          rate: events / applySeconds,
          peakReported,
          cpu,
          commits: batches.length,
          batchEvents: median(steady.map((b) => b.events)),
          batchMs: median(steady.map((b) => b.ms)),
          batchRate: steady.reduce((n, b) => n + b.events, 0) / (steady.reduce((n, b) => n + b.ms, 0) / 1000),
        };
        log(
          `round ${round}: burst of ${events} row events (${bigEvents} in one transaction) written in ${fmt(writeSeconds)} s, applied in ${fmt(applySeconds)} s: ${Math.round(burst.rate)} events/s; ${burst.commits} commits, then ${burst.batchEvents} events per ${burst.batchMs} ms (${Math.round(burst.batchRate)}/s)`,
        );

        // --- 2. lag under a steady writer ------------------------------------------------------
        const visitsMax = (counts.game_visits ?? 1) + ins;
        const writer = (seconds: number | null) => {
          let stop = false;
          let writes = 0;
          let rowEvents = 0;
          const begun = Date.now();
          const done = Promise.all(
            writers.map(async (c, k) => {
              for (let n = k; !stop; n += writers.length) {
                const due = begun + (n * 1000) / loadRate;
                if (seconds !== null && due - begun >= seconds * 1000) break;
                const wait = due - Date.now();
                if (wait > 0) await sleep(wait);
                const kind = n % 5;
                const id = 1 + Math.floor(Math.random() * visitsMax);
                const sql =
                  kind < 2
                    ? [
                        'INSERT INTO game_visits (user_id, ip_address, user_agent, is_logged_in, bytes_sent, visited_at) VALUES (?, ?, ?, 1, ?, NOW(6))',
                        [1 + (n % Math.max(1, users)), '10.0.0.1', 'bench', n],
                      ]
                    : kind < 4
                      ? [
                          'UPDATE scores SET score = score + 1 WHERE id = ?',
                          [1 + Math.floor(Math.random() * scoresCount)],
                        ]
                      : ['DELETE FROM game_visits WHERE id = ?', [id]];
                let changed: number;
                try {
                  changed = await affected(c, sql[0] as string, sql[1] as unknown[]);
                } catch (error) {
                  // After a go the source is left read-only: the application's writes are refused, as intended.
                  if ((error as { errno?: number }).errno === 1290) break;
                  throw error;
                }
                rowEvents += changed;
                writes += 1;
              }
            }),
          );
          return {
            done,
            stop: async () => {
              stop = true;
              await done;
              return { writes, rowEvents, seconds: (Date.now() - begun) / 1000 };
            },
          };
        };
        const samples: { at: number; position: Position; lagMs?: number }[] = [];
        const reportedLag: number[] = [];
        const load = writer(loadSeconds);
        let loading = true;
        const loadDone = load.done.then(() => (loading = false));
        const sampler = (async () => {
          let nextAt = Date.now() + 1000;
          while (loading) {
            await sleep(Math.max(0, nextAt - Date.now()));
            nextAt += 1000;
            samples.push({ at: Date.now(), position: await masterPosition() });
            const r = await reported();
            if (r) reportedLag.push(r.lagSeconds);
          }
        })();
        // Each sample's lag: from reading the source's position to the follower committing past it.
        let sampled = false;
        const resolver = (async () => {
          while (!sampled || samples.some((s) => s.lagMs === undefined)) {
            const a = await applied();
            for (const s of samples)
              if (s.lagMs === undefined && comparePositions(a.position, s.position) >= 0) s.lagMs = a.at - s.at;
            await sleep(20);
          }
        })();
        await loadDone;
        const loadFigures = await load.stop();
        const loadEnd = Date.now();
        // Before waiting for the sampler, which may sleep up to a second until its next sample.
        const caughtUpAt = await waitCaughtUp(await masterPosition());
        await sampler;
        sampled = true;
        await resolver;
        if (profiling) run.child.kill('SIGUSR2');
        const loaded = {
          seconds: loadFigures.seconds,
          writes: loadFigures.writes,
          rowEvents: loadFigures.rowEvents,
          lagMs: samples.map((s) => s.lagMs ?? Number.NaN),
          reportedLag,
          catchUpSeconds: (caughtUpAt - loadEnd) / 1000,
        };
        log(
          `round ${round}: steady writer ${fmt(loaded.writes / loaded.seconds, 0)} writes/s for ${fmt(loaded.seconds)} s: lag median ${fmt(median(loaded.lagMs) / 1000, 2)} s, max ${fmt(Math.max(...loaded.lagMs) / 1000, 2)} s (reported: median ${median(reportedLag)} s, max ${Math.max(...reportedLag)} s)`,
        );

        // --- 3. cutover with the writer running --------------------------------------------------
        const during = writer(null);
        await sleep(3000);
        const cut = spawnWatched(
          process.execPath,
          [BIN, 'cutover', runId, '--wait', '--lock', '--max-freeze', args['max-freeze']!],
          { cwd: ROOT, env },
        );
        // When every table was verified while following (the follower's report), from its start.
        let verifiedAfter = Number.NaN;
        const verifiedWatch = (async () => {
          while (cut.child.exitCode === null) {
            const job = await queue!.getJob(`${runId}.follow`);
            const v = (job?.progress as { verification?: { tables: number; tablesVerified: number } } | undefined)
              ?.verification;
            if (v && v.tables > 0 && v.tablesVerified === v.tables) {
              verifiedAfter = (Date.now() - t0) / 1000 - copySeconds;
              return;
            }
            await sleep(500);
          }
        })();
        const cutResult = await cut.done;
        await during.stop();
        await verifiedWatch;
        const line = /cutover: (GO|NO-GO)[^\n]*/.exec(cutResult.stdout)?.[0] ?? '';
        const m =
          /writes frozen for ([\d.]+) s \(predicted ([\d.]+) s; drain ([\d.]+) s, verification ([\d.]+) s, finalize ([\d.]+) s\)/.exec(
            line,
          );
        // A separate full verification of both sides after the go (the source is left read-only).
        const verify =
          cutResult.code === 0 ? spawnWatched(process.execPath, [BIN, 'verify', runId], { cwd: ROOT, env }) : null;
        const verifyResult = verify ? await verify.done : null;
        if (verifyResult && verifyResult.code !== 0)
          log(
            `round ${round}: verify after the go:\n${verifyResult.stdout.slice(-4000)}${verifyResult.stderr.slice(-2000)}`,
          );
        await my.query('SET GLOBAL read_only = OFF');
        const summary = (await target.query('SELECT summary FROM my2pg.runs WHERE id = $1', [runId])).rows[0]
          ?.summary as { timings?: Record<string, number> } | undefined;
        const exit = await Promise.race([runExit, sleep(60_000).then(() => null)]);
        const cutoverFigures = {
          ok: cutResult.code === 0 && line.startsWith('cutover: GO') && verifyResult?.code === 0,
          line: line || (cutResult.stdout + cutResult.stderr).slice(-600),
          frozen: Number(m?.[1] ?? Number.NaN),
          predicted: Number(m?.[2] ?? Number.NaN),
          drain: Number(m?.[3] ?? Number.NaN),
          verify: Number(m?.[4] ?? Number.NaN),
          finalize: Number(m?.[5] ?? Number.NaN),
          verifiedAfter,
          verifyExit: verifyResult?.code ?? null,
          timings: summary?.timings ?? null,
          wallSeconds: cutResult.seconds,
          runExit: exit,
          problems: [] as string[],
        };
        log(`round ${round}: ${cutoverFigures.line}`);
        if (!cutoverFigures.ok) {
          // What cutover found: its report and the problems it listed (kept in the block below).
          cutoverFigures.problems = cutResult.stdout
            .split('\n')
            .filter((l) => l.startsWith('  '))
            .map((l) => l.trim());
          log(`round ${round}: cutover output:\n${cutResult.stdout.slice(-6000)}\n${cutResult.stderr.slice(-3000)}`);
        }
        if (cutoverFigures.timings) log(`round ${round}: finalize timings ${JSON.stringify(cutoverFigures.timings)}`);
        await Promise.all(writers.map((c) => c.end()));
        for (const l of run.output().split('\n')) if (l.startsWith('apply-timing:')) log(`round ${round}: ${l}`);
        results.push({ copySeconds, burst, load: loaded, cutover: cutoverFigures });
      } finally {
        if (run && run.child.exitCode === null) {
          run.child.kill('SIGTERM');
          await Promise.race([run.done, sleep(15_000)]);
          if (run.child.exitCode === null) run.child.kill('SIGKILL');
        }
        await queue?.close();
        redis.disconnect();
        await target.end();
        await dropTarget();
        await dropRedisKeys();
      }
    }
    await my.end();

    const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const pgVersion = await (async () => {
      const c = new pg.Client({ connectionString: pgServer });
      await c.connect();
      return ((await c.query('SHOW server_version')).rows[0] as { server_version: string }).server_version;
    })().catch(() => '?');
    const med = (f: (r: Round) => number, digits = 1): string => fmt(median(results.map(f)), digits);
    const each = (f: (r: Round) => number, digits = 1): string => results.map((r) => fmt(f(r), digits)).join(', ');
    const allLags = results.flatMap((r) => r.load.lagMs);
    const out = [
      `### Following the binary log, --users ${users} — ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
      '',
      `- command: \`npm run bench -- ${argv.join(' ')}\``,
      `- machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length} cores, ${fmt(totalmem() / 1024 ** 3, 0)} GB RAM; load average before: ${loadBefore}`,
      `- versions: my2pg ${commit}, Node ${process.version}, MySQL ${versionRow.v} (private: binary log ROW, FULL; innodb_buffer_pool_size ${args['buffer-pool']}), PostgreSQL ${pgVersion}`,
      `- data: ${Object.entries(counts)
        .map(([t, n]) => `${t} ${n}`)
        .join(
          ', ',
        )} = ${rows} rows, ${fmt(bytes / 1024 ** 2, 0)} MB (MySQL DATA_LENGTH); \`my2pg run --follow --concurrency ${concurrency}\`, workers in process`,
      `- burst: one transaction of ${results[0]?.burst.events !== undefined ? 'about ' : ''}${burstRows} row changes (game_visits updates and inserts, scores updates), then ${smallTransactions} transactions of 10 scores updates on 4 connections`,
      `- steady writer: ${loadRate} single-row transactions/s on 4 connections (40% INSERT game_visits, 40% UPDATE scores, 20% DELETE game_visits) for ${loadSeconds} s; lag sampled every second = from reading SHOW MASTER STATUS to the follower's commit of that position in my2pg.follow (polled every 20 ms); "reported" = the follow job's progress lagSeconds (whole seconds)`,
      `- cutover: \`my2pg cutover RUN --wait --lock --max-freeze ${args['max-freeze']}\` 3 s after the same writer starts again (FLUSH TABLES WITH READ LOCK blocks it; the writer's user has no SUPER, so read_only after the go refuses it); then \`my2pg verify RUN\``,
      '',
      '| figure | median | rounds | target |',
      '|---|---:|---|---|',
      `| copy (\`run --follow\` start → follower following) s | ${med((r) => r.copySeconds)} | ${each((r) => r.copySeconds)} | - |`,
      `| burst: row events | ${med((r) => r.burst.events, 0)} | ${each((r) => r.burst.events, 0)} | - |`,
      `| burst: source write time s | ${med((r) => r.burst.writeSeconds)} | ${each((r) => r.burst.writeSeconds)} | - |`,
      `| burst: first change → first batch committed s | ${med((r) => r.burst.firstAppliedSeconds)} | ${each((r) => r.burst.firstAppliedSeconds)} | - |`,
      `| burst: first change → caught up s | ${med((r) => r.burst.applySeconds)} | ${each((r) => r.burst.applySeconds)} | - |`,
      `| **apply rate**, row events/s (first change → caught up) | **${med((r) => r.burst.rate, 0)}** | ${each((r) => r.burst.rate, 0)} | ≥ 20000 |`,
      `| burst: commits seen (20 ms polls; one batch or a few) | ${med((r) => r.burst.commits, 0)} | ${each((r) => r.burst.commits, 0)} | - |`,
      `| burst: after the first commit, median row events per commit / ms per commit | ${med((r) => r.burst.batchEvents, 0)} / ${med((r) => r.burst.batchMs, 0)} | ${results.map((r) => `${fmt(r.burst.batchEvents, 0)}/${fmt(r.burst.batchMs, 0)}`).join(', ')} | - |`,
      `| burst: apply rate after the first commit, row events/s | ${med((r) => r.burst.batchRate, 0)} | ${each((r) => r.burst.batchRate, 0)} | - |`,
      `| burst: CPU s of the \`my2pg run\` process, first change → caught up | ${med((r) => r.burst.cpu)} | ${each((r) => r.burst.cpu)} | - |`,
      `| follow job's own eventsPerSecond, peak | ${med((r) => r.burst.peakReported, 0)} | ${each((r) => r.burst.peakReported, 0)} | - |`,
      `| steady writer: transactions/s achieved | ${med((r) => r.load.writes / r.load.seconds, 0)} | ${each((r) => r.load.writes / r.load.seconds, 0)} | ~1000 |`,
      `| steady writer: row events/s | ${med((r) => r.load.rowEvents / r.load.seconds, 0)} | ${each((r) => r.load.rowEvents / r.load.seconds, 0)} | - |`,
      `| **lag**, median of the samples s | **${med((r) => median(r.load.lagMs) / 1000, 2)}** | ${each((r) => median(r.load.lagMs) / 1000, 2)} | < 5 |`,
      `| lag, p95 s | ${med((r) => percentile(r.load.lagMs, 95) / 1000, 2)} | ${each((r) => percentile(r.load.lagMs, 95) / 1000, 2)} | - |`,
      `| **lag, max** s | **${med((r) => Math.max(...r.load.lagMs) / 1000, 2)}** | ${each((r) => Math.max(...r.load.lagMs) / 1000, 2)} | < 5 |`,
      `| lag reported by the follow job (lagSeconds), median / max s | ${med((r) => median(r.load.reportedLag), 0)} / ${med((r) => Math.max(...r.load.reportedLag), 0)} | ${results.map((r) => `${median(r.load.reportedLag)}/${Math.max(...r.load.reportedLag)}`).join(', ')} | - |`,
      `| writer stopped → caught up s | ${med((r) => r.load.catchUpSeconds, 2)} | ${each((r) => r.load.catchUpSeconds, 2)} | - |`,
      `| **cutover: writes frozen for** s | **${med((r) => r.cutover.frozen)}** | ${each((r) => r.cutover.frozen)} | ≤ 2 |`,
      `| cutover: predicted freeze s | ${med((r) => r.cutover.predicted)} | ${each((r) => r.cutover.predicted)} | within 50 % |`,
      `| cutover: drain s | ${med((r) => r.cutover.drain)} | ${each((r) => r.cutover.drain)} | - |`,
      `| cutover: re-verification inside the freeze s | ${med((r) => r.cutover.verify)} | ${each((r) => r.cutover.verify)} | - |`,
      `| cutover: finalize (foreign keys, sequences, views) s | ${med((r) => r.cutover.finalize)} | ${each((r) => r.cutover.finalize)} | - |`,
      `| every table verified while following, s after the follower started | ${med((r) => r.cutover.verifiedAfter)} | ${each((r) => r.cutover.verifiedAfter)} | - |`,
      `| \`my2pg verify\` after the go: exit | ${results.map((r) => r.cutover.verifyExit ?? '-').join(', ')} | | 0 |`,
      `| finalize: index builds s | ${med((r) => (r.cutover.timings?.indexesMs ?? Number.NaN) / 1000)} | ${each((r) => (r.cutover.timings?.indexesMs ?? Number.NaN) / 1000)} | - |`,
      `| finalize: foreign keys s | ${med((r) => (r.cutover.timings?.foreignKeysMs ?? Number.NaN) / 1000)} | ${each((r) => (r.cutover.timings?.foreignKeysMs ?? Number.NaN) / 1000)} | - |`,
      `| finalize: sequences s | ${med((r) => (r.cutover.timings?.sequencesMs ?? Number.NaN) / 1000)} | ${each((r) => (r.cutover.timings?.sequencesMs ?? Number.NaN) / 1000)} | - |`,
      `| \`my2pg cutover\` process, wall s | ${med((r) => r.cutover.wallSeconds)} | ${each((r) => r.cutover.wallSeconds)} | - |`,
      '',
      `- lag samples: ${allLags.length} over ${results.length} rounds; all rounds' median ${fmt(median(allLags) / 1000, 2)} s, max ${fmt(Math.max(...allLags) / 1000, 2)} s`,
      ...results.flatMap((r, i) => [
        `- round ${i + 1}: ${r.cutover.ok ? '' : '**not GO**: '}${r.cutover.line}; \`my2pg run --follow\` exit ${r.cutover.runExit ?? 'none within 60 s (killed)'}`,
        ...r.cutover.problems.map((p) => `  - ${p}`),
      ]),
      `- load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    return results.every((r) => r.cutover.ok) ? 0 : 1;
  } finally {
    await server?.stop();
    await dropTarget().catch(() => undefined);
    await dropRedisKeys().catch(() => undefined);
  }
}
