import type { PoolClient } from 'pg';
import { quotePg } from './quote.js';

/** One column of a PostgreSQL table. */
export interface TargetColumn {
  name: string;
  /** format_type(): `character varying(255)`, `timestamp without time zone`, `friendshipstatus`. */
  formattedType: string;
  /** The base type name (domains resolved): `varchar`, `int4`, `bool`, `_text`, `friendshipstatus`. */
  typeName: string;
  /** pg_type.typcategory of the base type: B boolean, N numeric, S string, D date/time, E enum, A array, V bit, U other. */
  category: string;
  /** Element type name for arrays (`text` for `_text`). */
  elementType: string | null;
  notNull: boolean;
  hasDefault: boolean;
  /** `a` always / `d` by default for identity columns, '' otherwise. */
  identity: string;
  /** True for GENERATED ALWAYS AS (…) STORED columns, which COPY cannot fill. */
  generated: boolean;
  /** Labels of an enum type. */
  enumLabels: string[] | null;
}

/** A table of the target schema. */
export interface TargetTable {
  name: string;
  columns: TargetColumn[];
  /** A partitioned table (relkind p): TRUNCATE and DELETE reach its partitions only without ONLY. */
  partitioned?: boolean;
}

/** A foreign key that touches a table of the migration, as PostgreSQL prints it. */
export interface TargetForeignKey {
  name: string;
  schema: string;
  table: string;
  referencedSchema: string;
  referencedTable: string;
  /** pg_get_constraintdef() with search_path = pg_catalog, so every name is qualified. */
  definition: string;
}

/** Whether a schema exists and the current user may create in it. */
export async function inspectTargetSchema(
  client: PoolClient,
  schema: string,
): Promise<{ exists: boolean; canCreate: boolean; canUse: boolean }> {
  const { rows } = await client.query<{ exists: boolean; can_create: boolean | null; can_use: boolean | null }>(
    `SELECT n.oid IS NOT NULL AS exists,
            CASE WHEN n.oid IS NULL THEN NULL ELSE has_schema_privilege(n.oid, 'CREATE') END AS can_create,
            CASE WHEN n.oid IS NULL THEN NULL ELSE has_schema_privilege(n.oid, 'USAGE') END AS can_use
       FROM (SELECT 1) AS one LEFT JOIN pg_namespace n ON n.nspname = $1`,
    [schema],
  );
  const row = rows[0];
  return { exists: Boolean(row?.exists), canCreate: Boolean(row?.can_create), canUse: Boolean(row?.can_use) };
}

/** Creates a schema unless it exists; true when it was created. */
export async function createSchemaIfMissing(client: PoolClient, schema: string): Promise<boolean> {
  const { exists } = await inspectTargetSchema(client, schema);
  if (exists) return false;
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${quotePg(schema)}`);
  return true;
}

/**
 * Reads the tables (and their columns) of one schema; `only` limits it to some names, `kinds`
 * to other relation kinds (pg_class.relkind: `v` for views).
 */
export async function readTargetTables(
  client: PoolClient,
  schema: string,
  only?: readonly string[],
  kinds: readonly string[] = ['r', 'p'],
): Promise<Map<string, TargetTable>> {
  const { rows } = await client.query<{
    table_name: string;
    column_name: string;
    formatted_type: string;
    type_name: string;
    category: string;
    element_type: string | null;
    not_null: boolean;
    has_default: boolean;
    identity: string;
    generated: string;
    enum_labels: string[] | null;
    kind: string;
  }>(
    `SELECT c.relname AS table_name, c.relkind::text AS kind, a.attname AS column_name,
            format_type(a.atttypid, a.atttypmod) AS formatted_type,
            bt.typname AS type_name, bt.typcategory AS category, et.typname AS element_type,
            a.attnotnull AS not_null, a.atthasdef AS has_default, a.attidentity::text AS identity,
            a.attgenerated::text AS generated,
            CASE WHEN bt.typtype = 'e' THEN
              (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = bt.oid)
            END AS enum_labels
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
       LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
      WHERE n.nspname = $1 AND c.relkind::text = ANY($3::text[])
        AND ($2::text[] IS NULL OR c.relname = ANY($2::text[]))
      ORDER BY c.relname, a.attnum`,
    [schema, only ? [...only] : null, [...kinds]],
  );
  const tables = new Map<string, TargetTable>();
  for (const row of rows) {
    let table = tables.get(row.table_name);
    if (!table) {
      table = { name: row.table_name, columns: [], ...(row.kind === 'p' ? { partitioned: true } : {}) };
      tables.set(row.table_name, table);
    }
    table.columns.push({
      name: row.column_name,
      formattedType: row.formatted_type,
      typeName: row.type_name,
      category: row.category,
      elementType: row.element_type,
      notNull: row.not_null,
      hasDefault: row.has_default,
      identity: row.identity ?? '',
      generated: Boolean(row.generated),
      enumLabels: row.enum_labels,
    });
  }
  return tables;
}

/**
 * Every foreign key that starts or ends at one of `tables` in `schema`, as declared: the copies
 * PostgreSQL keeps for the partitions of a partitioned table (conparentid set) go with it. Printed with
 * search_path = pg_catalog so the definition names its tables fully qualified; works inside
 * or outside a transaction and restores the caller's search_path.
 */
export async function readForeignKeys(
  client: PoolClient,
  schema: string,
  tables: readonly string[],
): Promise<TargetForeignKey[]> {
  const saved = await client.query<{ search_path: string }>('SELECT current_setting($1) AS search_path', [
    'search_path',
  ]);
  await client.query("SELECT set_config('search_path', 'pg_catalog', false)");
  try {
    const { rows } = await client.query<{
      name: string;
      schema: string;
      table: string;
      ref_schema: string;
      ref_table: string;
      definition: string;
    }>(
      `SELECT con.conname AS name, n.nspname AS schema, cl.relname AS table,
              rn.nspname AS ref_schema, rc.relname AS ref_table,
              pg_get_constraintdef(con.oid) AS definition
         FROM pg_constraint con
         JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
         JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE con.contype = 'f' AND con.conparentid = 0
          AND ((n.nspname = $1 AND cl.relname = ANY($2::text[])) OR (rn.nspname = $1 AND rc.relname = ANY($2::text[])))
        ORDER BY n.nspname, cl.relname, con.conname`,
      [schema, [...tables]],
    );
    return rows.map((r) => ({
      name: r.name,
      schema: r.schema,
      table: r.table,
      referencedSchema: r.ref_schema,
      referencedTable: r.ref_table,
      definition: r.definition,
    }));
  } finally {
    await client.query("SELECT set_config('search_path', $1, false)", [
      saved.rows[0]?.search_path ?? '"$user", public',
    ]);
  }
}
