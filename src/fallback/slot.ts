import type { DataSource } from 'typeorm';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { createFallbackRow, getFallback, setFallbackStatus } from '../state/fallback-state.js';

/** The slot and publication of a run's way back: one name, PostgreSQL's rules (lower case, digits, _; 63 bytes). */
function fallbackNameOf(runId: string): string {
  return `my2pg_back_${runId.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
}

/** A table the way back reads: its PostgreSQL schema and name. */
export interface PublishedTable {
  schema: string;
  targetTable: string;
}

/**
 * At cutover's go, the follower done and before anyone writes to PostgreSQL: a publication of the
 * migrated tables, then a logical replication slot over it (pgoutput). The slot's consistent point
 * is where the way back starts: every transaction that commits after it is decoded, once. Both are
 * found again when an earlier attempt made them. Must not run inside a transaction that wrote.
 */
export async function armFallback(
  target: DataSource,
  runId: string,
  tables: readonly PublishedTable[],
): Promise<{ slotName: string; publicationName: string; startLsn: string }> {
  const name = fallbackNameOf(runId);
  const existing = await getFallback(target, runId);
  if (existing) return existing;
  const publications: unknown[] = await target.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
  if (publications.length === 0)
    await target.query(
      `CREATE PUBLICATION ${quotePg(name)} FOR TABLE ${tables.map((t) => qualifyPg(t.schema, t.targetTable)).join(', ')}`,
    );
  const slots: { lsn: string }[] = await target.query(
    'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
    [name],
  );
  const startLsn =
    slots[0]?.lsn ??
    (
      (await target.query("SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')", [
        name,
      ])) as { lsn: string }[]
    )[0]!.lsn;
  const armed = { slotName: name, publicationName: name, startLsn };
  await createFallbackRow(target, runId, armed);
  return armed;
}

/** `finish`: the way back ends (its job sees it and returns), then the slot and publication go, so no WAL is held any more. Safe to repeat. */
export async function disarmFallback(
  target: DataSource,
  runId: string,
): Promise<{ slot: boolean; publication: boolean }> {
  const state = await getFallback(target, runId);
  if (state) await setFallbackStatus(target, runId, 'finished');
  const name = state?.slotName ?? fallbackNameOf(runId);
  const slot = await dropSlot(target, name);
  const publication: unknown[] = await target.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [name]);
  if (publication.length > 0) await target.query(`DROP PUBLICATION IF EXISTS ${quotePg(name)}`);
  return { slot, publication: publication.length > 0 };
}

/** Drops the slot; while the way back's job is in the middle of a read of it (55006), tries again, for at most 30 s. */
async function dropSlot(target: DataSource, name: string): Promise<boolean> {
  const started = Date.now();
  for (;;) {
    try {
      const dropped: unknown[] = await target.query(
        'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
        [name],
      );
      return dropped.length > 0;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || Date.now() - started > 30_000) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
