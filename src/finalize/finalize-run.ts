import type { DataSource } from 'typeorm';
import { readSourceCatalog } from '../dialect/mysql/catalog.js';
import { targetColumnName } from '../vocabulary/naming.js';
import { getRun, recordRunOutcome } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import {
  describeVerificationProblem,
  mergeVerifications,
  verifyRunTables,
  type TableVerification,
  type VerifyMethod,
} from '../verify/verify-run.js';
import type { DigestsHandler } from '../verify/checksum-types.js';
import type { CopyTableResult, FinalizeProgress } from './job-results.js';
import { tableJobIds } from '../state/job-ids.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import { restoreConstraints, type RestoredConstraint } from './restore-constraints.js';
import { restoreTriggers } from './restore-triggers.js';
import { resetSequences } from './reset-sequences.js';
import { syncAlembicVersion, type AlembicSync } from './sync-alembic.js';
import { PermanentError, UsageError } from '../core/errors.js';
import type { StoredOutcome } from '../schema/stored/stored-code.js';
import { createRunTriggers, migrateRoutines } from './migrate-stored.js';
import { listNotMigrated } from './not-migrated.js';
import { describeViewProblem, isViewProblem, migrateViews, reverifyViews } from './migrate-views.js';
import { constraintProblems, describeOutcome, type FinalizeSummary, type FinalizeTimings } from './finalize-summary.js';

export type { FinalizeSummary } from './finalize-summary.js';

/**
 * The last step of a run: restore saved indexes and foreign keys, continue every sequence
 * where AUTO_INCREMENT left off, sync alembic_version, verify every table (checksums by
 * default) and record the result.
 */
export async function finalizeRun(
  source: DataSource,
  target: DataSource,
  runId: string,
  log: (line: string) => void | Promise<void> = () => undefined,
  options: {
    /** Each copy job's return value, by job id: the verification and indexes it did after its copy. */
    copyResults?: ReadonlyMap<string, CopyTableResult>;
    /** Tables already verified (a --follow run's cutover: verified while following, re-verified at the freeze). */
    verified?: ReadonlyMap<string, TableVerification>;
    /** Each step of each phase (indexes n/N, foreign keys n/N, sequences, alembic_version, tables verified). */
    onProgress?: (progress: FinalizeProgress) => void | Promise<void>;
  } = {},
): Promise<FinalizeSummary> {
  const copyResults = options.copyResults ?? new Map<string, CopyTableResult>();
  const onProgress = options.onProgress ?? (() => undefined);
  const run = await getRun(target, runId);
  if (!run)
    throw new PermanentError(
      `run ${runId} is not recorded in this target's my2pg schema; is this worker's DATABASE_URL the one \`start\` used?`,
      {},
    );
  const schema = run.targetSchema;
  const tables = await listRunTables(target, runId);
  const problems: string[] = [];
  const method: VerifyMethod = run.options.verify ?? 'checksum';
  const allowRejects = Boolean(run.options.allowRejects);
  const fromJobs = resultsOfCopyJobs(run, tables, copyResults);
  for (const [table, v] of options.verified ?? []) fromJobs.verifications.set(table, v);
  const started = Date.now();
  const timings: FinalizeTimings = { indexesMs: 0, foreignKeysMs: 0, sequencesMs: 0, verifyMs: 0, totalMs: 0 };

  // What the copy jobs left (foreign keys, CHECKs, indexes of split tables) is restored while
  // the tables they did not verify are verified: index builds and reads share the machine.
  const restoring = (async () => {
    const restored = await restoreConstraints(target, runId, {
      timings,
      onProgress: (kind, done, total) =>
        onProgress({ phase: kind === 'index' ? 'indexes' : 'foreign keys', done, total }),
    });
    // ON UPDATE triggers of created tables, now that no copy writes to them any more.
    const triggers = await restoreTriggers(target, runId);
    const constraints = [...fromJobs.indexes, ...restored, ...triggers];
    const sequencesStarted = Date.now();
    await log(
      `constraints: ${constraints.filter((c) => c.status === 'restored' || c.status === 'already-present').length}/${constraints.length} restored`,
    );

    await onProgress({ phase: 'sequences', done: 0, total: 1 });
    const catalog = await readSourceCatalog(
      source,
      tables.map((t) => t.tableName),
    );
    const sequences = await resetSequences(
      target,
      schema,
      tables.map((t) => {
        const sourceTable = catalog.tables.find((s) => s.name === t.tableName);
        const aiName = sourceTable?.columns.find((c) => c.autoIncrement)?.name;
        // The column's name under the run's rules (rename, case, 63-byte cut).
        const aiColumn = aiName === undefined ? null : targetColumnName(run.options.naming, t.tableName, aiName);
        return {
          targetTable: t.targetTable,
          autoIncrementColumn: aiColumn,
          nextAutoIncrement: sourceTable?.autoIncrement ?? null,
        };
      }),
    );
    await log(`sequences: ${sequences.map((s) => `${s.table}.${s.column} -> ${s.nextValue}`).join(', ') || 'none'}`);

    let alembicVersion: AlembicSync | null = null;
    if (run.options.syncAlembic) {
      await onProgress({ phase: 'alembic_version', done: 0, total: 1 });
      alembicVersion = await syncAlembicVersion(source, target, schema);
      await log(`alembic_version: ${alembicVersion.target.join(', ') || '(empty)'}`);
    }
    timings.sequencesMs = Date.now() - sequencesStarted;
    return { constraints, sequences, alembicVersion };
  })();
  const onVerified = (v: TableVerification, done: number, total: number): void | Promise<void> =>
    onProgress({
      phase: 'verification',
      done,
      total,
      table: v.table,
      rows: Math.max(0, v.sourceRows),
      rowsPerSecond: v.durationMs > 0 ? Math.round((Math.max(0, v.sourceRows) * 1000) / v.durationMs) : 0,
    });
  const verifying = verifyRunTables(source, target, run, tables, {
    method,
    log,
    done: fromJobs.verifications,
    onTable: onVerified,
  }).finally(() => {
    timings.verifyMs = Date.now() - started;
  });
  const [{ constraints, sequences, alembicVersion }, verifications] = await Promise.all([restoring, verifying]);
  // The phases ran side by side; the last word is the verification's, every table counted.
  const last = verifications.at(-1);
  if (last) await onVerified(last, verifications.length, verifications.length);
  problems.push(...constraintProblems(constraints, run.options.where));
  for (const v of verifications) {
    if (v.status === 'mismatch' || (v.status === 'rejected' && !allowRejects))
      problems.push(describeVerificationProblem(v));
  }
  // Stored functions before the views that call them; views after the data, in dependency
  // order, their rows compared like tables; triggers last, once nothing but the application writes.
  const stored = await migrateRoutines(source, target, run, tables, log);
  const views = await migrateViews(source, target, run, tables, method, log, stored.signatures);
  problems.push(...views.filter(isViewProblem).map(describeViewProblem));
  const storedCode = await createRunTriggers(target, run, stored, problems.length === 0 && method !== 'none', log);
  const schemaObjects = run.options.schemaObjects ?? null;
  timings.totalMs = Date.now() - started;
  const summary = await recordVerification(target, runId, {
    method,
    allowRejects,
    tables: verifications,
    constraints,
    sequences,
    alembicVersion,
    views,
    storedCode,
    schemaObjects,
    notMigrated: listNotMigrated(schemaObjects, views, storedCode),
    problems,
    timings,
  });
  await log(describeOutcome(summary));
  return summary;
}

/**
 * What the copy jobs did after their copies (keyed by job id): each table's verification when
 * every part of it was verified, and the indexes they rebuilt.
 */
function resultsOfCopyJobs(
  run: RunRow,
  tables: readonly RunTableRow[],
  results: ReadonlyMap<string, CopyTableResult>,
): { verifications: Map<string, TableVerification>; indexes: RestoredConstraint[] } {
  const verifications = new Map<string, TableVerification>();
  const indexes: RestoredConstraint[] = [];
  for (const table of tables) {
    const parts = tableJobIds(table, run.options.ranges).map((id) => results.get(id));
    for (const part of parts) indexes.push(...(part?.indexes ?? []));
    const checked = parts.map((p) => p?.verification);
    if (checked.every((v): v is TableVerification => v !== undefined))
      verifications.set(table.tableName, mergeVerifications(checked));
  }
  return { verifications, indexes };
}

/**
 * Stores a run's outcome (status and summary) from its parts. Each table's verification is
 * recorded once, in run_tables, by verifyRunTables; the stored summary leaves `tables` out
 * (status --json composes them from there) and the returned one has them.
 */
async function recordVerification(
  target: DataSource,
  runId: string,
  parts: Omit<FinalizeSummary, 'runId' | 'verified' | 'rejected'>,
): Promise<FinalizeSummary> {
  const { method, problems } = parts;
  const verified = problems.length === 0 && method !== 'none';
  const status = problems.length > 0 ? 'not_verified' : method === 'none' ? 'unverified' : 'verified';
  const rejected = parts.tables.reduce((n, v) => n + v.rejected, 0);
  const summary: FinalizeSummary = { runId, verified, rejected, ...parts };
  const { tables: _recordedPerTable, ...stored } = summary;
  await recordRunOutcome(target, runId, status, stored);
  return summary;
}

/**
 * `my2pg verify`: verifies a finished run again (the target may have changed since), with the
 * constraints, sequences and alembic outcome of its finalize kept as they were.
 */
export async function reverifyRun(
  source: DataSource,
  target: DataSource,
  runId: string,
  method: VerifyMethod,
  log: (line: string) => void | Promise<void> = () => undefined,
  onDigests?: DigestsHandler,
): Promise<FinalizeSummary> {
  const run = await getRun(target, runId);
  if (!run) throw new UsageError(`no run ${runId} in this target`);
  if (run.status === 'running' || !run.summary)
    throw new UsageError(
      `run ${runId} has not finished (finalize has not run); wait for it, or see npx my2pg status ${runId}`,
    );
  const previous = run.summary;
  const tables = await listRunTables(target, runId);
  const allowRejects = Boolean(run.options.allowRejects);
  const verifications = await verifyRunTables(source, target, run, tables, { method, log, onDigests });
  const problems = constraintProblems(previous.constraints ?? [], run.options.where);
  for (const v of verifications) {
    if (v.status === 'mismatch' || (v.status === 'rejected' && !allowRejects))
      problems.push(describeVerificationProblem(v));
  }
  const views = await reverifyViews(source, target, run, previous.views ?? [], method);
  problems.push(...views.filter(isViewProblem).map(describeViewProblem));
  return recordVerification(target, runId, {
    method,
    allowRejects,
    tables: verifications,
    constraints: previous.constraints ?? [],
    sequences: previous.sequences ?? [],
    alembicVersion: previous.alembicVersion ?? null,
    views,
    ...(previous.storedCode ? { storedCode: previous.storedCode as StoredOutcome[] } : {}),
    schemaObjects: previous.schemaObjects ?? null,
    notMigrated: previous.notMigrated ?? [],
    problems,
  });
}
