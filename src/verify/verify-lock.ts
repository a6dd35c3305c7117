import type { DataSource } from 'typeorm';

// Any constant works; it only has to be the same in every my2pg process (see state/schema.ts).
const VERIFY_LOCK_CLASS = 0x6d793276; // "my2v"

/**
 * Runs `fn` holding the run's verify lock: the follower's passes and cutover's freeze never
 * re-verify at once. `wait` false: null at once when another holds it.
 */
export async function withVerifyLock<T>(
  target: DataSource,
  runId: string,
  wait: boolean,
  fn: () => Promise<T>,
): Promise<T | null> {
  const runner = target.createQueryRunner();
  await runner.connect();
  try {
    const rows: { ok: boolean }[] = await runner.query(
      wait
        ? 'SELECT pg_advisory_lock($1, hashtext($2)) IS NOT NULL AS ok'
        : 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
      [VERIFY_LOCK_CLASS, runId],
    );
    if (!rows[0]?.ok) return null;
    try {
      return await fn();
    } finally {
      await runner
        .query('SELECT pg_advisory_unlock($1, hashtext($2))', [VERIFY_LOCK_CLASS, runId])
        .catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}
