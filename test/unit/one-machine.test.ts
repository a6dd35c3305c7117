import { describe, expect, it } from 'vitest';
import { formatBoardProgress } from '../../src/board/board-progress.js';
import { createProgressView, createStderrLane, formatPlainProgress, formatSummary } from '../../src/cli/progress.js';
import { describeFinalizeProgress } from '../../src/queue/progress-text.js';
import { loadConfig } from '../../src/config/config.js';
import { formatHumanLine, resolveLogFormat } from '../../src/core/log.js';
import { copyJobId } from '../../src/queue/contract.js';
import type { TableJobState } from '../../src/queue/job-states.js';
import { queuesOfRun, scopeOf } from '../../src/queue/target-scope.js';

function job(table: string, state: string): TableJobState {
  return { table, jobId: copyJobId('run-1', table), state, progress: null, attemptsMade: 1, failedReason: null };
}

describe('queues scoped to their target', () => {
  it('names them after database and schema, with a hash of server, database and schema', () => {
    const scope = scopeOf('system 7713522849573570673', 'gameapp', 'public');
    expect(scope.id).toMatch(/^[0-9a-f]{8}$/);
    expect(scope.queues).toEqual({
      copy: `copy.gameapp.public.${scope.id}`,
      finalize: `finalize.gameapp.public.${scope.id}`,
    });
    expect(scopeOf('system 7713522849573570673', 'gameapp', 'public')).toEqual(scope);
  });

  it.each([
    ['another server', ['system 1', 'gameapp', 'public']],
    ['another database', ['system 7713522849573570673', 'seedapp', 'public']],
    ['another schema', ['system 7713522849573570673', 'gameapp', 'staging']],
  ] as const)('%s gets other queues', (_what, [server, database, schema]) => {
    const base = scopeOf('system 7713522849573570673', 'gameapp', 'public');
    const other = scopeOf(server, database, schema);
    expect(other.queues.copy).not.toBe(base.queues.copy);
    expect(other.queues.finalize).not.toBe(base.queues.finalize);
  });

  it('keeps names Redis keys and URLs can hold: no colon, nothing to escape, bounded length', () => {
    const scope = scopeOf('s', 'my:db/with spaces and a very long name indeed', 'Schéma"x');
    expect(scope.queues.copy).toMatch(/^copy\.[A-Za-z0-9_-]{1,24}\.[A-Za-z0-9_-]{1,24}\.[0-9a-f]{8}$/);
    // Same slug, different names: the hash still tells them apart.
    expect(scopeOf('s', 'a:b', 'public').queues.copy).not.toBe(scopeOf('s', 'a/b', 'public').queues.copy);
  });

  it('a run finds its queues as recorded; a run that records none is refused with what to do', () => {
    expect(queuesOfRun({ queues: { copy: 'copy.x.public.1', finalize: 'finalize.x.public.1' } })).toEqual({
      copy: 'copy.x.public.1',
      finalize: 'finalize.x.public.1',
    });
    expect(() => queuesOfRun({ batchSize: 5000 })).toThrow(/records no queue names.*start a new run/);
    expect(() => queuesOfRun(null)).toThrow(/records no queue names/);
  });
});

describe('log lines for people', () => {
  it('turns a pino line into level word, table, message and error', () => {
    const line = JSON.stringify({
      level: 50,
      time: 1,
      pid: 9,
      runId: 'run-1',
      table: 'users',
      jobId: copyJobId('run-1', 'users'),
      err: 'table users: no column "bio"; add it',
      permanent: true,
      msg: 'copy failed',
    });
    expect(formatHumanLine(line)).toBe('error users: copy failed: table users: no column "bio"; add it');
    expect(
      formatHumanLine(JSON.stringify({ level: 30, time: 1, pid: 9, table: 'big', attempt: 2, msg: 'copy started' })),
    ).toBe('info big: copy started (attempt 2)');
    expect(formatHumanLine(JSON.stringify({ level: 40, time: 1, msg: 'forcing worker shutdown' }))).toBe(
      'warn forcing worker shutdown',
    );
    expect(formatHumanLine('not json\n')).toBe('not json');
  });

  it('auto is human on a terminal and JSON elsewhere; an explicit format wins', () => {
    expect(resolveLogFormat('auto', true)).toBe('human');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('human', false)).toBe('human');
  });

  it('reads MY2PG_LOG_FORMAT and --log-format, refusing anything else', () => {
    expect(loadConfig({}, [], {}).logFormat).toBe('auto');
    expect(loadConfig({}, [], { MY2PG_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ logFormat: 'human' }, [], { MY2PG_LOG_FORMAT: 'json' }).logFormat).toBe('human');
    expect(() => loadConfig({}, [], { MY2PG_LOG_FORMAT: 'pretty' })).toThrow(
      /MY2PG_LOG_FORMAT or --log-format\) must be auto, human or json/,
    );
  });
});

describe('lines under the bars', () => {
  it('a log line on a terminal goes above the bars, which are drawn again below it', () => {
    const writes: string[] = [];
    const view = createProgressView({
      tty: { write: (s: string) => writes.push(s), columns: 80, rows: 20 },
      err: () => expect.fail('no plain lines on a TTY'),
    });
    const lane = createStderrLane(() => expect.fail('routed to the view'));
    lane.route((line) => view.log(line));
    view.update([job('users', 'active'), job('scores', 'waiting')]);
    lane.write('error users: copy failed: boom');
    expect(writes).toHaveLength(2);
    // Up over the three bar lines, erase to the end, the line, then the frame again.
    expect(writes[1]!.startsWith('\x1b[3A\r\x1b[Jerror users: copy failed: boom\n\x1b[2K[0/2 done] 1 copying\n')).toBe(
      true,
    );
    view.update([job('users', 'active'), job('scores', 'waiting')]);
    // The next frame moves back over the bars only, not over the log line.
    expect(writes[2]!.startsWith('\x1b[3A\r')).toBe(true);
    view.stop();
    view.log('after the bars');
    expect(writes.at(-1)).toBe('after the bars\n');
  });

  it('a lane writes straight through when nothing is routed', () => {
    const lines: string[] = [];
    const lane = createStderrLane((l) => lines.push(l));
    lane.write('one');
    lane.route((l) => lines.push(`view: ${l}`));
    lane.write('two');
    lane.route(undefined);
    lane.write('three');
    expect(lines).toEqual(['one', 'view: two', 'three']);
  });
});

describe('finalize shows its phase', () => {
  const all = [job('users', 'completed'), job('scores', 'completed')];

  it.each([
    [{ phase: 'indexes', done: 3, total: 10 }, 'indexes 3/10'],
    [{ phase: 'foreign keys', done: 0, total: 5 }, 'foreign keys 0/5'],
    [{ phase: 'sequences', done: 0, total: 1 }, 'sequences'],
    [{ phase: 'alembic_version', done: 0, total: 1 }, 'alembic_version'],
    [{ phase: 'verification', done: 0, total: 2 }, 'verification 0/2 tables'],
    [
      { phase: 'verification', done: 1, total: 2, table: 'users', rows: 1_000_000, rowsPerSecond: 450_000 },
      'verification 1/2 tables (users: 1,000,000 rows compared, 450,000 rows/s)',
    ],
  ] as const)('%o reads "%s"', (progress, text) => {
    expect(describeFinalizeProgress(progress)).toBe(text);
    expect(formatSummary(all, { state: 'active', progress })).toBe(`[2/2 done] finalizing: ${text}`);
    expect(formatPlainProgress(all, { state: 'active', progress })).toBe(`[2/2 done] finalizing: ${text}`);
  });

  it('before finalize reports anything, it is just finalizing', () => {
    expect(formatSummary(all, { state: 'waiting', progress: null })).toBe('[2/2 done] finalizing');
    expect(formatSummary(all)).toBe('[2/2 done] finalizing');
  });

  it('the plain view writes a line when the phase changes', () => {
    const lines: string[] = [];
    const view = createProgressView({ err: (l) => lines.push(l), intervalMs: 5000, now: () => 0 });
    view.update(all, { state: 'active', progress: { phase: 'indexes', done: 1, total: 3 } });
    view.update(all, { state: 'active', progress: { phase: 'indexes', done: 2, total: 3 } });
    view.update(all, { state: 'active', progress: { phase: 'foreign keys', done: 0, total: 2 } });
    expect(lines).toEqual(['[2/2 done] finalizing: indexes 1/3', '[2/2 done] finalizing: foreign keys 0/2']);
  });

  it('Bull Board gets a percentage of the phase and the sentence', () => {
    expect(formatBoardProgress({ phase: 'foreign keys', done: 2, total: 8 })).toEqual({
      progress: 25,
      phase: 'foreign keys',
      done: 2,
      total: 8,
      step: 'foreign keys 2/8',
    });
    expect(formatBoardProgress({ phase: 'sequences', done: 0, total: 1 })).toMatchObject({
      progress: 0,
      step: 'sequences',
    });
  });
});
