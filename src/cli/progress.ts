import type { TableJobState } from '../queue/run-queue.js';

/** A terminal stream the live view can redraw (process.stderr when it is a TTY). */
export interface TtyStream {
  write(chunk: string): unknown;
  columns?: number | undefined;
  rows?: number | undefined;
}

/** What `run`, `start --wait` and `retry --wait` feed while they wait. */
export interface ProgressView {
  /** Called on every poll with the state of every table job. */
  update(states: readonly TableJobState[]): void;
  /** Draws the final state once more; nothing is written after it. */
  stop(): void;
}

const BAR_WIDTH = 24;

/** Whole seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

function grouped(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `[██████░░░░]` for a fraction between 0 and 1. */
export function formatBar(fraction: number, width = BAR_WIDTH): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

/** `12,000/19,000 rows, 4,210 rows/s, ETA 2s` for a running table; null without progress. */
export function describeProgress(state: TableJobState): string | null {
  const p = state.progress;
  if (!p) return null;
  const remaining = Math.max(0, p.total - p.rows);
  const eta = remaining === 0 ? '' : p.rowsPerSecond > 0 ? `, ETA ${formatDuration(remaining / p.rowsPerSecond)}` : '';
  return `${grouped(p.rows)}/${grouped(p.total)} rows, ${grouped(p.rowsPerSecond)} rows/s${eta}`;
}

/** One bar line of the live view: name, bar, percentage, rows/total, rows/s, ETA or outcome. */
export function formatTableBar(state: TableJobState, nameWidth: number): string {
  const name = state.table.padEnd(nameWidth);
  const p = state.progress;
  switch (state.state) {
    case 'completed': {
      const rows = p ? `${grouped(p.rows)} rows` : '';
      return `${name} ${formatBar(1)} 100%  done ${rows}`.trimEnd();
    }
    case 'failed':
    case 'missing':
      return `${name} ${formatBar(p && p.total > 0 ? p.rows / p.total : 0)} FAILED: ${state.failedReason ?? (state.state === 'missing' ? 'the job is missing from Redis' : 'unknown error')}`;
    case 'active': {
      if (!p) return `${name} ${formatBar(0)}   0%  starting`;
      const fraction = p.total > 0 ? p.rows / p.total : 0;
      const percent = `${Math.min(100, Math.floor(fraction * 100))}%`.padStart(4);
      return `${name} ${formatBar(fraction)} ${percent}  ${describeProgress(state)}`;
    }
    case 'delayed':
      return `${name} ${formatBar(0)}   0%  retrying after attempt ${state.attemptsMade}${state.failedReason ? `: ${state.failedReason}` : ''}`;
    default:
      return `${name} ${formatBar(0)}   0%  waiting for a worker`;
  }
}

function counts(states: readonly TableJobState[]): { done: number; failed: number; active: number } {
  return {
    done: states.filter((s) => s.state === 'completed').length,
    failed: states.filter((s) => s.state === 'failed' || s.state === 'missing').length,
    active: states.filter((s) => s.state === 'active').length,
  };
}

/** `[2/5 done, 1 failed]` and what the run waits for. */
export function formatSummary(states: readonly TableJobState[]): string {
  const c = counts(states);
  const head = `[${c.done}/${states.length} done${c.failed ? `, ${c.failed} failed` : ''}]`;
  if (c.done + c.failed === states.length) return `${head} ${c.failed ? 'waiting for a retry of the failed tables' : 'finalizing'}`;
  return `${head} ${c.active} copying`;
}

/** One plain progress line (no TTY): the summary and every running table with rows, rate and ETA. */
export function formatPlainProgress(states: readonly TableJobState[]): string {
  const active = states
    .filter((s) => s.state === 'active')
    .map((s) => {
      const d = describeProgress(s);
      return d ? `${s.table} ${d}` : `${s.table} starting`;
    });
  const c = counts(states);
  const head = `[${c.done}/${states.length} done${c.failed ? `, ${c.failed} failed` : ''}]`;
  if (active.length > 0) return `${head} ${active.join('; ')}`;
  return formatSummary(states);
}

/**
 * The lines of the live view for a terminal of `rows` lines: a summary, then one bar per table.
 * When the tables do not fit, running and failed ones come first and the rest are counted.
 */
export function layoutLiveView(states: readonly TableJobState[], rows: number): string[] {
  const room = Math.max(1, rows - 2);
  const rank = (s: TableJobState): number => (s.state === 'active' ? 0 : s.state === 'failed' || s.state === 'missing' ? 1 : s.state === 'completed' ? 3 : 2);
  const ordered = states.length <= room ? [...states] : [...states].sort((a, b) => rank(a) - rank(b));
  const shown = ordered.length <= room ? ordered : ordered.slice(0, room - 1);
  const nameWidth = Math.min(40, Math.max(5, ...shown.map((s) => s.table.length)));
  const lines = [formatSummary(states), ...shown.map((s) => formatTableBar(s, nameWidth))];
  const hidden = ordered.length - shown.length;
  if (hidden > 0) {
    const rest = ordered.slice(shown.length);
    const c = counts(rest);
    lines.push(`… ${hidden} more tables: ${c.done} done, ${rest.length - c.done - c.failed - c.active} waiting`);
  }
  return lines;
}

/**
 * Live bars redrawn in place on a terminal. Lines are cut to the terminal width, because a
 * wrapped line would break the count of lines to move back over.
 */
function createLiveView(tty: TtyStream): ProgressView {
  let drawn = 0;
  let last: readonly TableJobState[] = [];
  let stopped = false;
  const draw = (states: readonly TableJobState[]): void => {
    const width = Math.max(20, (tty.columns || 80) - 1);
    const lines = layoutLiveView(states, tty.rows || 24).map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
    let out = drawn > 0 ? `\x1b[${drawn}A\r` : '';
    for (const line of lines) out += `\x1b[2K${line}\n`;
    out += '\x1b[J';
    tty.write(out);
    drawn = lines.length;
  };
  return {
    update(states) {
      if (stopped) return;
      last = states;
      draw(states);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (last.length > 0) draw(last);
    },
  };
}

// A table's first progress report counts as a change, so a copy shows its rows, rate and ETA
// soon after it starts, not only after the interval.
function stateKey(states: readonly TableJobState[]): string {
  return states.map((s) => `${s.jobId}=${s.state}${s.progress ? '+' : ''}`).join(',');
}

/**
 * Plain lines for logs and pipes: one when a table starts, reports its first progress,
 * finishes or fails, otherwise at most one every `intervalMs`, so a long copy leaves a
 * readable trail, not a flood.
 */
function createPlainView(err: (line: string) => void, intervalMs: number, now: () => number): ProgressView {
  let lastKey = '';
  let lastAt = Number.NEGATIVE_INFINITY;
  let last: readonly TableJobState[] = [];
  let lastLine = '';
  let stopped = false;
  return {
    update(states) {
      if (stopped) return;
      last = states;
      const key = stateKey(states);
      const t = now();
      if (key !== lastKey || t - lastAt >= intervalMs) {
        lastLine = formatPlainProgress(states);
        err(lastLine);
        lastKey = key;
        lastAt = t;
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const line = last.length > 0 ? formatPlainProgress(last) : '';
      if (line && line !== lastLine) err(line);
    },
  };
}

/** The progress view for a wait: live bars on a TTY, plain periodic lines otherwise. */
export function createProgressView(options: { tty?: TtyStream | undefined; err: (line: string) => void; intervalMs?: number; now?: () => number }): ProgressView {
  if (options.tty) return createLiveView(options.tty);
  return createPlainView(options.err, options.intervalMs ?? 5000, options.now ?? Date.now);
}
