import type { ConfigOverrides } from '../config/config.js';
import { resolveCommandConfig } from './command-config.js';
import { readTableJobs } from '../queue/job-states.js';
import { queuesOfRun } from '../queue/target-scope.js';
import type { RunRow } from '../state/entities.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import { getRun } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import { listRejectedRows } from '../state/rejected-rows.js';
import { summaryWithTables, tableStatusOf } from '../state/table-status.js';
import { reverifyRun } from '../finalize/finalize-run.js';
import { describeOutcome } from '../finalize/finalize-summary.js';
import type { Output } from './output.js';
import { buildReportRows, formatFailures, formatRunReport } from './report.js';
import { describeRejectedRows } from './wait-run.js';
import { schemaObjectsOf } from './schema-objects-report.js';
import { readFollowStatus, formatFollowStatus } from './follow-status.js';
import { formatFallbackStatus, readFallbackStatus } from './fallback-status.js';
import { jobRefs, resolveRun, withServices, withVerifiableRun } from './command-services.js';

/** `status`: per-table state from PostgreSQL and Redis. */
export async function statusCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { json?: boolean; config?: string },
  output: Output,
): Promise<number> {
  const { config } = resolveCommandConfig(overrides, ['target', 'queue'], {
    config: flags.config,
    runId,
    logLevel: 'info',
  });
  return withServices(config, { source: false }, async ({ target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema);
    const queues = queuesFor(queuesOfRun(run.options));
    const tables = await listRunTables(target, run.id);
    const jobs = await readTableJobs(queues, jobRefs(run, tables));
    const follow = await readFollowStatus(target, queues, run);
    const fallback = await readFallbackStatus(target, queues, run);
    if (flags.json) {
      const byTable = new Map(jobs.map((j) => [j.table, j]));
      const reportRows = new Map(buildReportRows(tables, run.summary).map((r) => [r.table, r]));
      output.out(
        JSON.stringify(
          {
            run: {
              id: run.id,
              status: run.status,
              createdAt: run.createdAt,
              finishedAt: run.finishedAt,
              source: run.source,
              targetSchema: run.targetSchema,
              queues: queues.names,
            },
            tables: tables.map((t) => {
              const job = byTable.get(t.tableName);
              return {
                table: t.tableName,
                targetTable: t.targetTable,
                action: t.action,
                // Only the source rows matching this condition were copied and are verified.
                where: run.options.where?.[t.tableName] ?? null,
                status: tableStatusOf(t),
                jobState: job?.state ?? null,
                progress: job?.progress ?? null,
                // Quiet since when and where (before the watchdog acts), and the attempts it ended.
                stalled: job?.stalled ?? null,
                watchdogAttempts: job?.watchdogAttempts ?? 0,
                attempts: t.attempts,
                rowsCopied: t.rowsCopied === null ? null : Number(t.rowsCopied),
                sourceRows: t.sourceRows === null ? null : Number(t.sourceRows),
                targetRows: t.targetRows === null ? null : Number(t.targetRows),
                rejected: reportRows.get(t.tableName)?.rejected ?? null,
                lastError: job?.failedReason ?? t.lastError,
                verification: t.verification,
                adjustments: t.adjustments,
              };
            }),
            rejectedRows: await listRejectedRows(target, run.id),
            // tinyint(1)/bit(1) columns: boolean or smallint, as the data decided when the run was planned.
            decidedTypes: run.options.decidedTypes ?? [],
            // Views, generated columns, CHECKs, and the triggers/routines/events not migrated.
            schemaObjects: schemaObjectsOf(run),
            summary: summaryWithTables(run.summary, tables),
            // A --follow run's binary log follower: position, events applied, rate, lag.
            follow,
            // A --fallback run's way back after cutover: position, events applied, lag, WAL retained.
            fallback,
          },
          null,
          2,
        ),
      );
    } else {
      output.out(formatRunReport(run, tables, jobs, { jobColumns: true }));
      for (const line of formatFailures(run.id, tables, jobs)) output.out(line);
      if (follow) output.out(formatFollowStatus(follow, run.id));
      if (fallback) output.out(formatFallbackStatus(fallback, run.id));
      const rejected = tables.reduce((n, t) => n + (t.rejectedRows ?? 0), 0);
      for (const line of await describeRejectedRows(target, run.id, rejected)) output.out(line);
    }
    return 0;
  });
}

/** `verify`: checks a finished run again, on both sides; exit 0 when equal, 1 when not. */
export async function verifyCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { method: VerifyMethod; json?: boolean; config?: string },
  output: Output,
): Promise<number> {
  const { config, forRun } = resolveCommandConfig(overrides, ['source', 'target'], {
    config: flags.config,
    runId,
    logLevel: 'info',
  });
  return withVerifiableRun(config, forRun, runId, async ({ run, source, target }) => {
    const summary = await reverifyRun(source, target, run.id, flags.method, (line) => output.err(line));
    if (flags.json) {
      output.out(JSON.stringify(summary, null, 2));
    } else {
      const after = (await getRun(target, run.id)) as RunRow;
      output.out(formatRunReport(after, await listRunTables(target, run.id)));
      output.out(`run ${run.id}: ${describeOutcome(summary)}`);
    }
    return summary.verified ? 0 : 1;
  });
}
