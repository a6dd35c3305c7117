import type { DataSource } from 'typeorm';
import { describeError } from '../errors.js';
import { readSourceCatalog } from '../schema/source-catalog.js';
import { getRun, listRunTables, updateRun, updateRunTable } from '../state/store.js';
import { countBothSides } from '../verify/count-rows.js';
import { restoreConstraints, type RestoredConstraint } from './restore-constraints.js';
import { resetSequences, type SequenceReset } from './reset-sequences.js';
import { syncAlembicVersion, type AlembicSync } from './sync-alembic.js';
import { MigrationError } from '../errors.js';

/** Verification of one table, as recorded in `my2pg.run_tables` and returned by finalize. */
export interface TableVerification {
  table: string;
  sourceRows: number;
  targetRows: number;
  status: 'verified' | 'mismatch';
}

/** finalize's return value, also stored as the run's summary. */
export interface FinalizeSummary {
  runId: string;
  verified: boolean;
  tables: TableVerification[];
  constraints: RestoredConstraint[];
  sequences: SequenceReset[];
  alembicVersion: AlembicSync | null;
  problems: string[];
}

/**
 * The last step of a run: restore saved indexes and foreign keys, continue every sequence
 * where AUTO_INCREMENT left off, sync alembic_version, count both sides and record the result.
 */
export async function finalizeRun(source: DataSource, target: DataSource, runId: string, log: (line: string) => void | Promise<void> = () => undefined): Promise<FinalizeSummary> {
  const run = await getRun(target, runId);
  if (!run) throw new MigrationError(`run ${runId} is not recorded in this target's my2pg schema; is this worker's DATABASE_URL the one \`start\` used?`, {}, true);
  const schema = run.targetSchema;
  const tables = await listRunTables(target, runId);
  const problems: string[] = [];

  const constraints = await restoreConstraints(target, runId);
  for (const c of constraints) {
    if (c.status === 'violated' || c.status === 'failed') problems.push(`${c.kind === 'index' ? 'index' : 'foreign key'} ${c.name} on ${c.table}: ${c.error ?? c.status}`);
  }
  await log(`constraints: ${constraints.filter((c) => c.status === 'restored' || c.status === 'already-present').length}/${constraints.length} restored`);

  const catalog = await readSourceCatalog(source, tables.map((t) => t.tableName));
  const sequences = await resetSequences(
    target,
    schema,
    tables.map((t) => {
      const sourceTable = catalog.tables.find((s) => s.name === t.tableName);
      const aiColumn = sourceTable?.columns.find((c) => c.autoIncrement)?.name ?? null;
      return { targetTable: t.targetTable, autoIncrementColumn: aiColumn, nextAutoIncrement: sourceTable?.autoIncrement ?? null };
    }),
  );
  await log(`sequences: ${sequences.map((s) => `${s.table}.${s.column} -> ${s.nextValue}`).join(', ') || 'none'}`);

  let alembicVersion: AlembicSync | null = null;
  if (run.options.syncAlembic) {
    alembicVersion = await syncAlembicVersion(source, target, schema);
    await log(`alembic_version: ${alembicVersion.target.join(', ') || '(empty)'}`);
  }

  const verifications: TableVerification[] = [];
  for (const table of tables) {
    try {
      const check = await countBothSides(source, target, schema, table.tableName, table.targetTable);
      const status = check.equal ? 'verified' : 'mismatch';
      verifications.push({ table: table.tableName, sourceRows: check.sourceRows, targetRows: check.targetRows, status });
      if (!check.equal) problems.push(`table ${table.tableName}: ${check.sourceRows} rows in MySQL, ${check.targetRows} in PostgreSQL`);
      await updateRunTable(target, runId, table.tableName, {
        status,
        sourceRows: String(check.sourceRows),
        targetRows: String(check.targetRows),
        verification: { method: 'count', sourceRows: check.sourceRows, targetRows: check.targetRows, status, at: new Date().toISOString() },
      });
    } catch (error) {
      problems.push(`table ${table.tableName}: verification failed: ${describeError(error)}`);
      verifications.push({ table: table.tableName, sourceRows: -1, targetRows: -1, status: 'mismatch' });
    }
  }
  const verified = problems.length === 0;
  const summary: FinalizeSummary = { runId, verified, tables: verifications, constraints, sequences, alembicVersion, problems };
  await updateRun(target, runId, { status: verified ? 'verified' : 'not_verified', finishedAt: new Date(), summary: summary as unknown as Record<string, unknown> });
  await log(verified ? 'verified: every table has the same row count on both sides' : `not verified: ${problems.join('; ')}`);
  return summary;
}
