import type { SourceTable } from '../dialect/mysql/catalog.js';

/**
 * A foreign key whose ON DELETE or ON UPDATE action makes MySQL change referencing rows
 * itself. MySQL and MariaDB do not write those changes to the binary log (the replica's own
 * foreign key repeats them), so the follower must find them: see Follower.applyCascades.
 */
export interface CascadingKey {
  /** The referencing (child) table and its columns. */
  child: string;
  childColumns: string[];
  /** The referenced (parent) table's columns. */
  parentColumns: string[];
  /** Whether deleting a parent row changes child rows (CASCADE, SET NULL, SET DEFAULT). */
  onDelete: boolean;
  /** Whether changing a parent row's referenced values changes child rows. */
  onUpdate: boolean;
}

const CHANGES_ROWS = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT']);

/** Per followed parent table, the cascading foreign keys of followed child tables that reference it. */
export function cascadingKeysOf(
  tables: readonly SourceTable[],
  followed: ReadonlySet<string>,
): Map<string, CascadingKey[]> {
  const byParent = new Map<string, CascadingKey[]>();
  for (const table of tables) {
    if (!followed.has(table.name)) continue;
    for (const fk of table.foreignKeys) {
      const onDelete = CHANGES_ROWS.has(fk.onDelete.toUpperCase());
      const onUpdate = CHANGES_ROWS.has(fk.onUpdate.toUpperCase());
      if (!followed.has(fk.referencedTable) || (!onDelete && !onUpdate)) continue;
      const list = byParent.get(fk.referencedTable) ?? [];
      list.push({
        child: table.name,
        childColumns: fk.columns,
        parentColumns: fk.referencedColumns,
        onDelete,
        onUpdate,
      });
      byParent.set(fk.referencedTable, list);
    }
  }
  return byParent;
}
