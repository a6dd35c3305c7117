import { PermanentError } from '../core/errors.js';
import type { SourceColumn, SourceTable } from '../dialect/mysql/catalog.js';
import type { TargetColumn, TargetTable } from '../dialect/postgres/catalog.js';
import { targetColumnName, type NamingRules } from './naming.js';

/** One source column matched to its target column. */
export interface ColumnMatch {
  source: SourceColumn;
  target: TargetColumn;
  /**
   * A generated column on both sides: PostgreSQL computes it, so the copy leaves it out,
   * while verification still compares its values (a wrong translation shows as a mismatch).
   */
  computed?: boolean;
}

/**
 * Finds the target column for a column of a source table: the name the run's rules give it
 * (case, 63 bytes), else the same name, else the one same name ignoring case. A renamed column
 * is only ever the column its rename names: filling another one would ignore the rename.
 */
export function findTargetColumn(
  target: TargetTable,
  sourceTable: string,
  name: string,
  naming?: NamingRules,
): TargetColumn | undefined {
  const mapped = targetColumnName(naming, sourceTable, name);
  if (naming?.columns[sourceTable]?.[name] !== undefined) return target.columns.find((c) => c.name === mapped);
  const exact = target.columns.find((c) => c.name === mapped) ?? target.columns.find((c) => c.name === name);
  if (exact) return exact;
  const folded = target.columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/**
 * Matches source columns with target columns (copy and verification both start here). A source column the target lacks is a permanent
 * error naming it; so is a target column PostgreSQL computes itself, unless the source column
 * is generated too (then the pair is marked `computed`).
 */
export function matchColumns(
  source: SourceTable,
  target: TargetTable,
  only?: readonly string[],
  naming?: NamingRules,
): ColumnMatch[] {
  const wanted = only ? source.columns.filter((c) => only.includes(c.name)) : source.columns;
  if (only) {
    const missing = only.filter((name) => !source.columns.some((c) => c.name === name));
    if (missing.length > 0) {
      throw new PermanentError(
        `table ${source.name}: the source has no column ${missing.map((m) => JSON.stringify(m)).join(', ')}; fix the entity definition`,
        { table: source.name },
      );
    }
  }
  const missing: string[] = [];
  const pairs: ColumnMatch[] = [];
  for (const column of wanted) {
    const targetColumn = findTargetColumn(target, source.name, column.name, naming);
    if (!targetColumn) {
      const mapped = targetColumnName(naming, source.name, column.name);
      missing.push(
        mapped === column.name
          ? JSON.stringify(column.name)
          : `${JSON.stringify(mapped)} (source column ${JSON.stringify(column.name)})`,
      );
      continue;
    }
    if (targetColumn.generated && !column.generated) {
      throw new PermanentError(
        `table ${source.name}: target column ${JSON.stringify(targetColumn.name)} is GENERATED ALWAYS in PostgreSQL and cannot be filled; exclude the column or make it a plain column`,
        { table: source.name },
      );
    }
    pairs.push({ source: column, target: targetColumn, ...(targetColumn.generated ? { computed: true } : {}) });
  }
  if (missing.length > 0) {
    throw new PermanentError(
      `table ${source.name}: the target table ${JSON.stringify(target.name)} has no column ${missing.join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} to the target (or drop the table so my2pg creates it), then retry the table`,
      { table: source.name },
    );
  }
  return pairs;
}
