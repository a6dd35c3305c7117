import type { RunRow, RunTableRow } from '../state/entities.js';
import type { TableJobState } from '../queue/run-queue.js';
import { describeAdjustments, type TableAdjustments } from '../copy/copy-table.js';

/** Pads a table of strings into aligned columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function num(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '-' : String(value);
}

function seconds(row: RunTableRow): string {
  if (!row.startedAt || !row.finishedAt) return '-';
  return `${((row.finishedAt.getTime() - row.startedAt.getTime()) / 1000).toFixed(1)}s`;
}

/** The per-table report printed at the end of run / start --wait / retry --wait / status. */
export function formatRunReport(run: RunRow, tables: readonly RunTableRow[], jobs: readonly TableJobState[] = []): string {
  const byTable = new Map(jobs.map((j) => [j.table, j]));
  const rows = tables.map((t) => {
    const job = byTable.get(t.tableName);
    return [t.tableName, t.action, job?.state ?? '-', num(t.rowsCopied), num(t.sourceRows), num(t.targetRows), t.status, String(t.attempts), seconds(t)];
  });
  const totals = tables.reduce(
    (acc, t) => ({ copied: acc.copied + Number(t.rowsCopied ?? 0), source: acc.source + Number(t.sourceRows ?? 0), target: acc.target + Number(t.targetRows ?? 0) }),
    { copied: 0, source: 0, target: 0 },
  );
  rows.push(['total', '', '', String(totals.copied), String(totals.source), String(totals.target), '', '', '']);
  const lines = [
    `run ${run.id}: ${run.status} (source ${run.source}, target schema ${run.targetSchema})`,
    formatTable(['table', 'action', 'job', 'copied', 'source rows', 'target rows', 'status', 'attempts', 'time'], rows),
  ];
  const summary = run.summary as { alembicVersion?: { target?: string[] } | null; sequences?: { table: string; column: string; nextValue: string }[]; problems?: string[] } | null;
  if (summary?.alembicVersion) lines.push(`alembic_version: ${summary.alembicVersion.target?.join(', ') || '(empty)'}`);
  if (summary?.sequences && summary.sequences.length > 0) {
    lines.push(`sequences: ${summary.sequences.map((s) => `${s.table}.${s.column} next ${s.nextValue}`).join(', ')}`);
  }
  for (const t of tables) {
    for (const line of describeAdjustments((t.adjustments ?? {}) as TableAdjustments)) lines.push(`adjusted: table ${t.tableName}, ${line}`);
  }
  for (const problem of summary?.problems ?? []) lines.push(`problem: ${problem}`);
  return lines.join('\n');
}

/** A name as one POSIX shell word: bare when safe, else single-quoted. */
export function shellWord(name: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
}

/** Lines naming each failed table, its error and the command that retries it. */
export function formatFailures(runId: string, tables: readonly RunTableRow[], jobs: readonly TableJobState[]): string[] {
  const out: string[] = [];
  for (const job of jobs) {
    if (job.state !== 'failed' && job.state !== 'missing') continue;
    const row = tables.find((t) => t.tableName === job.table);
    const reason = job.failedReason ?? row?.lastError ?? (job.state === 'missing' ? 'the job is missing from Redis' : 'unknown error');
    out.push(`table ${job.table} failed: ${reason}`);
    out.push(`  fix the cause, then: npx my2pg retry ${runId} --table ${shellWord(job.table)} --wait`);
  }
  return out;
}

/** One plain progress line for the tables that are running. */
export function formatProgressLine(states: readonly TableJobState[]): string | null {
  const active = states.filter((s) => s.state === 'active');
  const done = states.filter((s) => s.state === 'completed').length;
  const failed = states.filter((s) => s.state === 'failed').length;
  const parts = active.map((s) => {
    const p = s.progress;
    return p ? `${s.table} ${p.rows}/${p.total} (${p.rowsPerSecond} rows/s)` : `${s.table} starting`;
  });
  return `[${done}/${states.length} done${failed ? `, ${failed} failed` : ''}] ${parts.join(', ') || (done + failed === states.length ? 'finalizing' : 'waiting for a worker')}`;
}
