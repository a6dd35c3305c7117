import type { DataSource } from 'typeorm';
import { TransientError } from '../core/errors.js';
import { withPgClient } from '../dialect/postgres/connection.js';

// Any constant works; it only has to be the same in every my2pg process (see state/schema.ts).
const FOLLOW_LOCK_CLASS = 0x6d793266; // "my2f"

/** Runs `fn` holding the run's follow lock (a session advisory lock), so two workers never follow one run at once. */
export async function withFollowLock<T>(target: DataSource, runId: string, fn: () => Promise<T>): Promise<T> {
  return withPgClient(target, async (lockClient) => {
    const locked = await lockClient.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [
      FOLLOW_LOCK_CLASS,
      runId,
    ]);
    if (!locked.rows[0]?.ok)
      throw new TransientError(
        `run ${runId}: another worker is following its binary log; this attempt waits for it to stop`,
      );
    try {
      return await fn();
    } finally {
      await lockClient
        .query('SELECT pg_advisory_unlock($1, hashtext($2))', [FOLLOW_LOCK_CLASS, runId])
        .catch(() => undefined);
    }
  });
}
