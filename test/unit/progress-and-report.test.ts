import { describe, expect, it } from 'vitest';
import { isLoopbackHost, resolveBoardAccess } from '../../src/board/board-access.js';
import { formatBoardJobName, formatBoardProgress } from '../../src/board/board-progress.js';
import {
  createProgressView,
  formatBar,
  formatPlainProgress,
  formatTableBar,
  layoutLiveView,
} from '../../src/cli/progress.js';
import { formatDuration } from '../../src/queue/progress-text.js';
import { buildReportRows, describeVerification, formatRunReport } from '../../src/cli/report.js';
import { copyJobId, COPY_TABLE_JOB, FINALIZE_JOB } from '../../src/queue/contract.js';
import type { TableJobState } from '../../src/queue/job-states.js';
import type { RunRow, RunTableRow } from '../../src/state/entities.js';

function job(
  table: string,
  state: string,
  progress: TableJobState['progress'] = null,
  failedReason: string | null = null,
): TableJobState {
  return { table, jobId: copyJobId('run-1', table), state, progress, attemptsMade: 1, failedReason };
}

describe('progress formatting', () => {
  it.each([
    [0, '[░░░░░░░░░░]'],
    [0.5, '[█████░░░░░]'],
    [1, '[██████████]'],
    [1.7, '[██████████]'],
    [Number.NaN, '[░░░░░░░░░░]'],
  ])('formatBar(%s)', (fraction, bar) => {
    expect(formatBar(fraction, 10)).toBe(bar);
  });

  it.each([
    [0, '0s'],
    [42.4, '42s'],
    [185, '3m05s'],
    [3725, '1h02m'],
  ])('formatDuration(%s) = %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });

  it('a running table shows percentage, rows/total, rows/s and ETA', () => {
    const line = formatTableBar(job('users', 'active', { rows: 5000, total: 10000, rowsPerSecond: 2500 }), 8);
    expect(line).toBe(`users    ${formatBar(0.5)}  50%  5,000/10,000 rows, 2,500 rows/s, ETA 2s`);
  });

  it.each([
    [job('t', 'completed', { rows: 31, total: 31, rowsPerSecond: 100 }), /100% {2}done 31 rows$/],
    [job('t', 'failed', null, 'no column "x"'), /FAILED: no column "x"$/],
    [job('t', 'waiting'), /0% {2}waiting for a worker$/],
    [job('t', 'waiting-children'), /waiting for a worker$/],
    [job('t', 'active'), /0% {2}starting$/],
    [job('t', 'delayed', null, 'connection reset'), /retrying after attempt 1: connection reset$/],
  ])('state line %#', (state, pattern) => {
    expect(formatTableBar(state, 1)).toMatch(pattern);
  });

  it('a plain line names every running table with its rows, rate and ETA', () => {
    const states = [
      job('a', 'completed'),
      job('b', 'active', { rows: 10, total: 40, rowsPerSecond: 10 }),
      job('c', 'failed', null, 'x'),
      job('d', 'waiting'),
    ];
    expect(formatPlainProgress(states)).toBe('[1/4 done, 1 failed] b 10/40 rows, 10 rows/s, ETA 3s');
    expect(formatPlainProgress([job('a', 'completed'), job('b', 'completed')])).toBe('[2/2 done] finalizing');
    expect(formatPlainProgress([job('a', 'completed'), job('b', 'failed')])).toBe(
      '[1/2 done, 1 failed] waiting for a retry of the failed tables',
    );
  });

  it('more tables than terminal lines: running and failed first, the rest counted', () => {
    const states = Array.from({ length: 100 }, (_, i) =>
      job(
        `t${String(i).padStart(3, '0')}`,
        i < 60 ? 'completed' : i === 99 ? 'active' : i === 98 ? 'failed' : 'waiting',
      ),
    );
    const lines = layoutLiveView(states, 10);
    expect(lines).toHaveLength(9);
    expect(lines[0]).toBe('[60/100 done, 1 failed] 1 copying');
    expect(lines[1]).toMatch(/^t099 .* starting$/);
    expect(lines[2]).toMatch(/^t098 .* FAILED/);
    expect(lines[8]).toBe('… 93 more tables: 60 done, 33 waiting');
  });
});

describe('progress views', () => {
  it('on a TTY it redraws in place and cuts lines to the terminal width', () => {
    const writes: string[] = [];
    const view = createProgressView({
      tty: { write: (s: string) => writes.push(s), columns: 40, rows: 20 },
      err: () => expect.fail('no plain lines on a TTY'),
    });
    view.update([job('users', 'active', { rows: 1, total: 4, rowsPerSecond: 1 }), job('scores', 'waiting')]);
    view.update([job('users', 'completed'), job('scores', 'active')]);
    view.stop();
    view.update([job('users', 'completed'), job('scores', 'completed')]);
    expect(writes).toHaveLength(3);
    expect(writes[0]!.startsWith('\x1b[2K[0/2 done] 1 copying\n')).toBe(true);
    // Back over the three lines drawn before, then the new frame.
    expect(writes[1]!.startsWith('\x1b[3A\r\x1b[2K[1/2 done] 1 copying\n')).toBe(true);
    for (const line of writes.join('').split('\n')) {
      const visible = line.replace(/\x1b\[[0-9]*[A-Za-z]/g, '').replace(/\r/g, '');
      expect(visible.length).toBeLessThanOrEqual(39);
    }
    expect(writes[2]).toBe(writes[1]);
  });

  it('without a TTY it writes a line when a table changes state, else once per interval', () => {
    const lines: string[] = [];
    let now = 0;
    const view = createProgressView({ err: (l) => lines.push(l), intervalMs: 5000, now: () => now });
    const running = (rows: number) => [
      job('users', 'active', { rows, total: 100, rowsPerSecond: 10 }),
      job('scores', 'waiting'),
    ];
    view.update([job('users', 'active'), job('scores', 'waiting')]);
    now = 500;
    view.update(running(10));
    now = 1500;
    view.update(running(20));
    now = 5499;
    view.update(running(50));
    now = 5500;
    view.update(running(60));
    now = 5600;
    view.update([job('users', 'completed'), job('scores', 'active')]);
    view.stop();
    expect(lines).toEqual([
      '[0/2 done] users starting',
      '[0/2 done] users 10/100 rows, 10 rows/s, ETA 9s',
      '[0/2 done] users 60/100 rows, 10 rows/s, ETA 4s',
      '[1/2 done] scores starting',
    ]);
  });
});

describe('board formatting and access', () => {
  it('progress gets a percentage (Bull Board draws it) and an ETA', () => {
    expect(formatBoardProgress({ rows: 250, total: 1000, rowsPerSecond: 50 })).toEqual({
      progress: 25,
      rows: 250,
      total: 1000,
      rowsPerSecond: 50,
      eta: '15s',
    });
    expect(formatBoardProgress({ rows: 10, total: 10, rowsPerSecond: 5 })).toMatchObject({
      progress: 100,
      eta: 'done',
    });
    expect(formatBoardProgress({ rows: 0, total: 0, rowsPerSecond: 0 })).toMatchObject({ progress: 100 });
    expect(formatBoardProgress(42)).toBe(42);
  });

  it('job names carry the table', () => {
    expect(formatBoardJobName({ name: COPY_TABLE_JOB, data: { table: 'users', runId: 'r' } })).toBe('copy-table users');
    expect(formatBoardJobName({ name: FINALIZE_JOB, data: { runId: 'run-1' } })).toBe('finalize run-1');
    expect(formatBoardJobName({ name: 'other', data: null })).toBe('other');
  });

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['board.example', false],
  ])('isLoopbackHost(%s) = %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('refuses a non-loopback host without both credentials', () => {
    expect(resolveBoardAccess('127.0.0.1', undefined, undefined)).toBeUndefined();
    expect(resolveBoardAccess('0.0.0.0', 'op', 'pw')).toEqual({ user: 'op', password: 'pw' });
    expect(() => resolveBoardAccess('0.0.0.0', undefined, undefined)).toThrow(
      /refusing to listen on 0\.0\.0\.0 without authentication/,
    );
    expect(() => resolveBoardAccess('127.0.0.1', 'op', undefined)).toThrow(/set both BOARD_USER and BOARD_PASSWORD/);
  });
});

function table(name: string, patch: Partial<RunTableRow> = {}): RunTableRow {
  return {
    runId: 'run-1',
    tableName: name,
    targetTable: name,
    jobId: copyJobId('run-1', name),
    action: 'fill',
    status: 'verified',
    rowsCopied: '10',
    sourceRows: '10',
    targetRows: '10',
    attempts: 1,
    lastError: null,
    startedAt: new Date(0),
    finishedAt: new Date(1500),
    verification: { method: 'count', status: 'verified' },
    adjustments: null,
    rejectedRows: 0,
    ...patch,
  };
}

const RUN: RunRow = {
  id: 'run-1',
  createdAt: new Date(0),
  finishedAt: new Date(4000),
  status: 'verified',
  targetSchema: 'public',
  sourceDatabase: 'db',
  source: 'mysql://root@h/db',
  options: {},
  summary: null,
};

describe('report', () => {
  it.each([
    ['verified', 'checksum', 'checksum ok'],
    ['verified', undefined, 'count ok'],
    ['verified', 'none', 'not checked'],
    ['mismatch', 'checksum', 'checksum MISMATCH'],
    ['failed', undefined, 'copy failed'],
    ['copied', undefined, 'awaiting finalize'],
  ])('verification %s/%s reads %s', (status, method, text) => {
    expect(describeVerification(status, method)).toBe(text);
  });

  it('reads rejected rows and the method from the finalize summary when it has them', () => {
    const summary = {
      tables: [
        { table: 'a', sourceRows: 12, targetRows: 10, rejected: 2, status: 'verified', method: 'checksum' },
        { table: 'b', sourceRows: 10, targetRows: 10, status: 'verified' },
      ],
    };
    const rows = buildReportRows([table('a'), table('b')], summary);
    expect(rows.map((r) => [r.table, r.sourceRows, r.targetRows, r.rejected, r.verification])).toEqual([
      ['a', 12, 10, 2, 'checksum ok'],
      ['b', 10, 10, 0, 'count ok'],
    ]);
  });

  it('before finalize: copied rows stand for the target, a failed table has no numbers', () => {
    const rows = buildReportRows(
      [
        table('a', { status: 'copied', sourceRows: null, targetRows: null, verification: null }),
        table('b', {
          status: 'failed',
          rowsCopied: null,
          sourceRows: null,
          targetRows: null,
          verification: null,
          rejectedRows: 0,
        }),
        table('c', {
          status: 'failed',
          rowsCopied: null,
          sourceRows: null,
          targetRows: null,
          verification: null,
          rejectedRows: 3,
        }),
      ],
      null,
    );
    expect(rows.map((r) => [r.sourceRows, r.targetRows, r.rejected, r.verification])).toEqual([
      [null, 10, 0, 'awaiting finalize'],
      [null, null, null, 'copy failed'],
      [null, null, 3, 'copy failed'],
    ]);
  });

  it('prints table, source rows, target rows, rejected, verification, time and totals', () => {
    const summary = {
      tables: [
        { table: 'a', sourceRows: 12, targetRows: 10, rejected: 2, status: 'verified', method: 'checksum' },
        { table: 'b', sourceRows: 10, targetRows: 10, status: 'verified', method: 'checksum' },
      ],
    };
    const text = formatRunReport({ ...RUN, summary }, [table('a'), table('b')]);
    expect(text.split('\n').slice(1)).toEqual([
      'table  source rows  target rows  rejected  verification  time',
      '-----  -----------  -----------  --------  ------------  ----',
      'a               12           10         2  checksum ok   1.5s',
      'b               10           10         0  checksum ok   1.5s',
      'total           22           20         2  2/2 ok        4.0s',
    ]);
  });

  it('names the where condition of a table copied in part, a long one cut', () => {
    const long = `note IN (${Array.from({ length: 20 }, (_v, i) => `'n${i}'`).join(', ')})`;
    const run = { ...RUN, options: { where: { a: "created_at >= '2024-01-01'", b: long } } };
    const lines = formatRunReport(run, [table('a'), table('b'), table('c')]).split('\n');
    expect(lines[3]).toMatch(/^a \(where: created_at >= '2024-01-01'\) +10 +10 +0 +count ok/);
    expect(lines[4]).toMatch(/^b \(where: note IN \('n0', 'n1', .{30,}…\) +10/);
    expect(lines[4]!.indexOf('…')).toBe('b (where: '.length + 59);
    expect(lines[5]).toMatch(/^c +10/);
  });

  it('lists what was translated, what a policy adjusted, and which tables arrived exact', () => {
    const adjustments = { note: { zeroDatesToNull: 0, nulCharactersRemoved: 2, sridsDropped: 0 } };
    const run = { ...RUN, options: { translated: ['key type: a.id, b.a_id → bigint (the widest type of the group)'] } };
    const text = formatRunReport(run, [
      table('a'),
      table('b', { adjustments }),
      table('c', { status: 'mismatch', verification: { method: 'count', status: 'mismatch' } }),
    ]);
    expect(text.split('\n').filter((l) => /^(translated|adjusted|values):/.test(l))).toEqual([
      'translated: key type: a.id, b.a_id → bigint (the widest type of the group)',
      'adjusted: table b, column note: NUL characters removed from 2 values (--nul strip)',
      'values: 1 tables exact, 1 with values adjusted by a policy (b)',
    ]);
    expect(formatRunReport(RUN, [table('a')])).not.toMatch(/^(translated|adjusted|values):/m);
  });
});
