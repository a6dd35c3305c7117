import type { DataSource } from 'typeorm';
import { quotePg } from '../dialect/postgres/quote.js';
import { STATE_SCHEMA } from '../state/entities.js';
import type { TableVerification } from './verify-run.js';

/** Differing keys named per table in the verdict. */
const LISTED = 5;

/**
 * Each followed table's verdict after the freeze's re-verification: verified when it was
 * compared whole and no logged key differs now; else a mismatch naming the keys and why (a
 * write in PostgreSQL outside the follower says so, with how and by whom).
 */
export async function liveVerdicts(target: DataSource, runId: string): Promise<Map<string, TableVerification>> {
  const schema = quotePg(STATE_SCHEMA);
  const rows: {
    table_name: string;
    status: string;
    rows: string;
    full_ms: number;
    problem: string | null;
    differing: string;
    why: string[] | null;
  }[] = await target.query(
    `SELECT l.table_name, l.status, l.rows, l.full_ms, l.problem,
            (SELECT count(*) FROM ${schema}.change_log c WHERE c.run_id = l.run_id AND c.table_name = l.table_name AND c.differs IS NOT NULL) AS differing,
            (SELECT array_agg(x) FROM (SELECT 'key ' || c.pg_key || ': ' || c.differs AS x FROM ${schema}.change_log c
               WHERE c.run_id = l.run_id AND c.table_name = l.table_name AND c.differs IS NOT NULL ORDER BY c.seq LIMIT ${LISTED}) d) AS why
       FROM ${schema}.live_tables l WHERE l.run_id = $1`,
    [runId],
  );
  const at = new Date().toISOString();
  const verdicts = new Map<string, TableVerification>();
  for (const r of rows) {
    const differing = Number(r.differing);
    const equal = r.status === 'verified' && differing === 0;
    const note = r.status !== 'verified' ? (r.problem ?? 'not compared whole') : (r.why ?? []).join('; ');
    verdicts.set(r.table_name, {
      table: r.table_name,
      method: 'checksum',
      status: equal ? 'verified' : 'mismatch',
      sourceRows: Number(r.rows),
      targetRows: Number(r.rows),
      rejected: 0,
      ...(equal ? {} : { differenceCount: differing, note }),
      durationMs: r.full_ms,
      at,
    });
  }
  return verdicts;
}
