import type { DataSource } from 'typeorm';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { beginTransaction } from '../dialect/postgres/transaction.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import type { SourceTable } from '../dialect/mysql/source-catalog.js';
import { readSourceObjects } from '../schema/translate/source-objects.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import { createSourceViews } from './migrate-views.js';
import { relationsOf, viewRelationOf } from './target-relations.js';
import { earlyViewMark, earlyViewsIn, quoteLiteral } from './early-view-mark.js';

/**
 * Views created while following (see docs/live-verification.md, "CHECKs and views before the
 * freeze"): a view depends only on the schema, so it is created as soon as the followed tables
 * exist, and the freeze's finalize adopts it instead of creating it again (see early-view-mark.ts).
 * Creates the views that can be created now, in one transaction (each in a savepoint: one that
 * fails is left to finalize, which tries it again and reports why). Views that call stored
 * functions are left to finalize, which creates the functions first. Returns the names created.
 */
export async function createViewsEarly(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  tables: readonly RunTableRow[],
  sourceTables: readonly SourceTable[],
): Promise<string[]> {
  const objects = await readSourceObjects(source);
  const functions = objects.routines.map((r) => r.name.toLowerCase());
  const callsFunction = (definition: string): boolean =>
    functions.some((f) => new RegExp(`\\b${f.replace(/[^a-z0-9_$]/g, '.')}\\s*\\(`, 'i').test(definition));
  if (objects.views.length === 0) return [];
  const schema = run.targetSchema;
  // Left to finalize, as the views that read them: excluded views, and those that call stored functions.
  const excluded = new Set<string>([
    ...(run.options.excludeViews ?? []),
    ...objects.views.filter((v) => callsFunction(v.definition)).map((v) => v.name),
  ]);
  const present = await earlyViewsIn(target, schema, run.id);
  return withPgClient(target, async (pg) => {
    await beginTransaction(pg, { settings: { lock_timeout: '5s' } });
    try {
      const relations = await relationsOf(pg, schema, tables, sourceTables, run.options.naming);
      const outcomes = await createSourceViews(objects, schema, relations, excluded, run.options.naming, new Map(), {
        query: async (sql) => {
          await pg.query('SAVEPOINT v');
          try {
            await pg.query(sql);
            await pg.query('RELEASE SAVEPOINT v');
          } catch (error) {
            await pg.query('ROLLBACK TO SAVEPOINT v');
            throw error;
          }
        },
        relationOf: (view, targetName, targetColumns) => viewRelationOf(pg, schema, view, targetName, targetColumns),
        // An early view already there (an earlier attempt) is adopted, not created again.
        adopt: async (targetName) => present.includes(targetName),
      });
      const created = outcomes.filter((o) => o.status === 'created').map((o) => o.targetName ?? o.name);
      for (const name of created.filter((n) => !present.includes(n)))
        await pg.query(`COMMENT ON VIEW ${qualifyPg(schema, name)} IS ${quoteLiteral(earlyViewMark(run.id))}`);
      await pg.query('COMMIT');
      return created;
    } catch (error) {
      await pg.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Inside a schema change's transaction, before it runs: the views of `schema` that read `table`
 * (created while following, or by a no-go's finalize; and the views reading those) are dropped,
 * so that the change is not refused for them and no view of the old definition stays; the
 * freeze's finalize creates them from MySQL's definitions then. Returns the names dropped.
 */
export async function dropViewsOn(pg: PoolClient, schema: string, table: string): Promise<string[]> {
  const rows = await pg.query<{ name: string }>(
    `SELECT DISTINCT v.relname AS name FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
       JOIN pg_class v ON v.oid = r.ev_class
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass($1) AND v.oid <> d.refobjid
        AND v.relkind = 'v' AND v.relnamespace = $2::regnamespace`,
    [qualifyPg(schema, table), quotePg(schema)],
  );
  const names = rows.rows.map((r) => r.name);
  for (const name of names) await pg.query(`DROP VIEW IF EXISTS ${qualifyPg(schema, name)} CASCADE`);
  return names;
}
