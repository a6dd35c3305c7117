import type { DataSource } from 'typeorm';
import { withPgClient } from '../dialect/postgres/connection.js';
import { readSourceCatalog, type SourceCatalog, type SourceTable } from '../dialect/mysql/catalog.js';
import { readTargetTables, type TargetTable } from '../dialect/postgres/catalog.js';
import type { RunRow } from './entities.js';
import { getRun } from './runs.js';
import { listRunTables } from './run-tables.js';
import { PermanentError } from '../core/errors.js';

/**
 * The definitions of a run's tables, read once per worker process and run: one read of
 * information_schema for every table of the run and one of the target's catalog, instead of
 * one per copy and per verification (on a schema of hundreds of small tables, those reads were
 * most of the time). A job that fails forgets the run's catalog, so its retry reads afresh (the
 * failure may have been a definition fixed since).
 */
export interface RunCatalog {
  run: RunRow;
  /** The source table (undefined when it no longer exists) and the source database's name. */
  sourceTable(name: string): Promise<{ database: string; table: SourceTable | undefined }>;
  /** The target table in the run's schema (undefined when it does not exist). */
  targetTable(name: string): Promise<TargetTable | undefined>;
  /** Every source table of the run. */
  sourceCatalog(): Promise<SourceCatalog>;
}

/** Runs remembered per process; a worker rarely serves more than one run at a time. */
const KEPT = 4;
const runs = new Map<string, Promise<RunCatalog | null>>();

/** The run's catalog from this process's memory, read on first use; null when the run is not recorded in the target. */
export function runCatalogOf(source: DataSource, target: DataSource, runId: string): Promise<RunCatalog | null> {
  let found = runs.get(runId);
  if (!found) {
    found = readRunCatalog(source, target, runId);
    runs.set(runId, found);
    // Not kept when it could not be read, or the run is not there (yet): the next job asks again.
    found.then(
      (catalog) => {
        if (!catalog) runs.delete(runId);
      },
      () => runs.delete(runId),
    );
    while (runs.size > KEPT) runs.delete(runs.keys().next().value!);
  }
  return found;
}

/** Drops a run's catalog (after a failure): the next job of the run reads it again. */
export function forgetRunCatalog(runId: string): void {
  runs.delete(runId);
}

async function readRunCatalog(source: DataSource, target: DataSource, runId: string): Promise<RunCatalog | null> {
  const run = await getRun(target, runId);
  if (!run) return null;
  const tables = await listRunTables(target, runId);
  let sources: Promise<SourceCatalog> | undefined;
  let targets: Promise<Map<string, TargetTable>> | undefined;
  const sourceCatalog = (): Promise<SourceCatalog> =>
    (sources ??= readSourceCatalog(
      source,
      tables.map((t) => t.tableName),
    ).then((catalog) => sameDatabase(catalog, run)));
  const targetTables = (): Promise<Map<string, TargetTable>> =>
    (targets ??= withPgClient(target, (client) =>
      readTargetTables(
        client,
        run.targetSchema,
        tables.map((t) => t.targetTable),
      ),
    ));
  return {
    run,
    sourceCatalog,
    async sourceTable(name) {
      const catalog = await sourceCatalog();
      return { database: catalog.database, table: catalog.tables.find((t) => t.name === name) };
    },
    async targetTable(name) {
      return (await targetTables()).get(name);
    },
  };
}

/**
 * Loads the source and target definitions of one table: from the run's catalog when one is
 * given (read once per run and process), else from both databases.
 */
export async function loadTablePair(
  source: DataSource,
  target: DataSource,
  input: { table: string; targetSchema: string; targetTable: string },
  catalog?: RunCatalog,
): Promise<{ sourceTable: SourceTable; targetTable: TargetTable }> {
  const { database, table: sourceTable } = catalog
    ? await catalog.sourceTable(input.table)
    : await readSourceCatalog(source, [input.table]).then((c) => ({
        database: c.database,
        table: c.tables.find((t) => t.name === input.table),
      }));
  if (!sourceTable) {
    throw new PermanentError(`table ${input.table}: it no longer exists in the MySQL source database ${database}`, {
      table: input.table,
    });
  }
  const targetTable =
    catalog && catalog.run.targetSchema === input.targetSchema
      ? await catalog.targetTable(input.targetTable)
      : (await withPgClient(target, (client) => readTargetTables(client, input.targetSchema, [input.targetTable]))).get(
          input.targetTable,
        );
  if (!targetTable) {
    throw new PermanentError(
      `table ${input.table}: the target table ${input.targetSchema}.${input.targetTable} does not exist; start a new run so my2pg creates it`,
      { table: input.table },
    );
  }
  return { sourceTable, targetTable };
}

/**
 * A worker reads the source database its own MYSQL_URL names (or its migration file's
 * `databases` entry for the run's schema): on another host, nothing else tells it the run's. A
 * worker pointed at another database would copy that one's tables, so its jobs fail for good,
 * saying which database the run reads.
 */
function sameDatabase(catalog: SourceCatalog, run: RunRow): SourceCatalog {
  if (catalog.database === run.sourceDatabase) return catalog;
  const named = catalog.database ? `names database ${catalog.database}` : 'names no database';
  throw new PermanentError(
    `run ${run.id} copies MySQL database ${run.sourceDatabase}, but this worker's source URL (MYSQL_URL, --source or its migration file) ${named}: point it at ${run.sourceDatabase} and retry the run`,
  );
}
