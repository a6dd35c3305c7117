import type { PoolClient } from '../dialect/postgres/connection.js';
import { readTargetTables } from '../dialect/postgres/catalog.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import type { SourceView } from '../schema/translate/source-objects.js';
import { typeOfPgColumn } from '../schema/translate/sql-types.js';
import type { Relation } from '../schema/translate/view-relations.js';
import { findTargetColumn } from '../vocabulary/column-pairs.js';
import type { NamingRules } from '../vocabulary/naming.js';

/**
 * The relations views may read: each source table's target table (as `tables` pairs them),
 * with its PostgreSQL types, each column known by its source name (a view names the source's
 * columns) and written with its target name (the run's renames and case, as the copy paired them).
 */
export async function relationsOf(
  client: PoolClient,
  schema: string,
  tables: readonly { tableName: string; targetTable: string }[],
  sourceTables: readonly SourceTable[],
  naming: NamingRules | undefined,
): Promise<Map<string, Relation>> {
  const targetTables = await readTargetTables(
    client,
    schema,
    tables.map((t) => t.targetTable),
  );
  const relations = new Map<string, Relation>();
  for (const t of tables) {
    const table = targetTables.get(t.targetTable);
    const sourceTable = sourceTables.find((s) => s.name === t.tableName);
    if (!table || !sourceTable) continue;
    // A source column without a target column stays unknown: a view reading it is refused.
    const columns = sourceTable.columns.flatMap((c) => {
      const column = findTargetColumn(table, t.tableName, c.name, naming);
      return column
        ? [
            {
              name: c.name,
              ...(column.name !== c.name ? { target: column.name } : {}),
              type: typeOfPgColumn(column.formattedType),
            },
          ]
        : [];
    });
    relations.set(t.tableName, { name: t.tableName, targetName: table.name, columns });
  }
  return relations;
}

/** A created view as the views after it read it: by its source name and columns, written with the target's. */
export async function viewRelationOf(
  client: PoolClient,
  schema: string,
  view: SourceView,
  targetName: string,
  targetColumns: readonly string[],
): Promise<Relation | null> {
  const views = await readTargetTables(client, schema, [targetName], ['v']);
  const created = views.get(targetName);
  if (!created) return null;
  const columns = view.columns.flatMap((c, i) => {
    const column = created.columns.find((t) => t.name === targetColumns[i]);
    return column
      ? [
          {
            name: c.name,
            ...(column.name !== c.name ? { target: column.name } : {}),
            type: typeOfPgColumn(column.formattedType),
          },
        ]
      : [];
  });
  return { name: view.name, targetName, columns };
}
