import type { DataSource } from 'typeorm';
import { withPgClient } from '../db/postgres.js';
import { qualifyPg, quotePg } from '../db/quote.js';
import { describeError } from '../errors.js';
import { listUnrestoredConstraints, markConstraintRestored } from '../state/store.js';

/** What happened to one saved definition. */
export interface RestoredConstraint {
  kind: 'foreign_key' | 'index';
  table: string;
  name: string;
  status: 'restored' | 'already-present' | 'violated' | 'failed';
  error?: string;
}

async function constraintExists(dataSource: DataSource, schema: string, table: string, name: string): Promise<boolean> {
  const rows: unknown[] = await dataSource.query(
    `SELECT 1 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND con.conname = $3`,
    [schema, table, name],
  );
  return rows.length > 0;
}

/**
 * Restores the definitions a run saved: indexes first (foreign keys want the unique ones), then
 * foreign keys as NOT VALID followed by VALIDATE, so a violation is reported with its detail
 * while the constraint still guards new rows.
 */
export async function restoreConstraints(target: DataSource, runId: string): Promise<RestoredConstraint[]> {
  const saved = await listUnrestoredConstraints(target, runId);
  const ordered = [...saved.filter((s) => s.kind === 'index'), ...saved.filter((s) => s.kind === 'foreign_key')];
  const results: RestoredConstraint[] = [];
  for (const item of ordered) {
    const table = qualifyPg(item.schemaName, item.tableName);
    try {
      if (item.kind === 'index') {
        await target.query(item.definition);
        await markConstraintRestored(target, item.id, null);
        results.push({ kind: 'index', table: item.tableName, name: item.name, status: 'restored' });
        continue;
      }
      if (await constraintExists(target, item.schemaName, item.tableName, item.name)) {
        await markConstraintRestored(target, item.id, null);
        results.push({ kind: 'foreign_key', table: item.tableName, name: item.name, status: 'already-present' });
        continue;
      }
      await withPgClient(target, async (client) => {
        // Definitions were printed with search_path = pg_catalog; read them back the same way.
        await client.query("SELECT set_config('search_path', 'pg_catalog', false)");
        try {
          await client.query(`ALTER TABLE ${table} ADD CONSTRAINT ${quotePg(item.name)} ${item.definition} NOT VALID`);
        } finally {
          await client.query('RESET search_path');
        }
      });
      try {
        await target.query(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${quotePg(item.name)}`);
        await markConstraintRestored(target, item.id, null);
        results.push({ kind: 'foreign_key', table: item.tableName, name: item.name, status: 'restored' });
      } catch (error) {
        const message = `VALIDATE failed: ${describeError(error)}`;
        await markConstraintRestored(target, item.id, message);
        results.push({ kind: 'foreign_key', table: item.tableName, name: item.name, status: 'violated', error: message });
      }
    } catch (error) {
      // Left unrestored: a retried finalize tries it again.
      results.push({ kind: item.kind, table: item.tableName, name: item.name, status: 'failed', error: describeError(error) });
    }
  }
  return results;
}
