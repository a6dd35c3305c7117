import type { PoolClient } from '../dialect/postgres/connection.js';
import { UsageError } from '../core/errors.js';

/** Checks each override's PostgreSQL type against the target, listing every unknown one at once. */
export async function checkPgTypes(client: PoolClient, types: readonly string[]): Promise<void> {
  const unknown: string[] = [];
  for (const type of new Set(types)) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT to_regtype($1) IS NOT NULL AS ok', [type]);
    if (!rows[0]?.ok) unknown.push(type);
  }
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown PostgreSQL type${unknown.length > 1 ? 's' : ''} in --type/--column-type: ${unknown.join(', ')}; use a type the target database has (e.g. smallint, text, numeric(20,0))`,
    );
  }
}

/** The schema PostGIS is installed in on the target, or null without it. */
export async function findPostgisSchema(client: PoolClient): Promise<string | null> {
  const { rows } = await client.query<{ schema: string }>(
    "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis'",
  );
  return rows[0]?.schema ?? null;
}
