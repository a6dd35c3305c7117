import type { DataSource } from 'typeorm';
import { withPgClient } from '../dialect/postgres/connection.js';
import { readSourceCatalog } from '../dialect/mysql/catalog.js';
import { readSourceStoredCode } from '../schema/stored/source-stored-code.js';
import {
  createRoutines,
  createTriggers,
  translateStoredCode,
  type StoredOutcome,
  type StoredTranslation,
} from '../schema/stored/stored-code.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import { runCatalogOf } from '../state/run-catalog.js';
import { relationsOf } from './target-relations.js';

/** One line per outcome, for the job log. */
function describe(outcome: StoredOutcome): string {
  return `${outcome.kind} ${outcome.name}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}`;
}

/**
 * Translates the source's stored functions, procedures and triggers against the run's tables
 * and creates the functions and procedures (before the views, which may call them). Triggers
 * wait for createRunTriggers, at the very end.
 */
export async function migrateRoutines(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  tables: readonly RunTableRow[],
  log: (line: string) => void | Promise<void>,
): Promise<StoredTranslation> {
  const code = await readSourceStoredCode(source);
  const catalog =
    (await (await runCatalogOf(source, target, run.id))?.sourceCatalog()) ??
    (await readSourceCatalog(
      source,
      tables.map((t) => t.tableName),
    ));
  const relations = await withPgClient(target, (client) =>
    relationsOf(client, run.targetSchema, tables, catalog.tables, run.options.naming),
  );
  const translation = translateStoredCode(code, {
    database: code.database,
    schema: run.targetSchema,
    relations,
    naming: run.options.naming,
  });
  for (const outcome of await createRoutines(translation, (sql) => target.query(sql))) await log(describe(outcome));
  for (const outcome of translation.events) await log(describe(outcome));
  return translation;
}

/**
 * Creates the translated triggers once the data is in and verified. A `--follow` run's
 * finalize runs at cutover, after the follower drained: its triggers are created only on a
 * go (the follower then ends), so the follower never writes into a table with triggers.
 */
export async function createRunTriggers(
  target: DataSource,
  run: RunRow,
  translation: StoredTranslation,
  verified: boolean,
  log: (line: string) => void | Promise<void>,
): Promise<StoredOutcome[]> {
  const wait =
    run.options.follow && !verified
      ? 'a --follow run creates its triggers at a cutover that goes (the follower must not fire them)'
      : null;
  const outcomes = await createTriggers(translation, (sql) => target.query(sql), wait);
  for (const outcome of outcomes) await log(describe(outcome));
  return [...translation.routines.map((r) => r.outcome), ...outcomes, ...translation.events];
}
