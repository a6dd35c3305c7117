import type { DataSource } from 'typeorm';
import { inPgTransaction } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { describeError } from '../core/errors.js';
import { onUpdateFunctionSql } from '../schema/on-update-trigger.js';
import { listUnrestoredConstraints, markConstraintRestored } from '../state/saved-constraints.js';
import type { RestoredConstraint } from './restore-constraints.js';

/**
 * Creates the ON UPDATE CURRENT_TIMESTAMP triggers a run saved for its created tables, after
 * the load and the indexes. Each in its own transaction with the schema's shared function
 * (CREATE OR REPLACE) and a DROP TRIGGER IF EXISTS first, so a retried finalize carries on.
 * One at a time: concurrent CREATE OR REPLACE of one function collide.
 */
export async function restoreTriggers(target: DataSource, runId: string): Promise<RestoredConstraint[]> {
  const saved = (await listUnrestoredConstraints(target, runId)).filter((s) => s.kind === 'trigger');
  const results: RestoredConstraint[] = [];
  for (const item of saved) {
    try {
      await inPgTransaction(target, async (client) => {
        await client.query(onUpdateFunctionSql(item.schemaName));
        await client.query(
          `DROP TRIGGER IF EXISTS ${quotePg(item.name)} ON ${qualifyPg(item.schemaName, item.tableName)}`,
        );
        await client.query(item.definition);
      });
      await markConstraintRestored(target, item.id, null);
      results.push({ kind: 'trigger', table: item.tableName, name: item.name, status: 'restored' });
    } catch (error) {
      // Left unrestored: a retried finalize tries it again.
      results.push({
        kind: 'trigger',
        table: item.tableName,
        name: item.name,
        status: 'failed',
        error: describeError(error),
      });
    }
  }
  return results;
}
