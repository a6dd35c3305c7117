import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesEqual } from '../helpers/compare.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';
import { cliOnTty } from '../helpers/terminal.js';

// What an operator sees in a terminal while `run` works: live bars on a TTY (a real pseudo
// terminal from util-linux `script`), plain lines in a pipe, pino JSON with --log-level.
// A trigger slows the target down by a fixed amount so the copy spans several progress reports.

const ROWS = 100_000;
let sandbox: Sandbox;

async function expectBigEqual(): Promise<void> {
  expect(await expectSidesEqual(sandbox, { table: 'big', columns: ['id', 'label', 'amount'] })).toEqual({ big: ROWS });
}

describe('progress in the terminal', () => {
  beforeAll(async () => {
    sandbox = await createSandbox('progress');
    const my = await sandbox.mysql();
    await my.query(`CREATE TABLE d (n INT); INSERT INTO d VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)`);
    await my.query(`CREATE TABLE big (id INT PRIMARY KEY, label VARCHAR(255) NOT NULL, amount DECIMAL(10,2) NULL)`);
    await my.query(
      `INSERT INTO big
       SELECT n + 1, CONCAT('row ', n, ' ', REPEAT('x', n % 200)), CASE WHEN n % 97 = 0 THEN NULL ELSE (n % 10000) / 4 END
       FROM (SELECT a.n + 10*b.n + 100*c.n + 1000*e.n + 10000*f.n + 100000*g.n AS n FROM d a, d b, d c, d e, d f, d g) s
       WHERE n < ?`,
      [ROWS],
    );
    await my.query('DROP TABLE d');
    await my.end();
    const pgc = await sandbox.pg();
    await pgc.query(`CREATE TABLE big (id integer PRIMARY KEY, label varchar(255) NOT NULL, amount numeric(10,2))`);
    // 40 ms every 1000 rows: about four seconds of copying, whatever the machine's speed. The
    // rows are wide enough (10 MB in all) that socket buffers cannot hide the slow target, so the
    // reported rows follow what PostgreSQL takes in.
    await pgc.query(`CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_sleep(0.04);
        RETURN NEW;
      END $$`);
    await pgc.query(
      `CREATE TRIGGER slow_down BEFORE INSERT ON big FOR EACH ROW WHEN (NEW.id % 1000 = 0) EXECUTE FUNCTION slow_down()`,
    );
    await pgc.end();
  });
  afterAll(async () => {
    await sandbox?.dispose();
  });

  it('on a TTY, run draws a live bar with rows/total, rows/s and ETA, redrawn in place, then the report', async () => {
    expect(
      () => execFileSync('script', ['--version'], { stdio: 'ignore' }),
      'util-linux script is needed for a pseudo terminal',
    ).not.toThrow();
    const { code, screen } = await cliOnTty(sandbox, ['run', '--tables', 'big', '--batch-size', '2000'], { cols: 120 });
    expect(code, screen).toBe(0);
    // Redrawn in place: lines erased, the cursor moved back up over the previous frame.
    expect(screen).toContain('\x1b[2K');
    expect(screen).toMatch(/\x1b\[\d+A/);
    const lines = screen.split(/\r?\n/).map((l) => l.replace(/\x1b\[[0-9]*[A-Za-z]/g, '').replace(/\r/g, ''));
    const midCopy = lines.filter((l) =>
      /^big\s+\[[█░]+\]\s+\d+%\s+[\d,]+\/[\d,]+ rows, [\d,]+ rows\/s, ETA \d+[hms]/.test(l),
    );
    expect(midCopy.length, screen).toBeGreaterThan(0);
    const percents = midCopy.map((l) => Number(/(\d+)%/.exec(l)![1]));
    expect(
      percents.some((p) => p > 0 && p < 100),
      percents.join(','),
    ).toBe(true);
    expect(
      lines.some((l) => /^big\s+\[█+\] 100% {2}done 100,000 rows$/.test(l)),
      screen,
    ).toBe(true);
    expect(
      lines.some((l) => /^big\s+100000\s+100000\s+0\s+(count|checksum) ok\s+\d+\.\ds$/.test(l)),
      screen,
    ).toBe(true);
    expect(
      lines.some((l) => /^total\s+100000\s+100000\s+0\s+1\/1 ok\s+\d+\.\ds$/.test(l)),
      screen,
    ).toBe(true);
    await expectBigEqual();
  });

  it('in a pipe, run writes plain progress lines with rows, rate and ETA; --log-level info adds pino JSON', async () => {
    const result = await sandbox.cli(['run', '--tables', 'big', '--batch-size', '2000', '--log-level', 'info']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toContain('\x1b[');
    expect(result.stderr, result.stderr).toMatch(
      /^\[0\/1 done\] big [\d,]+\/[\d,]+ rows, [\d,]+ rows\/s, ETA \d+[hms]/m,
    );
    expect(result.stderr).toMatch(/^\[1\/1 done\] finalizing$/m);
    const json = result.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; table?: string; runId?: string });
    const started = json.find((l) => l.msg === 'copy started');
    expect(started, result.stderr).toMatchObject({ level: 30, table: 'big' });
    expect(started?.runId).toMatch(/^run-/);
    expect(result.stdout).toMatch(/^big\s+100000\s+100000\s+0\s+(count|checksum) ok/m);
    await expectBigEqual();

    // Without the flag (the sandbox sets MY2PG_LOG_LEVEL=warn) no JSON line is written; stdout
    // is one JSON document for scripts, with the job's last progress and the rejected rows.
    const status = await sandbox.cli(['status', '--json']);
    expect(status.code).toBe(0);
    expect(status.stderr).not.toMatch(/^\{/m);
    const doc = JSON.parse(status.stdout) as { run: { status: string }; tables: Record<string, unknown>[] };
    expect(doc.run.status).toBe('verified');
    expect(doc.tables).toHaveLength(1);
    expect(doc.tables[0]).toMatchObject({
      table: 'big',
      jobState: 'completed',
      sourceRows: ROWS,
      targetRows: ROWS,
      rejected: 0,
      progress: { rows: ROWS },
    });
  });
});
