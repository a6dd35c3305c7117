import type { SourceTable } from '../dialect/mysql/catalog.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import { findTargetColumn } from '../vocabulary/column-pairs.js';
import type { NamingRules } from '../vocabulary/naming.js';
import type { Hazard } from './hazards.js';

/**
 * What the catalogs alone say about a table filled into an existing target table: source
 * columns it lacks, NOT NULL columns without a default that no source column fills, and
 * columns PostgreSQL computes that the source fills. Each makes the table fail.
 */
export function structuralHazards(
  source: SourceTable,
  target: TargetTable | undefined,
  only?: readonly string[],
  naming?: NamingRules,
): Hazard[] {
  const hazards: Hazard[] = [];
  if (source.primaryKey.length === 0) {
    hazards.push({
      kind: 'no-primary-key',
      column: null,
      count: null,
      blocking: false,
      fix: 'copied by one job and verified as a whole table (no key ranges, no per-row diagnosis); add a primary key to get both',
    });
  }
  if (!target) return hazards;
  const columns = only ? source.columns.filter((c) => only.includes(c.name)) : source.columns;
  const filled = new Set<string>();
  for (const column of columns) {
    const found = findTargetColumn(target, source.name, column.name, naming);
    if (!found) {
      hazards.push({
        kind: 'missing-target-column',
        column: column.name,
        count: null,
        blocking: true,
        fix: `the target table ${target.name} has no column ${column.name}, so the table would fail: add it (ALTER TABLE ${target.name} ADD COLUMN …), exclude the table, or drop it so my2pg creates it`,
      });
      continue;
    }
    filled.add(found.name);
    if (found.generated && !column.generated) {
      hazards.push({
        kind: 'generated-target-column',
        column: column.name,
        count: null,
        blocking: true,
        fix: `target column ${found.name} is GENERATED ALWAYS, so COPY cannot fill it: make it a plain column or exclude the table`,
      });
    }
  }
  for (const column of target.columns) {
    if (filled.has(column.name) || !column.notNull || column.hasDefault || column.identity !== '' || column.generated)
      continue;
    hazards.push({
      kind: 'unfilled-not-null-column',
      column: column.name,
      count: null,
      blocking: true,
      fix: `target column ${column.name} is NOT NULL without a default and no source column fills it, so every row would fail: give it a DEFAULT or make it nullable`,
    });
  }
  return hazards;
}
