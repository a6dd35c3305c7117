/**
 * `npm run bench -- [options]`: generates the seed app's five tables at scale in MySQL, then
 * times `my2pg run`, pgloader (when installed) and the raw floor (`mariadb --quick -B | psql
 * COPY`, two tables at a time, into bare tables) on the same data, several rounds, and prints
 * a markdown block for docs/benchmarks.md. It creates its own databases and queue prefix and
 * drops them at the end. Not part of CI. See docs/benchmarks.md for the modes.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { openQueueBackend } from '../src/queue/open-queue-backend.js';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  BENCH_TABLES,
  FLOOR_PG_DDL,
  generateManyTablesDatabase,
  generateSourceDatabase,
  generateWideDatabase,
  sourceDataBytes,
  tableSizes,
  WIDE_TABLE,
  type BenchTable,
} from './generate.js';
import { deleteRedisPrefix, median, runShell, spawnWatched } from './measure.js';
import { queuesOfRun } from '../src/queue/target-scope.js';

// `--soak N`: N live runs in a row, each bounded (bench/soak-bench.ts).
if (process.argv.slice(2).includes('--soak')) {
  const { runSoakBench } = await import('./soak-bench.js');
  process.exit(await runSoakBench(process.argv.slice(2)));
}

// `--follow` is a benchmark of its own (a private MariaDB with the binary log on): bench/follow-bench.ts.
if (process.argv.slice(2).includes('--follow')) {
  const { runFollowBench } = await import('./follow-bench.js');
  process.exit(await runFollowBench(process.argv.slice(2)));
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/my2pg.js', import.meta.url));
const MB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '5000' },
    'range-rows': { type: 'string', default: '500000' },
    processes: { type: 'string', default: '0' },
    queue: { type: 'string' },
    scaling: { type: 'boolean', default: false },
    'memory-rows': { type: 'string' },
    'wide-rows': { type: 'string' },
    'many-tables': { type: 'string' },
    'many-rows': { type: 'string', default: '10000' },
    'wide-mb': { type: 'string', default: '10' },
    'skip-pgloader': { type: 'boolean', default: false },
    'skip-floor': { type: 'boolean', default: false },
    unverified: { type: 'boolean', default: false },
    plan: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`npm run bench -- [options]
  --users N           users rows (scores 5N, friendships N, monthly_scores 5N, game_visits 20N); default 100000
  --rounds R          rounds of each tool; medians are printed; default 3
  --concurrency C     my2pg copy jobs at once per process; default 2
  --processes P[,Q]   0 = \`my2pg run\` (workers in process, default); P>0 = \`start --wait\` with P \`my2pg worker\` processes; a list compares them
  --queue Q[,R]       where the job queue lives: postgres (the target database, the default without REDIS_URL) or redis
                      (REDIS_URL, default redis://127.0.0.1:6379); a list compares them on the same data, in the same rounds
  --batch-size B      my2pg --batch-size; default 5000
  --range-rows K      my2pg --range-rows; default 500000
  --scaling           my2pg alone at 1x, 2x and 4x --users: is time linear in data?
  --memory-rows M     memory bound: one game_visits table of M rows, my2pg with one worker process, --range-rows 0 (one stream)
  --many-tables T     many small tables: T generated tables (Magento-like: varied types, indexes, foreign keys)
                      holding --many-rows rows in all (default 10000); my2pg end to end beside pgloader
  --wide-rows N       wide rows: N rows of about --wide-mb MB (default 10; LONGTEXT with tabs, backslashes, emoji + LONGBLOB);
                      my2pg's time and peak RSS beside \`mariadb --quick -B -e 'SELECT * FROM t' > /dev/null\`
  --unverified        also time \`my2pg run --verify none\` each round (its copy phase has no verification beside it)
  --plan              also time \`my2pg plan\` (each table read once) and \`my2pg plan --quick\` each round, and set the
                      plan's duration estimate beside the measured run
  --skip-pgloader, --skip-floor, --keep (keep the databases)
  --soak N            N live rounds in a row (two workers, a writer, start --follow, cutover --wait), each bounded;
                      prints the hangs; \`npm run bench -- --soak 1 --help\` lists its options
  --follow            the --follow benchmark (apply rate, lag under a steady writer, cutover's write freeze)
                      on a private MariaDB with the binary log on; \`npm run bench -- --follow --help\` lists its options
Environment: BENCH_MYSQL_URL (mysql://root@127.0.0.1:3306), BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres), REDIS_URL.
`);
  process.exit(0);
}

const users = Number(args.users);
const rounds = Math.max(1, Number(args.rounds));
const concurrency = Number(args.concurrency);
const processList = String(args.processes).split(',').map(Number);
const mysqlServer = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const pgServer = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
type QueueKind = 'postgres' | 'redis';
const queueList = String(args.queue ?? (process.env.REDIS_URL ? 'redis' : 'postgres'))
  .split(',')
  .map((q) => q.trim()) as QueueKind[];
if (queueList.some((q) => q !== 'postgres' && q !== 'redis')) {
  process.stderr.write(`bench: --queue takes postgres, redis or both (got ${args.queue})\n`);
  process.exit(2);
}
/** The queue backend of the my2pg run being timed. */
let currentQueue: QueueKind = queueList[0]!;
/** A my2pg variant of the comparison: the queue backend and the processes (0 = `my2pg run`). */
interface Variant {
  queue: QueueKind;
  processes: number;
}
const variants: Variant[] = queueList.flatMap((queue) => processList.map((processes) => ({ queue, processes })));
const variantKey = (v: Variant): string => `${v.queue}/${v.processes}`;
function variantLabel(v: Variant): string {
  const what =
    v.processes === 0
      ? 'my2pg run (end to end, 1 process)'
      : `my2pg start --wait + ${v.processes} worker process${v.processes > 1 ? 'es' : ''}`;
  return queueList.length > 1 || v.queue === 'postgres'
    ? `${what}, queue in ${v.queue === 'redis' ? 'Redis' : 'PostgreSQL'}`
    : what;
}
const tag = randomBytes(3).toString('hex');
const names = {
  source: `my2pg_bench_${tag}`,
  my2pg: `my2pg_bench_${tag}_t`,
  pgloader: `my2pg_bench_${tag}_pgl`,
  floor: `my2pg_bench_${tag}_floor`,
};
const prefix = `my2pg-bench-${tag}`;

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function recreatePgDatabase(name: string, ddl: string[] = []): Promise<void> {
  const admin = new pg.Client({ connectionString: pgServer });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  if (ddl.length === 0) return;
  const client = new pg.Client({ connectionString: withDatabase(pgServer, name) });
  await client.connect();
  try {
    for (const statement of ddl) await client.query(statement);
  } finally {
    await client.end();
  }
}

/**
 * Lets the servers settle between tools: a CHECKPOINT flushes what the previous tool wrote,
 * so its background writes do not slow the next one down (the order of tools stays fair).
 */
async function settle(): Promise<void> {
  const admin = new pg.Client({ connectionString: pgServer });
  await admin.connect();
  await admin
    .query('CHECKPOINT')
    .catch(() => undefined)
    .finally(() => admin.end());
  await new Promise((r) => setTimeout(r, 1000));
}

async function dropPgDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: pgServer });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).finally(() => admin.end());
}

async function countPgRows(
  database: string,
  schema: string,
  tables: readonly string[],
): Promise<Record<string, number | null>> {
  const client = new pg.Client({ connectionString: withDatabase(pgServer, database) });
  await client.connect();
  const out: Record<string, number | null> = {};
  try {
    for (const table of tables) {
      const r = await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}"."${table}"`).catch(() => null);
      out[table] = r ? Number(r.rows[0]?.n ?? 0) : null;
    }
  } finally {
    await client.end();
  }
  return out;
}

/**
 * Where a my2pg run's time went, s. Spans are wall time on the run's clock; `…Busy` sums the
 * time of every job doing that work (jobs overlap: two copy jobs at once, a table verified and
 * indexed while others are copied).
 */
interface Phases {
  /** Start of the command → first copy job started (plan, create tables, enqueue). */
  prepare: number;
  /** First copy job started → last copy committed. */
  copy: number;
  /** Last copy committed → finalize done (what the pipeline could not overlap). */
  afterCopy: number;
  /** finalize job, start to end. */
  finalize: number;
  copyBusy: number;
  /** Copy jobs verifying their table or range right after the commit. */
  verifyBusy: number;
  /** Copy jobs rebuilding their table's indexes. */
  indexBusy: number;
  /** finalize: indexes left (failed in a job), foreign keys, sequences + alembic, verification of tables no job verified. */
  finalizeIndexes: number;
  finalizeForeignKeys: number;
  finalizeSequences: number;
  finalizeVerify: number;
}

/** One timed run of a tool. */
interface Sample {
  seconds: number;
  peakRssBytes: number;
  ok: boolean;
  note?: string;
  phases?: Phases;
}

const my2pgEnv = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  MYSQL_URL: withDatabase(mysqlServer, names.source),
  DATABASE_URL: withDatabase(pgServer, names.my2pg),
  ...(currentQueue === 'redis' ? { REDIS_URL: redisUrl } : {}),
  MY2PG_QUEUE_PREFIX: prefix,
  MY2PG_LOG_LEVEL: 'warn',
});

/** Phase times of a run from BullMQ's own timestamps (processedOn / finishedOn) and the jobs' return values. */
async function readPhases(runId: string, startedAt: number): Promise<Phases | undefined> {
  // The run's queues, as it recorded them (they are named after its target).
  const client = new pg.Client({ connectionString: withDatabase(pgServer, names.my2pg) });
  await client.connect();
  const recorded = await client
    .query('SELECT options FROM my2pg.runs WHERE id = $1', [runId])
    .finally(() => client.end());
  const queueNames = queuesOfRun(recorded.rows[0]?.options as Record<string, unknown> | undefined);
  const backend = openQueueBackend(loadConfig({}, ['queue'], my2pgEnv()), { role: 'producer' });
  const copy = backend.queue(queueNames.copy);
  const finalize = backend.queue(queueNames.finalize);
  try {
    const jobs = (await copy.getJobs(['completed'], 0, -1)).filter((j) => j.id?.startsWith(`${runId}.`));
    const fin = await finalize.getJob(`${runId}.finalize`);
    if (jobs.length === 0 || !fin?.processedOn || !fin.finishedOn) return undefined;
    type Result = { durationMs?: number; timings?: { verifyMs: number; indexesMs: number } };
    const result = (j: (typeof jobs)[number]): Result => (j.returnvalue ?? {}) as Result;
    const first = Math.min(...jobs.map((j) => j.processedOn ?? Infinity));
    const lastCommit = Math.max(...jobs.map((j) => (j.processedOn ?? 0) + (result(j).durationMs ?? 0)));
    const sum = (pick: (r: Result) => number | undefined): number =>
      jobs.reduce((n, j) => n + (pick(result(j)) ?? 0), 0) / 1000;
    const t = (
      fin.returnvalue as {
        timings?: { indexesMs: number; foreignKeysMs: number; sequencesMs: number; verifyMs: number };
      } | null
    )?.timings;
    return {
      prepare: (first - startedAt) / 1000,
      copy: (lastCommit - first) / 1000,
      afterCopy: (fin.finishedOn - lastCommit) / 1000,
      finalize: (fin.finishedOn - fin.processedOn) / 1000,
      copyBusy: sum((r) => r.durationMs),
      verifyBusy: sum((r) => r.timings?.verifyMs),
      indexBusy: sum((r) => r.timings?.indexesMs),
      finalizeIndexes: (t?.indexesMs ?? 0) / 1000,
      finalizeForeignKeys: (t?.foreignKeysMs ?? 0) / 1000,
      finalizeSequences: (t?.sequencesMs ?? 0) / 1000,
      finalizeVerify: (t?.verifyMs ?? 0) / 1000,
    };
  } finally {
    await backend.close();
  }
}

/** The per-phase table of a tool's rounds (medians). */
function phaseTable(label: string, samples: readonly Sample[]): string[] {
  const ok = samples.filter((s) => s.phases);
  if (ok.length === 0) return [];
  const m = (pick: (p: Phases) => number): string => fmt(median(ok.map((s) => pick(s.phases!))));
  return [
    `Phases of ${label} (medians of ${ok.length} round${ok.length > 1 ? 's' : ''}; spans are wall time, "busy" sums the jobs doing that work, which overlap):`,
    '',
    '| phase | span s | busy s |',
    '|---|---:|---:|',
    `| plan (start → first copy job: catalog, create tables, enqueue) | ${m((p) => p.prepare)} | - |`,
    `| copy (first copy job → last commit) | ${m((p) => p.copy)} | ${m((p) => p.copyBusy)} |`,
    `| indexes: in copy jobs, after each table's commit (a split table's: its last range) | - | ${m((p) => p.indexBusy)} |`,
    `| verification: in copy jobs, after each commit | - | ${m((p) => p.verifyBusy)} |`,
    `| after the last commit → finalize done | ${m((p) => p.afterCopy)} | - |`,
    `| finalize | ${m((p) => p.finalize)} | - |`,
    `| finalize: indexes left (builds that failed in a job) | ${m((p) => p.finalizeIndexes)} | - |`,
    `| finalize: foreign keys (NOT VALID, VALIDATE) | ${m((p) => p.finalizeForeignKeys)} | - |`,
    `| finalize: sequences, alembic_version | ${m((p) => p.finalizeSequences)} | - |`,
    `| finalize: verification of tables no job verified, results recorded | ${m((p) => p.finalizeVerify)} | - |`,
    `| end to end | ${fmt(median(ok.map((s) => s.seconds)))} | - |`,
  ];
}

async function runMy2pg(options: { processes: number; rangeRows?: string; verifyNone?: boolean }): Promise<Sample> {
  await recreatePgDatabase(names.my2pg);
  const env = my2pgEnv();
  const planFlags = [
    '--batch-size',
    String(args['batch-size']),
    '--range-rows',
    options.rangeRows ?? String(args['range-rows']),
    ...(options.verifyNone ? ['--verify', 'none'] : []),
  ];
  const settled = options.verifyNone
    ? /run (run-[\w.-]+): every table copied; not verified \(--verify none\)/
    : /run (run-[\w.-]+): every table copied and verified/;
  const startedAt = Date.now();
  if (options.processes === 0) {
    const run = spawnWatched(process.execPath, [BIN, 'run', '--concurrency', String(concurrency), ...planFlags], {
      cwd: ROOT,
      env,
    });
    const result = await run.done;
    const runId = settled.exec(result.stdout)?.[1];
    const phases = runId ? await readPhases(runId, startedAt) : undefined;
    return {
      seconds: result.seconds,
      peakRssBytes: result.peakRssBytes,
      ok: result.code === 0 && runId !== undefined,
      phases,
      ...(result.code === 0 ? {} : { note: (result.stdout + result.stderr).slice(-400) }),
    };
  }
  const workers = Array.from({ length: options.processes }, () =>
    spawnWatched(process.execPath, [BIN, 'worker', '--concurrency', String(concurrency)], { cwd: ROOT, env }),
  );
  for (const w of workers) {
    const t0 = Date.now();
    while (!/worker: ready/.test(w.output())) {
      if (Date.now() - t0 > 30_000) throw new Error(`a my2pg worker did not start: ${w.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const t1 = Date.now();
  const start = spawnWatched(process.execPath, [BIN, 'start', '--wait', ...planFlags], { cwd: ROOT, env });
  const result = await start.done;
  for (const w of workers) w.child.kill('SIGTERM');
  const ends = await Promise.all(workers.map((w) => w.done));
  const runId = settled.exec(result.stdout)?.[1];
  const phases = runId ? await readPhases(runId, t1) : undefined;
  return {
    seconds: result.seconds,
    peakRssBytes: Math.max(...ends.map((e) => e.peakRssBytes)),
    ok: result.code === 0 && runId !== undefined,
    phases,
    ...(result.code === 0 ? {} : { note: (result.stdout + result.stderr).slice(-400) }),
  };
}

/** One \`my2pg plan --json\` (counting, or \`--quick\`) against an empty target: its time and its duration estimate. */
async function timePlan(quick: boolean): Promise<Sample & { estimate: number | null }> {
  await recreatePgDatabase(names.my2pg);
  const run = spawnWatched(
    process.execPath,
    [
      BIN,
      'plan',
      '--json',
      '--concurrency',
      String(concurrency),
      '--range-rows',
      String(args['range-rows']),
      ...(quick ? ['--quick'] : []),
    ],
    { cwd: ROOT, env: my2pgEnv() },
  );
  const result = await run.done;
  let estimate: number | null = null;
  try {
    estimate = (JSON.parse(result.stdout) as { estimate: { seconds: number } | null }).estimate?.seconds ?? null;
  } catch {
    // a failed plan is reported through ok/note
  }
  return {
    seconds: result.seconds,
    peakRssBytes: result.peakRssBytes,
    ok: result.code === 0,
    estimate,
    ...(result.code === 0 ? {} : { note: (result.stdout + result.stderr).slice(-400) }),
  };
}

async function runPgloader(expected: Record<string, number>): Promise<Sample> {
  await recreatePgDatabase(names.pgloader);
  // pgloader's defaults (carry on after errors, report them) are what users get.
  const run = spawnWatched(
    'pgloader',
    [withDatabase(mysqlServer, names.source), withDatabase(pgServer, names.pgloader)],
    { env: process.env },
  );
  const result = await run.done;
  // pgloader puts the tables in a schema named after the MySQL database.
  const counts = await countPgRows(names.pgloader, names.source, Object.keys(expected));
  const wrong = Object.entries(expected)
    .filter(([t, n]) => counts[t] !== n)
    .map(([t, n]) => `${t} ${counts[t] ?? 'missing'}/${n}`);
  return {
    seconds: result.seconds,
    peakRssBytes: result.peakRssBytes,
    ok: result.code === 0 && wrong.length === 0,
    ...(wrong.length > 0 || result.code !== 0
      ? { note: `exit ${result.code}; rows: ${wrong.join(', ') || 'all'}` }
      : {}),
  };
}

/** One round of pgloader on a quiet machine; its target database is dropped after. */
async function timePgloader(round: number, counts: Record<string, number>): Promise<Sample> {
  await settle();
  const sample = await runPgloader(counts);
  log(`round ${round}: pgloader ${fmt(sample.seconds)} s ${sample.note ?? ''}`);
  await dropPgDatabase(names.pgloader);
  return sample;
}

/** One round of my2pg per variant (--queue × --processes, 0 = `run`), each added to its samples. */
async function timeMy2pgProcesses(round: number, samples: Map<string, Sample[]>): Promise<void> {
  for (const v of variants) {
    await settle();
    currentQueue = v.queue;
    const s = await runMy2pg({ processes: v.processes });
    samples.get(variantKey(v))!.push(s);
    log(
      `round ${round}: my2pg (${v.processes === 0 ? 'run' : `${v.processes} worker processes`}, queue ${v.queue}) ${fmt(s.seconds)} s, phases ${JSON.stringify(s.phases)}, peak RSS ${fmt(s.peakRssBytes / MB, 0)} MB ${s.ok ? '' : s.note}`,
    );
  }
  currentQueue = queueList[0]!;
}

/** The ratio of each queue's median to the first queue's, per --processes, when several are compared. */
function queueRatios(samples: Map<string, Sample[]>): string[] {
  if (queueList.length < 2) return [];
  const [first, ...others] = queueList;
  const medianOf = (v: Variant): number =>
    median((samples.get(variantKey(v)) ?? []).filter((x) => x.ok).map((x) => x.seconds));
  return processList.flatMap((processes) =>
    others.map((queue) => {
      const a = medianOf({ queue: first!, processes });
      const b = medianOf({ queue, processes });
      return `- ${variantLabel({ queue, processes })}: median ${fmt(b)} s beside ${fmt(a)} s with the queue in ${first === 'redis' ? 'Redis' : 'PostgreSQL'}: ${fmt(b / a, 2)}×`;
    }),
  );
}

function mysqlCliArgs(): string {
  const u = new URL(mysqlServer);
  return `-h ${u.hostname} -P ${u.port || '3306'} -u ${decodeURIComponent(u.username || 'root')}`;
}

async function runFloor(tables: readonly BenchTable[]): Promise<Sample> {
  await recreatePgDatabase(
    names.floor,
    tables.map((t) => FLOOR_PG_DDL[t]),
  );
  const client = execFileSync('bash', ['-c', 'command -v mariadb || command -v mysql']).toString().trim();
  const pgUrl = withDatabase(pgServer, names.floor);
  const password = decodeURIComponent(new URL(mysqlServer).password);
  const env = { ...process.env, ...(password ? { MYSQL_PWD: password } : {}) };
  const started = process.hrtime.bigint();
  const queue = [...tables].sort((a, b) => tableSizes(users)[b] - tableSizes(users)[a]);
  const failures: string[] = [];
  // Two pipelines at a time, biggest tables first.
  await Promise.all(
    [0, 1].map(async () => {
      for (let table = queue.shift(); table; table = queue.shift()) {
        const r = await runShell(
          `${client} --quick -B -N ${mysqlCliArgs()} ${names.source} -e 'SELECT * FROM \`${table}\`' | psql -X -q '${pgUrl}' -c "COPY ${table} FROM STDIN WITH (NULL 'NULL')"`,
          env,
        );
        if (r.code !== 0) failures.push(`${table}: ${r.output.slice(0, 200)}`);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    seconds,
    peakRssBytes: 0,
    ok: failures.length === 0,
    ...(failures.length > 0 ? { note: failures.join('; ') } : {}),
  };
}

function version(cmd: string, argv: string[]): string {
  try {
    return execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .split('\n')[0]!
      .trim();
  } catch {
    return 'not installed';
  }
}

async function serverVersions(): Promise<{ mysql: string; pg: string }> {
  const my = await mysql.createConnection({ uri: mysqlServer });
  const [rows] = await my.query('SELECT VERSION() AS v');
  await my.end();
  const client = new pg.Client({ connectionString: pgServer });
  await client.connect();
  const r = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  await client.end();
  return { mysql: String((rows as { v: string }[])[0]?.v), pg: r.rows[0]?.v ?? '?' };
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const loadAverage = (): string => version('cat', ['/proc/loadavg']).split(' ').slice(0, 3).join(' ');

interface Summary {
  name: string;
  samples: Sample[];
}

function summarize(rows: number, bytes: number, summaries: Summary[]): string[] {
  const med = (s: Summary) => median(s.samples.filter((x) => x.ok).map((x) => x.seconds));
  const pgl = summaries.find((s) => s.name === 'pgloader');
  const floor = summaries.find((s) => s.name.startsWith('raw floor'));
  const lines = [
    '| tool | median s | rows/s | MB/s | peak RSS MB | vs pgloader | vs raw floor | rounds (s) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of summaries) {
    const m = med(s);
    const rss = Math.max(0, ...s.samples.map((x) => x.peakRssBytes));
    const roundsText = s.samples.map((x) => `${fmt(x.seconds)}${x.ok ? '' : ' ✗'}`).join(', ');
    lines.push(
      `| ${s.name} | ${fmt(m)} | ${fmt(rows / m, 0)} | ${fmt(bytes / MB / m)} | ${rss > 0 ? fmt(rss / MB, 0) : '-'} | ${pgl && s !== pgl ? fmt(m / med(pgl), 2) : '-'} | ${floor && s !== floor ? fmt(m / med(floor), 2) : '-'} | ${roundsText} |`,
    );
  }
  for (const s of summaries)
    for (const x of s.samples) if (x.note) lines.push(`- ${s.name}: ${x.note.replace(/\s+/g, ' ')}`);
  return lines;
}

/** A table of medians, peak RSS and the ratio of each to one reference. */
function summarizeAgainst(
  rows: number,
  bytes: number,
  summaries: Summary[],
  reference: Summary,
  ratioLabel: string,
): string[] {
  const med = (s: Summary) => median(s.samples.filter((x) => x.ok).map((x) => x.seconds));
  const lines = [
    `| tool | median s | rows/s | MB/s | peak RSS MB | ${ratioLabel} | rounds (s) |`,
    '|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const s of summaries) {
    const m = med(s);
    const rss = Math.max(0, ...s.samples.map((x) => x.peakRssBytes));
    lines.push(
      `| ${s.name} | ${fmt(m)} | ${fmt(rows / m, 0)} | ${fmt(bytes / MB / m)} | ${rss > 0 ? fmt(rss / MB, 0) : '-'} | ${s !== reference ? fmt(m / med(reference), 2) : '-'} | ${s.samples.map((x) => `${fmt(x.seconds)}${x.ok ? '' : ' ✗'}`).join(', ')} |`,
    );
  }
  for (const s of summaries)
    for (const x of s.samples) if (x.note) lines.push(`- ${s.name}: ${x.note.replace(/\s+/g, ' ')}`);
  return lines;
}

function copyPhaseSummary(samples: Sample[]): Summary {
  return {
    name: 'my2pg copy phase',
    samples: samples.filter((s) => s.phases).map((s) => ({ seconds: s.phases!.copy, peakRssBytes: 0, ok: s.ok })),
  };
}

async function header(mode: string): Promise<string[]> {
  const v = await serverVersions();
  const commit = version('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  return [
    `### ${mode} — ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    `- command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``,
    `- machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length} cores, ${fmt(totalmem() / 1024 / MB, 0)} GB RAM; load average before: ${loadAverage()}`,
    `- versions: my2pg ${commit}, Node ${process.version}, MySQL ${v.mysql}, PostgreSQL ${v.pg}, ${version('pgloader', ['--version'])}`,
  ];
}

async function cleanup(): Promise<void> {
  if (args.keep) return;
  const my = await mysql.createConnection({ uri: mysqlServer });
  await my.query(`DROP DATABASE IF EXISTS \`${names.source}\``).catch(() => undefined);
  await my.end();
  for (const name of [names.my2pg, names.pgloader, names.floor]) await dropPgDatabase(name).catch(() => undefined);
  if (queueList.includes('redis')) await deleteRedisPrefix(redisUrl, prefix);
}

async function compareMode(): Promise<string[]> {
  const out = await header(`Comparison, --users ${users}`);
  const counts = await generateSourceDatabase(mysqlServer, names.source, users, { log });
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  const bytes = await sourceDataBytes(mysqlServer, names.source);
  out.push(
    `- data: ${Object.entries(counts)
      .map(([t, n]) => `${t} ${n}`)
      .join(', ')} = ${rows} rows, ${fmt(bytes / MB, 0)} MB (MySQL DATA_LENGTH)`,
  );
  out.push(
    `- my2pg: --concurrency ${concurrency}, --batch-size ${args['batch-size']}, --range-rows ${args['range-rows']}; end to end = plan, create tables, copy, indexes, foreign keys, sequences, verification`,
    '',
  );
  const havePgloader = !args['skip-pgloader'] && version('pgloader', ['--version']) !== 'not installed';
  const my2pgRuns = new Map<string, Sample[]>(variants.map((v) => [variantKey(v), []]));
  const unverified: Sample[] = [];
  const pgl: Sample[] = [];
  const floor: Sample[] = [];
  const plans: (Sample & { estimate: number | null })[] = [];
  const quickPlans: Sample[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    if (args.plan) {
      await settle();
      plans.push(await timePlan(false));
      quickPlans.push(await timePlan(true));
      log(
        `round ${round}: my2pg plan ${fmt(plans.at(-1)!.seconds)} s (estimate ${plans.at(-1)!.estimate} s), --quick ${fmt(quickPlans.at(-1)!.seconds)} s ${plans.at(-1)!.note ?? ''}`,
      );
    }
    if (!args['skip-floor']) {
      await settle();
      floor.push(await runFloor(BENCH_TABLES));
      log(`round ${round}: raw floor ${fmt(floor.at(-1)!.seconds)} s`);
    }
    if (havePgloader) pgl.push(await timePgloader(round, counts));
    await timeMy2pgProcesses(round, my2pgRuns);
    if (args.unverified) {
      await settle();
      unverified.push(await runMy2pg({ processes: 0, verifyNone: true }));
      log(
        `round ${round}: my2pg run --verify none ${fmt(unverified.at(-1)!.seconds)} s, phases ${JSON.stringify(unverified.at(-1)!.phases)}`,
      );
    }
    await dropPgDatabase(names.floor);
  }
  const summaries: Summary[] = [];
  for (const v of variants) {
    const label = variantLabel(v);
    const samples = my2pgRuns.get(variantKey(v))!;
    summaries.push({ name: label, samples });
    summaries.push({ ...copyPhaseSummary(samples), name: `${label}: copy phase` });
  }
  if (args.unverified) {
    summaries.push({ name: 'my2pg run --verify none (end to end)', samples: unverified });
    summaries.push({ ...copyPhaseSummary(unverified), name: 'my2pg run --verify none: copy phase' });
  }
  if (args.plan) {
    summaries.push({ name: 'my2pg plan (reads each table once, writes nothing)', samples: plans });
    summaries.push({ name: 'my2pg plan --quick (catalogs only)', samples: quickPlans });
  }
  if (havePgloader) summaries.push({ name: 'pgloader', samples: pgl });
  if (!args['skip-floor'])
    summaries.push({ name: 'raw floor (mariadb --quick -B → psql COPY, 2 at a time)', samples: floor });
  out.push(...summarize(rows, bytes, summaries), '');
  if (args.plan) {
    const estimates = plans.flatMap((p) => (p.estimate === null ? [] : [p.estimate]));
    const measured = median((my2pgRuns.get(variantKey(variants[0]!)) ?? []).filter((x) => x.ok).map((x) => x.seconds));
    out.push(
      `- plan's duration estimate: median ${fmt(median(estimates))} s (rounds ${estimates.join(', ')}) beside the measured \`my2pg run\` median ${fmt(measured)} s (${fmt(median(estimates) / measured, 2)}×)`,
      '',
    );
  }
  out.push(...queueRatios(my2pgRuns), '');
  for (const v of variants) out.push(...phaseTable(`\`${variantLabel(v)}\``, my2pgRuns.get(variantKey(v))!), '');
  if (args.unverified) out.push(...phaseTable('`my2pg run --verify none`', unverified), '');
  return out;
}

async function scalingMode(): Promise<string[]> {
  const out = await header(`Linear scaling, --users ${users} × 1, 2, 4`);
  out.push(
    '',
    '| data | rows | MB | median s | s per million rows | vs 1× | peak RSS MB | rounds (s) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  );
  let base = Number.NaN;
  for (const factor of [1, 2, 4]) {
    const counts = await generateSourceDatabase(mysqlServer, names.source, users * factor, { log });
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    const bytes = await sourceDataBytes(mysqlServer, names.source);
    const samples: Sample[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      await settle();
      samples.push(await runMy2pg({ processes: processList[0] ?? 0 }));
      log(`${factor}×: ${fmt(samples.at(-1)!.seconds)} s ${samples.at(-1)!.ok ? '' : samples.at(-1)!.note}`);
    }
    const m = median(samples.filter((s) => s.ok).map((s) => s.seconds));
    if (factor === 1) base = m;
    out.push(
      `| ${factor}× | ${rows} | ${fmt(bytes / MB, 0)} | ${fmt(m)} | ${fmt((m / rows) * 1e6, 2)} | ${fmt(m / base, 2)} | ${fmt(Math.max(...samples.map((s) => s.peakRssBytes)) / MB, 0)} | ${samples.map((s) => fmt(s.seconds) + (s.ok ? '' : ' ✗')).join(', ')} |`,
    );
  }
  return out;
}

async function memoryMode(rowsWanted: number): Promise<string[]> {
  const out = await header(`Memory bound, game_visits ${rowsWanted} rows`);
  const counts = await generateSourceDatabase(mysqlServer, names.source, 1000, {
    tables: ['users', 'game_visits'],
    rowsOverride: { game_visits: rowsWanted },
    log,
  });
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  const bytes = await sourceDataBytes(mysqlServer, names.source);
  out.push(
    `- data: ${rows} rows, ${fmt(bytes / MB, 0)} MB; one \`my2pg worker\` process (--concurrency ${concurrency}) and \`my2pg start --wait\``,
    '',
  );
  out.push('| --range-rows | jobs | wall s | rows/s | worker peak RSS MB | verified |', '|---|---|---:|---:|---:|---|');
  for (const rangeRows of ['0', String(args['range-rows'])]) {
    await settle();
    const s = await runMy2pg({ processes: 1, rangeRows });
    log(
      `memory, --range-rows ${rangeRows}: ${fmt(s.seconds)} s, worker peak RSS ${fmt(s.peakRssBytes / MB, 0)} MB ${s.ok ? '' : s.note}`,
    );
    out.push(
      `| ${rangeRows} | ${rangeRows === '0' ? 'one stream for the whole table' : 'key ranges'} | ${fmt(s.seconds)} | ${fmt(rows / s.seconds, 0)} | ${fmt(s.peakRssBytes / MB, 0)} | ${s.ok ? 'yes' : `no: ${s.note}`} |`,
    );
  }
  return out;
}

/** `mariadb --quick -B -e 'SELECT * FROM t' > /dev/null`: the time to read a table out of MySQL. */
async function readTableTime(table: string): Promise<Sample> {
  const client = execFileSync('bash', ['-c', 'command -v mariadb || command -v mysql']).toString().trim();
  const password = decodeURIComponent(new URL(mysqlServer).password);
  const env = { ...process.env, ...(password ? { MYSQL_PWD: password } : {}) };
  // A row bigger than the client's default packet (16 MB) would be refused: allow any.
  const r = await runShell(
    `${client} --quick -B --max-allowed-packet=1G ${mysqlCliArgs()} ${names.source} -e 'SELECT * FROM \`${table}\`' > /dev/null`,
    env,
  );
  return {
    seconds: r.seconds,
    peakRssBytes: 0,
    ok: r.code === 0,
    ...(r.code === 0 ? {} : { note: r.output.slice(0, 300) }),
  };
}

async function wideMode(rowsWanted: number, rowMb: number): Promise<string[]> {
  const out = await header(`Wide rows, ${rowsWanted} rows × ${rowMb} MB`);
  const counts = await generateWideDatabase(mysqlServer, names.source, rowsWanted, rowMb, { log });
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  const bytes = await sourceDataBytes(mysqlServer, names.source);
  out.push(
    `- data: ${WIDE_TABLE}: ${rows} rows, ${fmt(bytes / MB, 0)} MB (MySQL DATA_LENGTH); each row about ${rowMb / 2} MB of LONGTEXT (tabs, backslashes, newlines, emoji, Hangul) and ${rowMb / 2} MB of LONGBLOB (random bytes)`,
    `- my2pg: --concurrency ${concurrency}, --batch-size ${args['batch-size']}, --range-rows ${args['range-rows']}; pgloader is not run (it exhausts its heap on this table and hangs, see issue 14)`,
    '',
  );
  const my2pg = new Map<number, Sample[]>(processList.map((p) => [p, []]));
  const unverified: Sample[] = [];
  const read: Sample[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    await settle();
    read.push(await readTableTime(WIDE_TABLE));
    log(`round ${round}: mariadb --quick read ${fmt(read.at(-1)!.seconds)} s ${read.at(-1)!.note ?? ''}`);
    for (const p of processList) {
      await settle();
      const s = await runMy2pg({ processes: p });
      my2pg.get(p)!.push(s);
      log(
        `round ${round}: my2pg (${p === 0 ? 'run' : `${p} worker processes`}) ${fmt(s.seconds)} s, phases ${JSON.stringify(s.phases)}, peak RSS ${fmt(s.peakRssBytes / MB, 0)} MB ${s.ok ? '' : s.note}`,
      );
    }
    if (args.unverified) {
      await settle();
      unverified.push(await runMy2pg({ processes: 0, verifyNone: true }));
      log(
        `round ${round}: my2pg run --verify none ${fmt(unverified.at(-1)!.seconds)} s, phases ${JSON.stringify(unverified.at(-1)!.phases)}, peak RSS ${fmt(unverified.at(-1)!.peakRssBytes / MB, 0)} MB`,
      );
    }
  }
  const summaries: Summary[] = [];
  for (const [p, samples] of my2pg) {
    const label =
      p === 0 ? 'my2pg run (end to end, 1 process)' : `my2pg start --wait + ${p} worker process${p > 1 ? 'es' : ''}`;
    summaries.push({ name: label, samples });
    summaries.push({ ...copyPhaseSummary(samples), name: `${label}: copy phase` });
  }
  if (args.unverified) {
    summaries.push({ name: 'my2pg run --verify none (end to end)', samples: unverified });
    summaries.push({ ...copyPhaseSummary(unverified), name: 'my2pg run --verify none: copy phase' });
  }
  summaries.push({ name: "mariadb --quick -B -e 'SELECT * FROM t' > /dev/null", samples: read });
  out.push(...summarizeAgainst(rows, bytes, summaries, summaries.at(-1)!, 'vs mariadb read'), '');
  for (const [p, samples] of my2pg)
    out.push(...phaseTable(p === 0 ? '`my2pg run`' : `\`my2pg start --wait\` + ${p} worker processes`, samples), '');
  if (args.unverified) out.push(...phaseTable('`my2pg run --verify none`', unverified), '');
  return out;
}

async function manyTablesMode(tableCount: number, rowCount: number): Promise<string[]> {
  const out = await header(`Many small tables, ${tableCount} tables, ${rowCount} rows`);
  const counts = await generateManyTablesDatabase(mysqlServer, names.source, tableCount, rowCount, { log });
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  const bytes = await sourceDataBytes(mysqlServer, names.source);
  out.push(
    `- data: ${Object.keys(counts).length} tables (${Object.values(counts).filter((n) => n === 0).length} empty), ${rows} rows, ${fmt(bytes / MB, 1)} MB (MySQL DATA_LENGTH); 3 to 11 columns of 14 types, a primary key, secondary and unique indexes, foreign keys to earlier tables`,
    `- my2pg: --concurrency ${concurrency}; end to end = plan, create tables, copy, indexes, foreign keys, sequences, checksum verification of every table`,
    '',
  );
  const havePgloader = !args['skip-pgloader'] && version('pgloader', ['--version']) !== 'not installed';
  const my2pg = new Map<string, Sample[]>(variants.map((v) => [variantKey(v), []]));
  const pgl: Sample[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    if (havePgloader) pgl.push(await timePgloader(round, counts));
    await timeMy2pgProcesses(round, my2pg);
  }
  const summaries: Summary[] = [];
  for (const v of variants) summaries.push({ name: variantLabel(v), samples: my2pg.get(variantKey(v))! });
  if (havePgloader) summaries.push({ name: 'pgloader', samples: pgl });
  out.push(...summarize(rows, bytes, summaries), '');
  out.push(...queueRatios(my2pg), '');
  for (const v of variants) out.push(...phaseTable(`\`${variantLabel(v)}\``, my2pg.get(variantKey(v))!), '');
  return out;
}

let lines: string[] = [];
try {
  if (args['many-tables']) lines = await manyTablesMode(Number(args['many-tables']), Number(args['many-rows']));
  else if (args['wide-rows']) lines = await wideMode(Number(args['wide-rows']), Number(args['wide-mb']));
  else if (args['memory-rows']) lines = await memoryMode(Number(args['memory-rows']));
  else if (args.scaling) lines = await scalingMode();
  else lines = await compareMode();
  lines.push('', `- load average after: ${loadAverage()}`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await cleanup();
}
