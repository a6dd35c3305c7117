import type { DataSource } from 'typeorm';
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
     ON CONFLICT (run_id, table_name, pg_key) DO UPDATE SET seq = EXCLUDED.seq, differs = NULL, stamp = clock_timestamp()`,
    [runId, table, seq, keys.map((k) => JSON.stringify(k))],
  );
}

/** Keys a whole comparison found different, logged to be re-verified like the follower's (most are writes under way). */
export async function logDifferingKeys(
  target: DataSource,
  runId: string,
  table: string,
  seq: number,
  keys: readonly (readonly (string | null)[])[],
  why: string,
): Promise<void> {
  await target.query(
    `INSERT INTO ${CHANGE_LOG} (run_id, table_name, pg_key, seq, differs) SELECT $1, $2, k, $3, $5 FROM unnest($4::text[]) AS k
     ON CONFLICT (run_id, table_name, pg_key) DO UPDATE SET differs = EXCLUDED.differs, stamp = clock_timestamp()`,
    [runId, table, seq, keys.map((k) => JSON.stringify(k)), why],
  );
}

/** A key waiting for re-verification: its PostgreSQL text values, and whether something else than the follower wrote it. */
export interface LoggedKey {
  pgKey: (string | null)[];
  /** When it was last logged, as PostgreSQL prints it (see recordRecheck). */
  stamp: string;
  seq: number;
  outside: string | null;
  differs: string | null;
}

/** The keys of `table` logged by batches in (after, upTo], after the cursor's batch and key, in that order; at most `limit`. */
export async function readKeysToRecheck(
  target: DataSource,
  runId: string,
  table: string,
  cursor: { after: number; upTo: number; seq: number; key: string },
  limit: number,
): Promise<LoggedKey[]> {
  const rows: KeyRow[] = await target.query(
    `SELECT pg_key, seq, outside, differs, stamp::text AS stamp FROM ${CHANGE_LOG}
      WHERE run_id = $1 AND table_name = $2 AND seq > $3 AND seq <= $4 AND (seq, pg_key) > ($5::bigint, $6::text)
      ORDER BY seq, pg_key LIMIT $7`,
    [runId, table, cursor.after, cursor.upTo, cursor.seq, cursor.key, limit],
  );
  return rows.map(loggedKeyOf);
}

/** The keys of `table` found different at their last re-verification, or written outside the follower; at most `limit`. */
export async function readFlaggedKeys(
  target: DataSource,
  runId: string,
  table: string,
  limit: number,
): Promise<LoggedKey[]> {
  const rows: KeyRow[] = await target.query(
    `SELECT pg_key, seq, outside, differs, stamp::text AS stamp FROM ${CHANGE_LOG}
      WHERE run_id = $1 AND table_name = $2 AND (outside IS NOT NULL OR differs IS NOT NULL) ORDER BY seq LIMIT $3`,
    [runId, table, limit],
  );
  return rows.map(loggedKeyOf);
}

type KeyRow = { pg_key: string; seq: string; outside: string | null; differs: string | null; stamp: string };

function loggedKeyOf(r: KeyRow): LoggedKey {
  return {
    pgKey: JSON.parse(r.pg_key) as (string | null)[],
    stamp: r.stamp,
    seq: Number(r.seq),
    outside: r.outside,
    differs: r.differs,
  };
}

/**
 * After a re-verification: equal keys lose their finding (an outside write that left the row
 * equal, undone or overwritten, is forgotten), differing ones keep why. Only entries nobody
 * logged again since they were read (same stamp) are settled: a write during the comparison
 * leaves its entry waiting. An equal key without a finding is not written at all (most are: a
 * rewrite of each would cost a tuple, index entries and WAL per key).
 */
export async function recordRecheck(
  target: DataSource,
  runId: string,
  table: string,
  equal: readonly LoggedKey[],
  differing: readonly { key: LoggedKey; why: string }[],
): Promise<void> {
  if (equal.length > 0)
    await target.query(
      `UPDATE ${CHANGE_LOG} c SET differs = NULL, outside = NULL FROM unnest($3::text[], $4::text[]) AS u(k, s)
        WHERE c.run_id = $1 AND c.table_name = $2 AND c.pg_key = u.k AND c.stamp::text = u.s
          AND (c.differs IS NOT NULL OR c.outside IS NOT NULL)`,
      [runId, table, equal.map((k) => JSON.stringify(k.pgKey)), equal.map((k) => k.stamp)],
    );
  for (const d of differing)
    await target.query(
      `UPDATE ${CHANGE_LOG} SET differs = $5 WHERE run_id = $1 AND table_name = $2 AND pg_key = $3 AND stamp::text = $4`,
      [runId, table, JSON.stringify(d.key.pgKey), d.key.stamp, d.why],
    );
}

/** Keys waiting for re-verification per table (after each table's verified batch), and those found different. */
export async function countRecheckBacklog(
  target: DataSource,
  runId: string,
): Promise<{ table: string; waiting: number; differing: number; outside: number }[]> {
  const rows: { table_name: string; waiting: string; differing: string; outside: string }[] = await target.query(
    `SELECT c.table_name,
            count(*) FILTER (WHERE c.seq > COALESCE(l.verified_seq, 0) OR c.outside IS NOT NULL OR c.differs IS NOT NULL) AS waiting,
            count(*) FILTER (WHERE c.differs IS NOT NULL) AS differing,
            count(*) FILTER (WHERE c.outside IS NOT NULL) AS outside
       FROM ${CHANGE_LOG} c LEFT JOIN ${quotePg(STATE_SCHEMA)}.live_tables l ON l.run_id = c.run_id AND l.table_name = c.table_name
      WHERE c.run_id = $1 GROUP BY c.table_name`,
    [runId],
  );
  return rows.map((r) => ({
    table: r.table_name,
    waiting: Number(r.waiting),
    differing: Number(r.differing),
    outside: Number(r.outside),
  }));
}
