import { describeFinalizeProgress, formatDuration, grouped } from '../queue/progress-text.js';
import type { FinalizeJobState, TableJobState } from '../queue/job-states.js';

/** A terminal stream the live view can redraw (process.stderr when it is a TTY). */
export interface TtyStream {
  write(chunk: string): unknown;
  columns?: number | undefined;
  rows?: number | undefined;
}

/** What `run`, `start --wait`, `retry --wait` and `resume` feed while they wait. */
export interface ProgressView {
  /** Called on every poll with the state of every table job, and of the finalize job. */
  update(states: readonly TableJobState[], finalize?: FinalizeJobState | null): void;
  /**
   * Prints a line of its own (a log line, a notice) on stderr: on a terminal above the bars,
   * which are then drawn again below it, so that no line tears the live view apart.
   */
  log(line: string): void;
  /** Draws the final state once more; nothing is drawn after it (log lines still print). */
  stop(): void;
}

const BAR_WIDTH = 24;

/** `[██████░░░░]` for a fraction between 0 and 1. */
export function formatBar(fraction: number, width = BAR_WIDTH): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

/** `12,000/19,000 rows, 4,210 rows/s, ETA 2s` for a running table; null without progress. */
function describeProgress(state: TableJobState): string | null {
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
      return `${name} ${formatBar(p && p.total > 0 ? p.rows / p.total : 0)} FAILED: ${state.failedReason ?? (state.state === 'missing' ? 'the job is missing from the queue' : 'unknown error')}`;
    case 'active': {
      if (!p) return `${name} ${formatBar(0)}   0%  ${state.stalled ? describeStall(state) : 'starting'}`;
      const fraction = p.total > 0 ? p.rows / p.total : 0;
      const percent = `${Math.min(100, Math.floor(fraction * 100))}%`.padStart(4);
      return `${name} ${formatBar(fraction)} ${percent}  ${state.stalled ? describeStall(state) : describeProgress(state)}`;
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

/** `[2/5 done, 1 failed]` and what the run waits for; during finalize, its phase. */
export function formatSummary(states: readonly TableJobState[], finalize?: FinalizeJobState | null): string {
  const c = counts(states);
  const head = `[${c.done}/${states.length} done${c.failed ? `, ${c.failed} failed` : ''}]`;
  if (c.done + c.failed === states.length) {
    if (c.failed) return `${head} waiting for a retry of the failed tables`;
    return `${head} finalizing${finalize?.state === 'active' && finalize.progress ? `: ${describeFinalizeProgress(finalize.progress)}` : ''}`;
  }
  return `${head} ${c.active} copying`;
}

/** One plain progress line (no TTY): the summary and every running table with rows, rate and ETA. */
export function formatPlainProgress(states: readonly TableJobState[], finalize?: FinalizeJobState | null): string {
  const active = states
    .filter((s) => s.state === 'active')
    .map((s) => {
      const d = s.stalled ? describeStall(s) : describeProgress(s);
      return d ? `${s.table} ${d}` : `${s.table} starting`;
    });
  const c = counts(states);
  const head = `[${c.done}/${states.length} done${c.failed ? `, ${c.failed} failed` : ''}]`;
  if (active.length > 0) return `${head} ${active.join('; ')}`;
  return formatSummary(states, finalize);
}

/**
 * The lines of the live view for a terminal of `rows` lines: a summary, then one bar per table.
 * When the tables do not fit, running and failed ones come first and the rest are counted.
 */
export function layoutLiveView(
  states: readonly TableJobState[],
  rows: number,
  finalize?: FinalizeJobState | null,
): string[] {
  const room = Math.max(1, rows - 2);
  const rank = (s: TableJobState): number =>
    s.state === 'active' ? 0 : s.state === 'failed' || s.state === 'missing' ? 1 : s.state === 'completed' ? 3 : 2;
  const ordered = states.length <= room ? [...states] : [...states].sort((a, b) => rank(a) - rank(b));
  const shown = ordered.length <= room ? ordered : ordered.slice(0, room - 1);
  const nameWidth = Math.min(40, Math.max(5, ...shown.map((s) => s.table.length)));
  const lines = [formatSummary(states, finalize), ...shown.map((s) => formatTableBar(s, nameWidth))];
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
  let lastFinalize: FinalizeJobState | null = null;
  let stopped = false;
  const frame = (): string => {
    const width = Math.max(20, (tty.columns || 80) - 1);
    const lines = layoutLiveView(last, tty.rows || 24, lastFinalize).map((line) =>
      line.length > width ? `${line.slice(0, width - 1)}…` : line,
    );
    drawn = lines.length;
    return `${lines.map((line) => `\x1b[2K${line}\n`).join('')}\x1b[J`;
  };
  // Back to the first line of the bars (the cursor sits below them).
  const rewind = (): string => (drawn > 0 ? `\x1b[${drawn}A\r` : '');
  return {
    update(states, finalize) {
      if (stopped) return;
      last = states;
      lastFinalize = finalize ?? null;
      tty.write(rewind() + frame());
    },
    log(line) {
      // Over the bars, erased to the end of the screen, then the bars again below the line.
      // The line may wrap: only the bars are counted, and they are drawn after it.
      if (stopped || drawn === 0) {
        tty.write(`${line}\n`);
        return;
      }
      tty.write(`${rewind()}\x1b[J${line}\n${frame()}`);
    },
    stop() {
      if (stopped) return;
      if (last.length > 0) tty.write(rewind() + frame());
      stopped = true;
    },
  };
}

// A table's first progress report counts as a change, so a copy shows its rows, rate and ETA
// soon after it starts, not only after the interval.
function stateKey(states: readonly TableJobState[], finalize: FinalizeJobState | null | undefined): string {
  return `${states.map((s) => `${s.jobId}=${s.state}${s.progress ? '+' : ''}`).join(',')};${finalize?.progress?.phase ?? ''}`;
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
  let lastFinalize: FinalizeJobState | null = null;
  let lastLine = '';
  let stopped = false;
  return {
    update(states, finalize) {
      if (stopped) return;
      last = states;
      lastFinalize = finalize ?? null;
      const key = stateKey(states, finalize);
      const t = now();
      if (key !== lastKey || t - lastAt >= intervalMs) {
        lastLine = formatPlainProgress(states, finalize);
        err(lastLine);
        lastKey = key;
        lastAt = t;
      }
    },
    log(line) {
      err(line);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      const line = last.length > 0 ? formatPlainProgress(last, lastFinalize) : '';
      if (line && line !== lastLine) err(line);
    },
  };
}

/** The progress view for a wait: live bars on a TTY, plain periodic lines otherwise. */
export function createProgressView(options: {
  tty?: TtyStream | undefined;
  err: (line: string) => void;
  intervalMs?: number;
  now?: () => number;
}): ProgressView {
  if (options.tty) return createLiveView(options.tty);
  return createPlainView(options.err, options.intervalMs ?? 5000, options.now ?? Date.now);
}

/**
 * The one way a waiting command writes lines to stderr: straight through `err`, or, while
 * live bars are drawn, through the progress view (above the bars). Loggers write here too.
 */
export interface StderrLane {
  write(line: string): void;
  /** Sends lines to `printer` (a view's `log`) until routed back with undefined. */
  route(printer: ((line: string) => void) | undefined): void;
}

export function createStderrLane(err: (line: string) => void): StderrLane {
  let printer: ((line: string) => void) | undefined;
  return {
    write: (line) => (printer ?? err)(line),
    route(next) {
      printer = next;
    },
  };
}

/** A quiet job (the watchdog has not acted yet): since when, and where it waits. */
function describeStall(state: TableJobState): string {
  const since = state.stalled ? Math.max(0, Math.round((Date.now() - Date.parse(state.stalled.since)) / 1000)) : 0;
  return `STALLED ${since} s: ${state.stalled?.where ?? ''}`;
}
