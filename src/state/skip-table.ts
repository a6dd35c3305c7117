import type { DataSource } from 'typeorm';
import { quotePg } from '../dialect/postgres/quote.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginTransaction } from '../dialect/postgres/transaction.js';
import { STATE_SCHEMA } from './entities.js';
import { releaseFollower } from './follow-definitions.js';

/** The run's state kept per table that a table dropped from a following run leaves. */
const PER_TABLE = ['run_tables', 'follow_definitions', 'live_tables', 'change_log'].map(
  (name) => `${quotePg(STATE_SCHEMA)}.${quotePg(name)}`,
);
const RUNS = `${quotePg(STATE_SCHEMA)}.runs`;
const FOLLOW = `${quotePg(STATE_SCHEMA)}.follow`;

/**
 * `resume --skip-table T` of a follower held at T: in one transaction, the table leaves the run
 * (its run_tables row and what following and verifying it recorded are removed, so it is no
 * longer followed, verified or counted at cutover) and the follower is released to go on from
 * its last commit without it. The target table itself is left as it is. The run keeps a record
 * of it (runs.options.skippedTables), which status and cutover's receipt show.
 */
export async function dropTableFromRun(target: DataSource, runId: string, table: string): Promise<void> {
  await withPgClient(target, async (pg) => {
    await beginTransaction(pg);
    try {
      // A lasting record (runs.options.skippedTables): the table, when, and the hold that led to it.
      await pg.query(
        `UPDATE ${RUNS} r SET options = jsonb_set(r.options, '{skippedTables}', COALESCE(r.options->'skippedTables', '[]'::jsonb) ||
           jsonb_build_array(jsonb_build_object('table', $2::text, 'at', to_jsonb(now()), 'reason', COALESCE(f.held->>'reason', f.error, 'dropped from the run'))))
          FROM ${FOLLOW} f WHERE r.id = $1 AND f.run_id = $1`,
        [runId, table],
      );
      for (const state of PER_TABLE)
        await pg.query(`DELETE FROM ${state} WHERE run_id = $1 AND table_name = $2`, [runId, table]);
      await releaseFollower(pg, runId);
      await pg.query('COMMIT');
    } catch (error) {
      await pg.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}
