import type { RunRow, RunTableRow } from '../state/entities.js';
import type { RunSummary } from '../state/run-summary.js';
import { verdictOf } from '../state/table-status.js';
import type { TableJobState } from '../queue/job-states.js';
import { formatFidelityLines } from './fidelity-report.js';
import { describeSchemaObjects } from './schema-objects-report.js';

/** Pads a table of strings into aligned columns: text columns (by index) to the left, numbers to the right. */
function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  textColumns: readonly number[] = [0],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (textColumns.includes(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function num(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '-' : String(value);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function copySeconds(row: RunTableRow): string {
  if (!row.startedAt || !row.finishedAt) return '-';
  return seconds(row.finishedAt.getTime() - row.startedAt.getTime());
}

/** One row of the report, before formatting. */
export interface ReportRow {
  table: string;
  sourceRows: number | null;
  targetRows: number | null;
  rejected: number | null;
  verification: string;
  verified: boolean;
  time: string;
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** `checksum ok`, `count MISMATCH`, `failed`, `pending`: what was proven about a table. */
export function describeVerification(status: string, method: string | undefined): string {
  const how = method ?? 'count';
  if (status === 'verified') return how === 'none' ? 'not checked' : `${how} ok`;
  if (status === 'mismatch') return `${how} MISMATCH`;
  if (status === 'rejected') return `${how} ok but rejected rows`;
  if (status === 'unverified') return 'not checked';
  if (status === 'failed') return 'copy failed';
  if (status === 'copied') return 'awaiting finalize';
  return status;
}

/**
 * The report's rows, from run_tables: each table's verdict where it was verified, else where
 * its copy is. `summary` matters only for runs finalized by an earlier version, whose summary
 * listed the tables' verification (see verdictOf).
 */
export function buildReportRows(tables: readonly RunTableRow[], summary: RunSummary | null): ReportRow[] {
  const legacy = new Map((summary?.tables ?? []).map((t) => [t.table, t]));
  return tables.map((t) => {
    const verdict = verdictOf(t, legacy.get(t.tableName));
    const status = verdict?.status ?? t.status;
    const copied = t.status !== 'pending' && t.status !== 'copying' && t.status !== 'failed';
    const rejectedValue = verdict?.rejected ?? t.rejectedRows;
    return {
      table: t.tableName,
      sourceRows: toNumber(verdict?.sourceRows ?? t.sourceRows),
      // Before finalize counts, the rows the committed copy wrote are what the target holds.
      targetRows: toNumber(verdict?.targetRows ?? t.targetRows ?? (copied ? t.rowsCopied : null)),
      // A failed copy rolled its rejected rows back: none to show, unless key ranges that did commit set some aside.
      rejected: copied ? (toNumber(rejectedValue) ?? 0) : toNumber(rejectedValue) || null,
      verification: describeVerification(status, verdict?.method),
      verified: status === 'verified',
      time: copySeconds(t),
    };
  });
}

/**
 * A table's name in the report, with its `where` condition when the run copied only part of it
 * (`orders (where: created_at >= '2024-01-01')`), so that nobody takes it for a full copy.
 * A long condition is cut (status --json has it whole).
 */
function tableLabel(run: Pick<RunRow, 'options'>, table: string): string {
  const condition = run.options.where?.[table];
  if (condition === undefined) return table;
  const flat = condition.replace(/\s+/g, ' ').trim();
  return `${table} (where: ${flat.length > 60 ? `${flat.slice(0, 59)}…` : flat})`;
}

/** The per-table report printed at the end of run / start --wait / retry --wait and by status. */
export function formatRunReport(
  run: RunRow,
  tables: readonly RunTableRow[],
  jobs: readonly TableJobState[] = [],
  options: { jobColumns?: boolean } = {},
): string {
  const byTable = new Map(jobs.map((j) => [j.table, j]));
  const reportRows = buildReportRows(tables, run.summary);
  const withJobs = options.jobColumns === true;
  const rows = reportRows.map((r, i) => {
    const job = byTable.get(r.table);
    const jobCells = withJobs ? [job?.state ?? '-', String(tables[i]?.attempts ?? 0)] : [];
    return [
      tableLabel(run, r.table),
      ...jobCells,
      num(r.sourceRows),
      num(r.targetRows),
      num(r.rejected),
      r.verification,
      r.time,
    ];
  });
  const sum = (pick: (r: ReportRow) => number | null): string =>
    reportRows.some((r) => pick(r) !== null) ? String(reportRows.reduce((acc, r) => acc + (pick(r) ?? 0), 0)) : '-';
  const verifiedCount = reportRows.filter((r) => r.verified).length;
  const runTime = run.finishedAt ? seconds(run.finishedAt.getTime() - run.createdAt.getTime()) : '-';
  rows.push([
    'total',
    ...(withJobs ? ['', ''] : []),
    sum((r) => r.sourceRows),
    sum((r) => r.targetRows),
    sum((r) => r.rejected),
    `${verifiedCount}/${reportRows.length} ok`,
    runTime,
  ]);
  const header = [
    'table',
    ...(withJobs ? ['job', 'attempts'] : []),
    'source rows',
    'target rows',
    'rejected',
    'verification',
    'time',
  ];
  const lines = [
    `run ${run.id}: ${run.status} (source ${run.source}, target schema ${run.targetSchema})`,
    formatTable(header, rows, [0, header.indexOf('verification')]),
  ];
  // Tables are named by their source names above; where the run named one otherwise (renames, case), say so.
  const renamed = tables.filter((t) => t.targetTable !== t.tableName);
  if (renamed.length > 0)
    lines.push(`target names: ${renamed.map((t) => `${t.tableName} → ${t.targetTable}`).join(', ')}`);
  for (const skipped of run.options.skippedTables ?? [])
    lines.push(
      `skipped: ${skipped.table}, dropped from the run while following (resume --skip-table) at ${skipped.at}: ${skipped.reason}; not verified, its target table left as it was`,
    );
  const summary = run.summary;
  if (summary?.alembicVersion) lines.push(`alembic_version: ${summary.alembicVersion.target?.join(', ') || '(empty)'}`);
  if (summary?.sequences && summary.sequences.length > 0) {
    lines.push(`sequences: ${summary.sequences.map((s) => `${s.table}.${s.column} next ${s.nextValue}`).join(', ')}`);
  }
  lines.push(...formatFidelityLines(run, tables));
  lines.push(...formatWatchdogLines(jobs));
  lines.push(...describeSchemaObjects(run));
  for (const problem of summary?.problems ?? []) lines.push(`problem: ${problem}`);
  return lines.join('\n');
}

/** A name as one POSIX shell word: bare when safe, else single-quoted. */
export function shellWord(name: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`;
}

/** Lines naming each failed table, its error and the command that retries it. */
export function formatFailures(
  runId: string,
  tables: readonly RunTableRow[],
  jobs: readonly TableJobState[],
): string[] {
  const out: string[] = [];
  for (const job of jobs) {
    if (job.state !== 'failed' && job.state !== 'missing') continue;
    const row = tables.find((t) => t.tableName === job.table);
    const reason =
      job.failedReason ??
      row?.lastError ??
      (job.state === 'missing' ? 'the job is missing from the queue' : 'unknown error');
    out.push(`table ${job.table} failed: ${reason}`);
    out.push(`  fix the cause, then: npx my2pg retry ${runId} --table ${shellWord(job.table)} --wait`);
  }
  return out;
}

/** Jobs quiet now (before the watchdog acts) and the attempts the watchdog ended. */
function formatWatchdogLines(jobs: readonly TableJobState[]): string[] {
  const lines = jobs
    .filter((j) => j.stalled)
    .map((j) => `stalled: ${j.table}: no progress since ${j.stalled!.since} while ${j.stalled!.where}`);
  const ended = jobs.filter((j) => (j.watchdogAttempts ?? 0) > 0);
  if (ended.length > 0) {
    const total = ended.reduce((n, j) => n + (j.watchdogAttempts ?? 0), 0);
    lines.push(
      `watchdog: ${total} attempt${total === 1 ? '' : 's'} ended for lack of progress (${ended.map((j) => `${j.table} ${j.watchdogAttempts}`).join(', ')}), retried`,
    );
  }
  return lines;
}
