import type { RunRow, RunTableRow } from '../state/entities.js';
import { tableStatusOf } from '../state/table-status.js';
import { describeAdjustments, type TableAdjustments } from '../vocabulary/adjustments.js';

function adjustedTables(tables: readonly RunTableRow[]): RunTableRow[] {
  return tables.filter((t) => describeAdjustments((t.adjustments ?? {}) as TableAdjustments).length > 0);
}

/**
 * The report's lines on fidelity: what the created tables got in another PostgreSQL form
 * (`translated:`), which values a policy changed (`adjusted:`), and which tables arrived exact
 * apart from those (`values:`), so that "verified" never hides a changed value.
 */
export function formatFidelityLines(run: RunRow, tables: readonly RunTableRow[]): string[] {
  const lines: string[] = [];
  for (const note of run.options.translated ?? []) lines.push(`translated: ${note}`);
  for (const t of tables) {
    for (const line of describeAdjustments((t.adjustments ?? {}) as TableAdjustments))
      lines.push(`adjusted: table ${t.tableName}, ${line}`);
  }
  const adjusted = adjustedTables(tables);
  if (adjusted.length > 0) {
    // Exact: verified and not adjusted; a table that differs is among the problems instead.
    const exact = tables.filter((t) => tableStatusOf(t) === 'verified' && !adjusted.includes(t)).length;
    lines.push(
      `values: ${exact} tables exact, ${adjusted.length} with values adjusted by a policy (${adjusted.map((t) => t.tableName).join(', ')})`,
    );
  }
  return lines;
}

/** Tables of a run whose values a policy adjusted (zero dates, --nul strip, SRIDs), for the closing line. */
export function countAdjustedTables(tables: readonly RunTableRow[]): number {
  return adjustedTables(tables).length;
}
