import type { PoolClient } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { STATE_SCHEMA } from './entities.js';

const state = (name: string): string => `${quotePg(STATE_SCHEMA)}.${quotePg(name)}`;

/** State kept per source table name, beside run_tables and follow_definitions. */
const PER_TABLE = ['live_tables', 'change_log', 'rejected_rows'].map(state);

/** Options kept per source table: `path` in my2pg.runs.options is an object by table name. */
const OPTION_PATHS = [['follow', 'keys'], ['columns'], ['where'], ['ranges']];

/** A followed table renamed in MySQL (RENAME TABLE t TO t2), and its target table renamed with it. */
export interface RenamedTable {
  from: string;
  to: string;
  schema: string;
  fromTarget: string;
  toTarget: string;
}

/** How a saved definition may name the target table: quoted by my2pg, or as PostgreSQL prints it (quote_ident). */
function spellings(schema: string, table: string): string[] {
  const ident = (name: string): string => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : quotePg(name));
  return [...new Set([qualifyPg(schema, table), `${ident(schema)}.${ident(table)}`])];
}

/**
 * Inside the transaction that renames the target table and commits the position past the
 * RENAME: the run's recorded names follow. Its run_tables row (the job id kept: its copy job
 * is the one that copied it), recorded definition, verification and change log, rejected rows,
 * per-table options (key, columns, where, ranges), and the saved indexes, foreign keys and
 * triggers that finalize restores (their definitions name the table).
 */
export async function recordRenamedTable(pg: PoolClient, runId: string, renamed: RenamedTable): Promise<void> {
  const { from, to, schema, fromTarget, toTarget } = renamed;
  await pg.query(
    `UPDATE ${state('run_tables')} SET table_name = $3, target_table = $4 WHERE run_id = $1 AND table_name = $2`,
    [runId, from, to, toTarget],
  );
  await pg.query(
    `UPDATE ${state('follow_definitions')} SET table_name = $3, definition = jsonb_set(definition, '{name}', to_jsonb($3::text)) WHERE run_id = $1 AND table_name = $2`,
    [runId, from, to],
  );
  for (const table of PER_TABLE)
    await pg.query(`UPDATE ${table} SET table_name = $3 WHERE run_id = $1 AND table_name = $2`, [runId, from, to]);
  for (const path of OPTION_PATHS)
    await pg.query(
      `UPDATE ${state('runs')} SET options = jsonb_set(options, $4::text[], ((options #> $4::text[]) - $2) || jsonb_build_object($3::text, options #> $4::text[] -> $2))
        WHERE id = $1 AND jsonb_typeof(options #> $4::text[]) = 'object' AND (options #> $4::text[]) ? $2`,
      [runId, from, to, path],
    );
  const saved = state('saved_constraints');
  const newName = qualifyPg(schema, toTarget);
  for (const old of spellings(schema, fromTarget)) {
    // An index or trigger of the table: `… ON schema.t …`; a foreign key of any table to it: `REFERENCES schema.t(…)`.
    await pg.query(
      `UPDATE ${saved} SET definition = replace(definition, ' ON ' || $3 || ' ', ' ON ' || $4 || ' ') WHERE run_id = $1 AND schema_name = $2 AND table_name = $5 AND kind IN ('index', 'trigger')`,
      [runId, schema, old, newName, fromTarget],
    );
    await pg.query(
      `UPDATE ${saved} SET definition = replace(replace(definition, 'REFERENCES ' || $2 || '(', 'REFERENCES ' || $3 || '('), 'REFERENCES ' || $2 || ' (', 'REFERENCES ' || $3 || ' (') WHERE run_id = $1 AND kind = 'foreign_key'`,
      [runId, old, newName],
    );
  }
  await pg.query(`UPDATE ${saved} SET table_name = $4 WHERE run_id = $1 AND schema_name = $2 AND table_name = $3`, [
    runId,
    schema,
    fromTarget,
    toTarget,
  ]);
}
