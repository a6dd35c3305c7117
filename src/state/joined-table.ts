import type { SourceTable } from '../dialect/mysql/catalog.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { quotePg } from '../dialect/postgres/quote.js';
import { STATE_SCHEMA } from './entities.js';
import { changeSavedForeignKeys, changeSavedIndexes, replaceFollowDefinition } from './follow-definitions.js';

const RUN_TABLES = `${quotePg(STATE_SCHEMA)}.run_tables`;
const RUNS = `${quotePg(STATE_SCHEMA)}.runs`;
const SAVED = `${quotePg(STATE_SCHEMA)}.saved_constraints`;

/** A table created in MySQL while following, as it joins the run. */
export interface JoinedTable {
  definition: SourceTable;
  schema: string;
  targetTable: string;
  jobId: string;
  /** The key its rows are matched by. */
  key: readonly string[];
  /** What the run's DDL deferred: indexes, foreign keys, CHECKs, ON UPDATE triggers. */
  deferred: readonly { kind: 'index' | 'foreign_key' | 'check' | 'trigger'; name: string; definition: string }[];
}

/**
 * Inside the transaction that commits the position past its CREATE TABLE: the table joins the
 * run (its run_tables row, copied with no rows: it was empty at that position), its recorded
 * definition and key, and what finalize restores for it, as prepare saves them for a created
 * table. Returns the statements to run now (indexes, once finalize has restored the run's).
 */
export async function recordJoinedTable(pg: PoolClient, runId: string, joined: JoinedTable): Promise<string[]> {
  const { definition, schema, targetTable } = joined;
  await pg.query(
    `INSERT INTO ${RUN_TABLES} (run_id, table_name, target_table, job_id, action, status, rows_copied, started_at, finished_at)
     VALUES ($1, $2, $3, $4, 'create', 'copied', 0, now(), now())`,
    [runId, definition.name, targetTable, joined.jobId],
  );
  await replaceFollowDefinition(pg, runId, definition);
  await pg.query(
    `UPDATE ${RUNS} SET options = jsonb_set(options, '{follow,keys}', COALESCE(options->'follow'->'keys', '{}'::jsonb) || jsonb_build_object($2::text, $3::jsonb)) WHERE id = $1`,
    [runId, definition.name, JSON.stringify(joined.key)],
  );
  const of = (kind: JoinedTable['deferred'][number]['kind']) => joined.deferred.filter((d) => d.kind === kind);
  for (const item of [...of('check'), ...of('trigger')])
    await pg.query(
      `INSERT INTO ${SAVED} (run_id, kind, schema_name, table_name, name, definition) VALUES ($1, $2, $3, $4, $5, $6)`,
      [runId, item.kind, schema, targetTable, item.name, item.definition],
    );
  return [
    ...(await changeSavedIndexes(pg, runId, schema, targetTable, { added: of('index'), dropped: [] })),
    ...(await changeSavedForeignKeys(pg, runId, schema, targetTable, { added: of('foreign_key'), dropped: [] })),
  ];
}
