import type { DataSource } from 'typeorm';
import { UsageError } from '../core/errors.js';
import { listRunningRunsOfTarget } from '../state/runs.js';

/**
 * What a worker started on any host checks against the runs in progress on its target before
 * it takes a job. Its settings come from its own environment (or migration file), never from the
 * producer's: a worker whose MySQL URL names another database than a running run of its schema
 * is refused (exit 2) here rather than failing that run's jobs; one whose schema has no run in
 * progress while another schema has one is told which schema to serve, instead of waiting silently.
 * Returns the warning to log, if any.
 */
export async function checkWorkerFits(
  source: DataSource,
  target: DataSource,
  schema: string,
): Promise<string | undefined> {
  const running = await listRunningRunsOfTarget(target);
  if (running.length === 0) return undefined;
  const mine = running.filter((run) => run.targetSchema === schema);
  if (mine.length > 0) {
    const rows: { db: string | null }[] = await source.query('SELECT DATABASE() AS db');
    const database = rows[0]?.db ?? null;
    const other = mine.find((run) => run.sourceDatabase !== database);
    if (other) {
      throw new UsageError(
        `run ${other.id} (schema ${schema}) copies MySQL database ${other.sourceDatabase}, but this worker's source URL (MYSQL_URL, --source or the migration file) names ${database === null ? 'no database' : `database ${database}`}: point it at ${other.sourceDatabase}`,
      );
    }
    return undefined;
  }
  const schemas = [...new Set(running.map((run) => run.targetSchema))];
  return `no run in progress in schema ${schema}, whose jobs this worker takes; run ${running[0]!.id} is in progress in schema${schemas.length > 1 ? 's' : ''} ${schemas.join(', ')}: start the worker with MY2PG_SCHEMA=${schemas[0]} (or --schema ${schemas[0]}) to work it`;
}
