import type { DataSource } from 'typeorm';
import { qualifyPg } from '../dialect/postgres/quote.js';

/**
 * A view created while following carries a comment naming its run, written in the transaction
 * that creates it; the freeze's finalize adopts such a view (clearing the comment) instead of
 * creating it again. A view without it is not one of these.
 */
export function earlyViewMark(runId: string): string {
  return `my2pg: created while following by run ${runId}`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The views of `schema` this run created while following and finalize has not adopted yet. */
export async function earlyViewsIn(target: DataSource, schema: string, runId: string): Promise<string[]> {
  const rows: { name: string }[] = await target.query(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind = 'v' AND obj_description(c.oid, 'pg_class') = $2`,
    [schema, earlyViewMark(runId)],
  );
  return rows.map((r) => r.name);
}

/** At the freeze: a view this run created while following is adopted (its mark cleared); true when it was one. */
export async function adoptEarlyView(
  target: DataSource,
  schema: string,
  runId: string,
  targetName: string,
): Promise<boolean> {
  if (!(await earlyViewsIn(target, schema, runId)).includes(targetName)) return false;
  await target.query(`COMMENT ON VIEW ${qualifyPg(schema, targetName)} IS NULL`);
  return true;
}

/** How many views run `runId` created while following are waiting for finalize to adopt them (in any schema). */
export async function countEarlyViews(target: DataSource, runId: string): Promise<number> {
  const rows: { n: string }[] = await target.query(
    `SELECT count(*)::text AS n FROM pg_class c WHERE c.relkind = 'v' AND obj_description(c.oid, 'pg_class') = $1`,
    [earlyViewMark(runId)],
  );
  return Number(rows[0]?.n ?? 0);
}
