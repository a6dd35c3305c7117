import { quotePg } from '../dialect/postgres/quote.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { STATE_SCHEMA } from './entities.js';

const CHANGE_LOG = `${quotePg(STATE_SCHEMA)}.change_log`;

/**
 * Inside a batch's transaction: the keys it wrote to `table`, as PostgreSQL text, marked with the
 * batch's number, so that verification while following re-verifies them (see LiveVerification).
 * A key logged before takes the new number and loses its earlier finding.
 */
export async function logChangedKeys(
  pg: PoolClient,
  runId: string,
  table: string,
  seq: number,
  keys: readonly (readonly (string | null)[])[],
): Promise<void> {
  if (keys.length === 0) return;
  await pg.query(
    `INSERT INTO ${CHANGE_LOG} (run_id, table_name, pg_key, seq) SELECT $1, $2, k, $3 FROM unnest($4::text[]) AS k
     ON CONFLICT (run_id, table_name, pg_key) DO UPDATE SET seq = EXCLUDED.seq, differs = NULL`,
    [runId, table, seq, keys.map((k) => JSON.stringify(k))],
  );
}

/** A key waiting for re-verification: its PostgreSQL text values, and whether something else than the follower wrote it. */
export interface LoggedKey {
  pgKey: (string | null)[];
  seq: number;
  outside: string | null;
  differs: string | null;
}

/** The keys of `table` to re-verify: written after batch `after`, written outside the follower, or found different; at most `limit`. */
export async function readKeysToRecheck(
  pg: PoolClient,
  runId: string,
  table: string,
  after: number,
  upTo: number,
  limit: number,
): Promise<LoggedKey[]> {
  const result = await pg.query<{ pg_key: string; seq: string; outside: string | null; differs: string | null }>(
    `SELECT pg_key, seq, outside, differs FROM ${CHANGE_LOG}
      WHERE run_id = $1 AND table_name = $2 AND ((seq > $3 AND seq <= $4) OR outside IS NOT NULL OR differs IS NOT NULL)
      ORDER BY seq LIMIT $5`,
    [runId, table, after, upTo, limit],
  );
  return result.rows.map((r) => ({
    pgKey: JSON.parse(r.pg_key) as (string | null)[],
    seq: Number(r.seq),
    outside: r.outside,
    differs: r.differs,
  }));
}

/** After a re-verification: equal keys lose their finding (and an outside write that left the row equal is forgotten), differing ones keep why. */
export async function recordRecheck(
  pg: PoolClient,
  runId: string,
  table: string,
  equal: readonly (readonly (string | null)[])[],
  differing: readonly { pgKey: readonly (string | null)[]; why: string }[],
): Promise<void> {
  if (equal.length > 0)
    await pg.query(
      `UPDATE ${CHANGE_LOG} SET differs = NULL, outside = NULL WHERE run_id = $1 AND table_name = $2 AND pg_key = ANY($3::text[])`,
      [runId, table, equal.map((k) => JSON.stringify(k))],
    );
  for (const d of differing)
    await pg.query(`UPDATE ${CHANGE_LOG} SET differs = $4 WHERE run_id = $1 AND table_name = $2 AND pg_key = $3`, [
      runId,
      table,
      JSON.stringify(d.pgKey),
      d.why,
    ]);
}

/** Keys waiting for re-verification per table (after each table's verified batch), and those found different. */
export async function countRecheckBacklog(
  pg: PoolClient,
  runId: string,
): Promise<{ table: string; waiting: number; differing: number; outside: number }[]> {
  const result = await pg.query<{ table_name: string; waiting: string; differing: string; outside: string }>(
    `SELECT c.table_name,
            count(*) FILTER (WHERE c.seq > COALESCE(l.verified_seq, 0) OR c.outside IS NOT NULL OR c.differs IS NOT NULL) AS waiting,
            count(*) FILTER (WHERE c.differs IS NOT NULL) AS differing,
            count(*) FILTER (WHERE c.outside IS NOT NULL) AS outside
       FROM ${CHANGE_LOG} c LEFT JOIN ${quotePg(STATE_SCHEMA)}.live_tables l ON l.run_id = c.run_id AND l.table_name = c.table_name
      WHERE c.run_id = $1 GROUP BY c.table_name`,
    [runId],
  );
  return result.rows.map((r) => ({
    table: r.table_name,
    waiting: Number(r.waiting),
    differing: Number(r.differing),
    outside: Number(r.outside),
  }));
}
