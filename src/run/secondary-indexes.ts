import type { PoolClient } from 'pg';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';

/**
 * A secondary index of a target table: a plain (or unique) index, or the index behind a
 * UNIQUE / EXCLUDE constraint. The primary key is never one: range jobs delete by it.
 */
export interface SecondaryIndex {
  schema: string;
  table: string;
  /** The index name, or the constraint name for a constraint-backed index. */
  name: string;
  /** `index` (CREATE INDEX) or `constraint` (ALTER TABLE … ADD CONSTRAINT). */
  backing: 'index' | 'constraint';
  /** A statement that recreates it and does nothing when it exists (IF NOT EXISTS for indexes). */
  restore: string;
  /** The statement that drops it. */
  drop: string;
}

/** `CREATE [UNIQUE] INDEX name ON …` → `CREATE [UNIQUE] INDEX IF NOT EXISTS name ON …`. */
export function withIfNotExists(indexDef: string): string {
  return indexDef.replace(/^CREATE (UNIQUE )?INDEX (?!IF NOT EXISTS )/, 'CREATE $1INDEX IF NOT EXISTS ');
}

/**
 * The secondary indexes of some tables of a schema, printed with search_path = pg_catalog so
 * every name in a definition is qualified. Left out: primary keys, indexes of partitions,
 * invalid indexes and replica-identity indexes, which cannot (or should not) be dropped alone.
 * Restores the caller's search_path.
 */
export async function readSecondaryIndexes(
  client: PoolClient,
  schema: string,
  tables: readonly string[],
): Promise<SecondaryIndex[]> {
  if (tables.length === 0) return [];
  const saved = await client.query<{ search_path: string }>('SELECT current_setting($1) AS search_path', [
    'search_path',
  ]);
  await client.query("SELECT set_config('search_path', 'pg_catalog', false)");
  try {
    const { rows } = await client.query<{
      index_name: string;
      table_name: string;
      index_def: string;
      con_name: string | null;
      con_def: string | null;
    }>(
      `SELECT ic.relname AS index_name, c.relname AS table_name, pg_get_indexdef(i.indexrelid) AS index_def,
              con.conname AS con_name, pg_get_constraintdef(con.oid) AS con_def
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_class c ON c.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = c.oid AND con.contype IN ('p', 'u', 'x')
        WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind = 'r' AND NOT c.relispartition
          AND NOT i.indisprimary AND i.indisvalid AND NOT i.indisreplident
          AND (con.contype IS NULL OR con.contype IN ('u', 'x'))
        ORDER BY c.relname, ic.relname`,
      [schema, [...tables]],
    );
    return rows.map((r) => {
      const table = qualifyPg(schema, r.table_name);
      if (r.con_name !== null && r.con_def !== null) {
        return {
          schema,
          table: r.table_name,
          name: r.con_name,
          backing: 'constraint' as const,
          restore: `ALTER TABLE ${table} ADD CONSTRAINT ${quotePg(r.con_name)} ${r.con_def}`,
          drop: `ALTER TABLE ${table} DROP CONSTRAINT ${quotePg(r.con_name)}`,
        };
      }
      return {
        schema,
        table: r.table_name,
        name: r.index_name,
        backing: 'index' as const,
        restore: withIfNotExists(r.index_def),
        drop: `DROP INDEX ${qualifyPg(schema, r.index_name)}`,
      };
    });
  } finally {
    await client.query("SELECT set_config('search_path', $1, false)", [
      saved.rows[0]?.search_path ?? '"$user", public',
    ]);
  }
}
