import type { DataSource } from 'typeorm';
import type { KeyRange } from '../core/key-range.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { RejectedRowEntity, STATE_SCHEMA, type RejectedRowRow } from './entities.js';

/**
 * Every statement on `my2pg.rejected_rows`. The copy's writes run on the copy's own client,
 * inside its transaction: a copy that rolls back leaves the rejected rows of its previous attempt
 * as they were.
 */

/** A source row the target refused, as recorded in `my2pg.rejected_rows`. */
export interface RejectedRow {
  key: Record<string, unknown>;
  keyText: string;
  column: string | null;
  reason: string;
  sqlstate: string | null;
  row: Record<string, unknown>;
}

/** Which rejected rows one copy owns: those of its run, table and part. */
export interface RejectedRowsOwner {
  runId: string;
  table: string;
  /** '' for a whole table, copyPartLabel for a key range. */
  part: string;
}

/** The label of a key range in `my2pg.rejected_rows.part` ('' is the whole table). */
export function copyPartLabel(range: KeyRange): string {
  return `${range.from ?? ''}..${range.to ?? ''}`;
}

/** Approximate bytes of a rejected row's record, to bound what is held and what one INSERT carries. */
export function rejectedRowBytes(row: RejectedRow): number {
  let n = row.keyText.length + row.reason.length + 64;
  for (const v of Object.values(row.row)) n += typeof v === 'string' ? v.length : 16;
  return n;
}

/** Deletes the rejected rows a copy owns: a copy replaces those of its part (a range job only its own). */
export async function deleteRejectedRows(pg: PoolClient, owner: RejectedRowsOwner): Promise<void> {
  await pg.query(
    `DELETE FROM ${qualifyPg(STATE_SCHEMA, 'rejected_rows')} WHERE run_id = $1 AND table_name = $2 AND part = $3`,
    [owner.runId, owner.table, owner.part],
  );
}

/** Inserts rejected rows, at most 500 rows and about 4 MB per INSERT. */
export async function saveRejectedRows(
  pg: PoolClient,
  owner: RejectedRowsOwner,
  rows: readonly RejectedRow[],
): Promise<void> {
  const columns = 8;
  let offset = 0;
  while (offset < rows.length) {
    const slice: RejectedRow[] = [];
    let bytes = 0;
    while (offset < rows.length && slice.length < 500 && (slice.length === 0 || bytes < 4 * 1024 * 1024)) {
      bytes += rejectedRowBytes(rows[offset]!);
      slice.push(rows[offset]!);
      offset += 1;
    }
    const values: unknown[] = [];
    const tuples = slice.map((r, i) => {
      values.push(
        owner.runId,
        owner.table,
        owner.part,
        JSON.stringify(r.key),
        r.keyText,
        r.column,
        r.reason,
        r.sqlstate,
        JSON.stringify(r.row),
      );
      const b = i * (columns + 1);
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::jsonb, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}::jsonb)`;
    });
    await pg.query(
      `INSERT INTO ${qualifyPg(STATE_SCHEMA, 'rejected_rows')} (run_id, table_name, part, key, key_text, column_name, reason, sqlstate, "row") VALUES ${tuples.join(', ')}`,
      values,
    );
  }
}

/** Rows of a table rejected in a run, in the order they were found. */
export async function listRejectedRows(
  target: DataSource,
  runId: string,
  tableName?: string,
  limit = 1000,
): Promise<RejectedRowRow[]> {
  return target.getRepository(RejectedRowEntity).find({
    where: tableName === undefined ? { runId } : { runId, tableName },
    order: { id: 'ASC' },
    take: limit,
  });
}

/** Canonical keys of a table's rejected rows (of one part of it, when given), with how many rows share each. */
export async function readRejectedKeys(
  target: DataSource,
  runId: string,
  tableName: string,
  part?: string,
): Promise<Map<string, number>> {
  const rows: { key_text: string; n: string }[] = await target.query(
    `SELECT key_text, count(*)::bigint AS n FROM ${quotePg(STATE_SCHEMA)}.rejected_rows WHERE run_id = $1 AND table_name = $2${part === undefined ? '' : ' AND part = $3'} GROUP BY key_text`,
    part === undefined ? [runId, tableName] : [runId, tableName, part],
  );
  return new Map(rows.map((r) => [r.key_text, Number(r.n)]));
}
