import type { DataSource } from 'typeorm';
import { PermanentError } from '../core/errors.js';
import type { FollowRow } from '../state/entities.js';
import { setFollowStatus, type FollowPosition } from '../state/follow-state.js';
import type { FollowInput } from './follow-input.js';
import { readSourceCatalog, type SourceTable } from '../dialect/mysql/catalog.js';
import { readTargetTables, type TargetTable } from '../dialect/postgres/catalog.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginTransaction } from '../dialect/postgres/transaction.js';
import type { CopyTableInput } from '../copy/copy-plan.js';
import { mapColumnType } from '../schema/type-map.js';
import {
  followDefinitionOf,
  holdFollower,
  markForWholeComparison,
  releaseFollower,
  replaceFollowDefinition,
  type HeldChange,
} from '../state/follow-definitions.js';
import { targetColumnName } from '../vocabulary/naming.js';
import { FollowHeldError } from './ddl-handler.js';
import { formattedTypeOf } from './column-widening.js';

/**
 * How the target table differs from MySQL's definition now, as a run would have created it: a
 * column missing, one MySQL no longer has, or a changed column whose type or NULL differs
 * (columns the change left alone keep the type the run gave them). Empty: they match.
 */
export function targetMismatches(
  recorded: SourceTable,
  now: SourceTable,
  target: TargetTable | undefined,
  input: Pick<CopyTableInput, 'naming' | 'columns' | 'targetTable'>,
): string[] {
  if (!target) return [`the target table ${input.targetTable} does not exist`];
  const copied = (name: string): boolean => input.columns === undefined || input.columns.includes(name);
  const nameOf = (column: string): string => targetColumnName(input.naming, now.name, column);
  const problems: string[] = [];
  for (const column of now.columns) {
    if (!copied(column.name)) continue;
    const name = nameOf(column.name);
    const found = target.columns.find((c) => c.name === name);
    if (!found) {
      problems.push(`column ${name} is missing`);
      continue;
    }
    const before = recorded.columns.find((c) => c.name === column.name);
    if (before && JSON.stringify({ ...before, comment: '' }) === JSON.stringify({ ...column, comment: '' })) continue;
    const mapped = mapColumnType(column);
    const expected = formattedTypeOf(mapped.sql);
    if (mapped.enumLabels) {
      if (JSON.stringify(found.enumLabels) !== JSON.stringify(mapped.enumLabels))
        problems.push(
          `column ${name} takes ${JSON.stringify(found.enumLabels)}, MySQL's ${column.columnType} more or fewer`,
        );
    } else if (found.formattedType !== expected)
      problems.push(
        `column ${name} is ${found.formattedType}, MySQL's ${column.columnType} is ${expected} in PostgreSQL`,
      );
    if (found.notNull === column.nullable)
      problems.push(
        `column ${name} is ${found.notNull ? '' : 'not '}NOT NULL, MySQL's is ${column.nullable ? 'not ' : ''}`,
      );
  }
  for (const column of recorded.columns)
    if (copied(column.name) && !now.columns.some((c) => c.name === column.name)) {
      const name = nameOf(column.name);
      if (target.columns.some((c) => c.name === name)) problems.push(`column ${name} is no longer in MySQL's table`);
    }
  return problems;
}

/**
 * A follower starting: one held at a schema change goes on once the target matches (resumeHeld)
 * and returns where the statement ends, which it then passes without applying it again (the
 * operator did); the others follow.
 */
export async function enterFollowing(input: FollowInput, state: FollowRow): Promise<FollowPosition | null> {
  if (state.status !== 'held') {
    await setFollowStatus(input.target, input.runId, 'following');
    return null;
  }
  const held = state.held as HeldChange;
  const table = input.tables.get(held.table);
  if (!table) throw new PermanentError(`run ${input.runId} is held at table ${held.table}, which it no longer follows`);
  await resumeHeld(input, input.runId, held, table.input);
  return { file: held.file, position: held.position };
}

/**
 * `my2pg resume` of a follower held at a schema change: when the target table now matches
 * MySQL's definition (the operator changed it by hand), that definition is recorded and the
 * follower follows again from the statement (which then finds nothing left to apply);
 * otherwise it stays held, saying what still differs.
 */
async function resumeHeld(
  databases: { source: DataSource; target: DataSource },
  runId: string,
  held: HeldChange,
  input: CopyTableInput,
): Promise<void> {
  const { source, target } = databases;
  const where = `${held.table} at ${held.file}:${held.position}`;
  const recorded = await followDefinitionOf(target, runId, held.table);
  const now = (await readSourceCatalog(source, [held.table])).tables.find((t) => t.name === held.table);
  if (!recorded || !now)
    throw new FollowHeldError(`still held at ${where}: MySQL's catalog no longer has table ${held.table}`, {
      table: held.table,
    });
  const targetTable = (
    await withPgClient(target, (pg) => readTargetTables(pg, input.targetSchema, [input.targetTable]))
  ).get(input.targetTable);
  const problems = targetMismatches(recorded, now, targetTable, input);
  if (problems.length > 0) {
    const message = `still held at ${where} (${held.reason}): the target table differs from MySQL's definition: ${problems.join('; ')}. Change it, then run my2pg resume ${runId} again`;
    await holdFollower(target, runId, held, message);
    throw new FollowHeldError(message, { table: held.table });
  }
  await withPgClient(target, async (pg) => {
    await beginTransaction(pg);
    try {
      await replaceFollowDefinition(pg, runId, now);
      await markForWholeComparison(pg, runId, held.table);
      await releaseFollower(pg, runId);
      await pg.query('COMMIT');
    } catch (error) {
      await pg.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  });
}
