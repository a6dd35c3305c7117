import type { DataSource } from 'typeorm';

/**
 * The tables among `items` that are partitioned (relkind p), as `schema\0table` keys. PostgreSQL
 * 15 refuses `ADD CONSTRAINT … FOREIGN KEY … NOT VALID` on a partitioned table ("not yet
 * supported on partitioned tables"): such a foreign key is added valid at once.
 */
export async function readPartitionedTables(
  target: DataSource,
  items: readonly { schemaName: string; tableName: string }[],
): Promise<Set<string>> {
  if (items.length === 0) return new Set();
  const rows: { schema: string; table: string }[] = await target.query(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'p' AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [items.map((i) => i.schemaName), items.map((i) => i.tableName)],
  );
  return new Set(rows.map((r) => `${r.schema}\u0000${r.table}`));
}
