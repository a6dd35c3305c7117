import type { DataSource } from 'typeorm';
import { inPgTransaction } from '../dialect/postgres/connection.js';
import { quotePg } from '../dialect/postgres/quote.js';
import { STATE_SCHEMA } from './entities.js';
import { addAdjustments, emptyAdjustments, type TableAdjustments } from '../vocabulary/adjustments.js';

/**
 * Adds one finished key range to its table's row in `my2pg.run_tables`: rows and adjustments
 * are summed over the ranges, rejected rows counted from `my2pg.rejected_rows`, under a row lock because ranges finish concurrently. A range that
 * reruns after it committed is counted twice here; finalize's counts are the authority.
 * Returns how many of the table's ranges have committed (each counted once, by label).
 */
export async function recordRangeCopied(
  target: DataSource,
  runId: string,
  table: string,
  rows: number,
  adjustments: TableAdjustments,
  part: string,
): Promise<number> {
  return inPgTransaction(target, async (client) => {
    const current = await client.query<{ adjustments: TableAdjustments | null }>(
      `SELECT adjustments FROM ${quotePg(STATE_SCHEMA)}.run_tables WHERE run_id = $1 AND table_name = $2 FOR UPDATE`,
      [runId, table],
    );
    const merged: TableAdjustments = { ...(current.rows[0]?.adjustments ?? {}) };
    for (const [column, a] of Object.entries(adjustments)) {
      merged[column] = addAdjustments(addAdjustments(emptyAdjustments(), merged[column] ?? {}), a);
    }
    const updated = await client.query(
      `UPDATE ${quotePg(STATE_SCHEMA)}.run_tables
          SET rows_copied = COALESCE(rows_copied, 0) + $3, status = 'copied', finished_at = now(), last_error = NULL, adjustments = $4::jsonb,
              -- Each range replaces its own rejected rows, so counting them is exact even after reruns.
              rejected_rows = (SELECT count(*) FROM ${quotePg(STATE_SCHEMA)}.rejected_rows r WHERE r.run_id = $1 AND r.table_name = $2),
              parts_copied = COALESCE(parts_copied, '{}'::jsonb) || jsonb_build_object($5::text, true)
        WHERE run_id = $1 AND table_name = $2
        RETURNING (SELECT count(*) FROM jsonb_object_keys(parts_copied))::int AS parts`,
      [runId, table, rows, Object.keys(merged).length > 0 ? JSON.stringify(merged) : null, part],
    );
    return Number((updated.rows[0] as { parts?: number } | undefined)?.parts ?? 0);
  });
}
