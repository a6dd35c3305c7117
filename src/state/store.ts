import type { DataSource } from 'typeorm';
import { RejectedRowEntity, STATE_SCHEMA, type RejectedRowRow } from './entities.js';
import { quotePg } from '../dialect/postgres/quote.js';

// What verification reads and writes, from the modules that own it (verify imports them from here).
export { recordVerifications, updateRunTable } from './run-tables.js';

/** Rows of a table rejected in a run, in the order they were found. */
export async function listRejectedRows(target: DataSource, runId: string, tableName?: string, limit = 1000): Promise<RejectedRowRow[]> {
  return target.getRepository(RejectedRowEntity).find({
    where: tableName === undefined ? { runId } : { runId, tableName },
    order: { id: 'ASC' },
    take: limit,
  });
}

/** Canonical keys of a table's rejected rows (of one part of it, when given), with how many rows share each. */
export async function readRejectedKeys(target: DataSource, runId: string, tableName: string, part?: string): Promise<Map<string, number>> {
  const rows: { key_text: string; n: string }[] = await target.query(
    `SELECT key_text, count(*)::bigint AS n FROM ${quotePg(STATE_SCHEMA)}.rejected_rows WHERE run_id = $1 AND table_name = $2${part === undefined ? '' : ' AND part = $3'} GROUP BY key_text`,
    part === undefined ? [runId, tableName] : [runId, tableName, part],
  );
  return new Map(rows.map((r) => [r.key_text, Number(r.n)]));
}
