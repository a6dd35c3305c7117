/**
 * `npm run bench:cpu -- [--users N] [--rounds R] [--redis URL]`: where one `my2pg run` spends
 * CPU. A private MariaDB (binary log off, 2 GB buffer pool: the data is read from memory) and a
 * private PostgreSQL (fsync, full_page_writes and synchronous_commit on) are started, the bench
 * data generated, then each round runs `my2pg run --verify none` and `my2pg run` into an empty
 * database and reads the CPU seconds of each side from /proc: the my2pg process (user + system),
 * mariadbd, and the postmaster with every backend it reaped. The figures feed docs/scaling.md.
 * Not part of CI.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { generateSourceDatabase, sourceDataBytes } from './generate.js';
import { median } from './measure.js';
import { startPrivateMariadb } from './private-mariadb.js';
import { startPrivatePostgres } from './private-postgres.js';

const BIN = fileURLToPath(new URL('../bin/my2pg.js', import.meta.url));
const CLOCK_TICKS = 100; // `getconf CLK_TCK` on Linux

/** CPU seconds of a process from /proc (with `reaped`, also of the children it waited for). */
function cpuSeconds(pid: number, reaped: boolean): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // After "pid (comm) ": state is field 0, utime 11, stime 12, cutime 13, cstime 14.
  const ticks = Number(fields[11]) + Number(fields[12]) + (reaped ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / CLOCK_TICKS;
}

interface Round {
  wall: number;
  my2pg: number;
  mariadb: number;
  postgres: number;
  rssMb: number;
}

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '2' },
    redis: { type: 'string', default: '' },
  },
});
const users = Number(args.users);
const rounds = Number(args.rounds);

const mariadb = await startPrivateMariadb({ binlog: false, serverArgs: ['--innodb-buffer-pool-size=2G'] });
const postgres = await startPrivatePostgres({
  settings: {
    fsync: 'on',
    synchronous_commit: 'on',
    full_page_writes: 'on',
    shared_buffers: '512MB',
    autovacuum: 'off',
    max_wal_size: '4GB',
  },
});
try {
  const mariadbPid = Number(readFileSync(join(dirname(mariadb.datadir), 'mysqld.pid'), 'utf8').trim());
  const postmasterPid = Number(readFileSync(join(postgres.datadir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const counts = await generateSourceDatabase(mariadb.url, 'cpu_source', users);
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  const mb = (await sourceDataBytes(mariadb.url, 'cpu_source')) / 1e6;
  const results: Record<string, Round[]> = { 'my2pg run --verify none': [], 'my2pg run': [] };
  const load = loadavg().map((l) => l.toFixed(2));
  for (let round = 1; round <= rounds; round++) {
    for (const [label, extra] of [
      ['my2pg run --verify none', ['--verify', 'none']],
      ['my2pg run', []],
    ] as const) {
      const admin = new pg.Client({ connectionString: postgres.url });
      await admin.connect();
      await admin.query('DROP DATABASE IF EXISTS cpu_target WITH (FORCE)');
      await admin.query('CREATE DATABASE cpu_target');
      await admin.end();
      const mariadb0 = cpuSeconds(mariadbPid, false);
      const postgres0 = cpuSeconds(postmasterPid, true);
      const started = Date.now();
      const run = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, BIN, 'run', ...extra], {
        env: {
          ...process.env,
          MYSQL_URL: `${mariadb.url}cpu_source`,
          DATABASE_URL: postgres.url.replace(/\/postgres$/, '/cpu_target'),
          REDIS_URL: args.redis,
        },
        encoding: 'utf8',
      });
      const wall = (Date.now() - started) / 1000;
      if (run.status !== 0) throw new Error(`${label} exited ${run.status}: ${run.stdout}${run.stderr}`);
      // The run's backends have closed; the postmaster reaps them within moments.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const [user, system, rssKb] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number);
      results[label]!.push({
        wall,
        my2pg: user! + system!,
        mariadb: cpuSeconds(mariadbPid, false) - mariadb0,
        postgres: cpuSeconds(postmasterPid, true) - postgres0,
        rssMb: Math.round(rssKb! / 1024),
      });
    }
  }
  const f = (n: number): string => n.toFixed(1);
  const perGb = (s: number): string => f((s * 1000) / mb);
  console.log(
    `### CPU per side, --users ${users}${args.redis ? ', queue in Redis' : ''} — ${new Date().toISOString()}\n`,
  );
  console.log(
    `- command: \`npm run bench:cpu -- --users ${users} --rounds ${rounds}${args.redis ? ' --redis …' : ''}\``,
  );
  console.log(
    `- machine: ${cpus().length} cores; load average before: ${load.join(' ')}, after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`- data: ${rows} rows, ${Math.round(mb)} MB (MySQL DATA_LENGTH), read from MariaDB's buffer pool\n`);
  console.log(
    '| run | wall s | my2pg CPU s | MariaDB CPU s | PostgreSQL CPU s | CPU s per GB (my2pg / MariaDB / PostgreSQL) | peak RSS MB | rounds (CPU s, my2pg / MariaDB / PostgreSQL) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | --- | ---: | --- |');
  for (const [label, list] of Object.entries(results)) {
    const m = (k: keyof Round): number => median(list.map((r) => r[k]));
    console.log(
      `| ${label} | ${f(m('wall'))} | ${f(m('my2pg'))} | ${f(m('mariadb'))} | ${f(m('postgres'))} | ${perGb(m('my2pg'))} / ${perGb(m('mariadb'))} / ${perGb(m('postgres'))} | ${m('rssMb')} | ${list.map((r) => `${f(r.my2pg)}/${f(r.mariadb)}/${f(r.postgres)}`).join(', ')} |`,
    );
  }
} finally {
  await mariadb.stop();
  await postgres.stop();
}
