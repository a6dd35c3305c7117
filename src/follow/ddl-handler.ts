import type { DataSource } from 'typeorm';
import { PermanentError } from '../core/errors.js';
import { isPermanentError } from '../dialect/driver-errors.js';
import { dropViewsOn } from '../finalize/early-views.js';
import { holdFollower } from '../state/follow-definitions.js';
import { setFollowStatus, type FollowPosition } from '../state/follow-state.js';
import type { ChangeApplier } from './apply-changes.js';
import type { BatchApplier } from './batch-applier.js';
import type { BinlogEvent } from './binlog-stream.js';
import type { ChangeBatch } from './change-batcher.js';
import type { FollowedCatalog } from './followed-catalog.js';
import { TableJoiner } from './joined-table.js';
import { TableRenamer } from './renamed-table.js';
import { SchemaChanges, type PlannedChange } from './schema-change.js';

/** What the follower does at a statement that changes a followed table (`--on-ddl`). */
export type OnDdl = 'apply' | 'hold' | 'stop';

type DdlEvent = Extract<BinlogEvent, { kind: 'ddl' }>;

/** The follower's parts a schema change goes through. */
export interface DdlContext {
  target: DataSource;
  runId: string;
  mode: OnDdl;
  batches: BatchApplier;
  applier: ChangeApplier;
  catalog: FollowedCatalog;
  changes: SchemaChanges;
  joiner: TableJoiner;
  renamer: TableRenamer;
  onLog?: ((line: string) => void | Promise<void>) | undefined;
  /** Where the statement a resumed hold was about ends: the operator changed the target, so it is passed as it is. */
  resolved: FollowPosition | null;
}

/** Where the follower stands when it meets the statement. */
interface DdlMoment {
  /** The batch under way, if any: it commits (or fails) first. */
  flushing: Promise<void> | null;
  /** The changes committed before the statement and not applied yet. */
  take: () => ChangeBatch;
  /** Set when no statement was met (a batch found MySQL's definition changed): thrown when there is nothing to apply, or with --on-ddl stop. */
  unchanged?: Error | undefined;
}

/** The follower is held at a schema change (my2pg.follow says why); `my2pg resume` goes on once the target matches. */
export class FollowHeldError extends PermanentError {}

/** A planned change with nothing to run. */
function nothingIn(planned: Extract<PlannedChange, { hold: null }>): boolean {
  const { diff } = planned;
  return (
    !planned.truncate &&
    [
      diff.early,
      diff.statements,
      diff.indexesAdded,
      diff.indexesDropped,
      diff.foreignKeysAdded,
      diff.foreignKeysDropped,
    ].every((list) => list.length === 0)
  );
}

function shown(statement: string): string {
  const s = statement.replace(/\s+/g, ' ').trim();
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** What the follower's schema changes go through, for these parts of it. */
export function ddlContextOf(
  input: {
    source: DataSource;
    target: DataSource;
    runId: string;
    tables: ConstructorParameters<typeof SchemaChanges>[4];
    onDdl?: OnDdl | undefined;
    onLog?: DdlContext['onLog'];
  },
  catalog: FollowedCatalog,
  batches: BatchApplier,
  applier: ChangeApplier,
  resolved: FollowPosition | null,
): DdlContext {
  const { source, target, runId, tables, onLog } = input;
  const changes = new SchemaChanges(source, target, runId, catalog, tables);
  const names = new Map([...tables].map(([name, t]) => [name, t.input.targetTable]));
  const joiner = new TableJoiner(source, target, catalog.run, names);
  const renamer = new TableRenamer(source, target, catalog.run, names);
  const mode = input.onDdl ?? 'apply';
  return { target, runId, mode, batches, applier, catalog, changes, joiner, renamer, onLog, resolved };
}

/** Where the stream goes on from, the events applied, and whether the run's tables changed (joined, renamed). */
interface DdlMet {
  at: FollowPosition;
  events: number;
  tablesChanged?: boolean;
}

/**
 * A CREATE TABLE in the followed database: with `--on-ddl apply` the new table joins the run
 * (TableJoiner) in the transaction that commits the changes before it and the position past it;
 * otherwise, or when it cannot join, it is passed by, saying why.
 */
async function meetCreateTable(ddl: DdlEvent, ctx: DdlContext, now: DdlMoment): Promise<DdlMet> {
  const at = { file: ddl.file, position: ddl.position };
  const where = `CREATE TABLE ${ddl.table} at ${ddl.file}:${ddl.position}`;
  const planned =
    ctx.mode === 'apply' ? await ctx.joiner.plan(ddl.table) : { passed: `--on-ddl ${ctx.mode} follows no new table` };
  const batch = now.take();
  if (planned.passed !== null) {
    await ctx.batches.apply(batch, at);
    await ctx.onLog?.(`new table not joined to the run: ${where}: ${planned.passed}`);
    return { at, events: batch.events };
  }
  await ctx.batches.apply(batch, at, (pg) => ctx.joiner.apply(pg, planned.joined));
  await ctx.onLog?.(
    `new table joined the run: ${where}: created as ${planned.joined.schema}.${planned.joined.targetTable}, followed from this statement`,
  );
  return { at, events: batch.events, tablesChanged: true };
}

/**
 * At a DDL statement on a followed table (the stream is stopped there): the changes before it
 * and the schema change commit in one transaction with the position past the statement; or,
 * when it cannot be applied exactly (or `--on-ddl hold`), the changes before it commit with
 * the position before it and the follower holds; `--on-ddl stop` stops for good. Returns the
 * position the stream goes on from and the events applied.
 */
export async function meetDdl(ddl: DdlEvent, ctx: DdlContext, now: DdlMoment): Promise<DdlMet> {
  await now.flushing;
  if (ddl.verb === 'CREATE TABLE') return meetCreateTable(ddl, ctx, now);
  const where = `${ddl.verb} on followed table ${ddl.table} at ${ddl.file}:${ddl.position} (${shown(ddl.statement)})`;
  if (now.unchanged && ctx.mode === 'stop') throw now.unchanged;
  const readAs = now.unchanged ? await ctx.renamer.renamedAhead(ddl.table, ddl.before) : null;
  if (readAs) {
    // Renamed by a statement ahead: the batch's rows are read under the new name until the RENAME is met.
    ctx.catalog.readAs(ddl.table, readAs);
    ctx.applier.forget(ddl.table);
    const batch = now.take();
    await ctx.batches.apply(batch, ddl.before);
    await ctx.onLog?.(
      `rows of ${ddl.table} read from ${readAs.name}: MySQL renamed the table by a statement not reached yet`,
    );
    return { at: ddl.before, events: batch.events };
  }
  if (ctx.mode === 'stop') {
    const message = `${where}: the follower stopped for good (--on-ddl stop); nothing past it was applied. Start a new run to migrate the table as it is now`;
    await setFollowStatus(ctx.target, ctx.runId, 'stopped', message);
    throw new PermanentError(message, { table: ddl.table });
  }
  if (ctx.resolved && ddl.file === ctx.resolved.file && ddl.position === ctx.resolved.position) {
    const batch = now.take();
    await ctx.batches.apply(batch, { file: ddl.file, position: ddl.position });
    await ctx.onLog?.(`schema change made by hand, resumed: ${where}`);
    return { at: { file: ddl.file, position: ddl.position }, events: batch.events };
  }
  const rename = ctx.mode === 'apply' ? await ctx.renamer.plan(ddl) : null;
  if (rename?.hold === null) {
    const at = { file: ddl.file, position: ddl.position };
    // The rows before the statement first, read under the new name (MySQL has no other), into the table as it is named.
    ctx.catalog.readAs(ddl.table, rename.readAs);
    ctx.applier.forget(ddl.table);
    const batch = now.take();
    await ctx.batches.apply(batch, ddl.before);
    await ctx.batches.apply(now.take(), at, (pg) => ctx.renamer.apply(pg, rename.renamed));
    const { schema, fromTarget, toTarget } = rename.renamed;
    await ctx.onLog?.(
      `table renamed: ${where}: ${schema}.${fromTarget} renamed to ${toTarget}, followed as ${rename.renamed.to}`,
    );
    return { at, events: batch.events, tablesChanged: true };
  }
  const planned =
    ctx.mode === 'hold'
      ? { table: ddl.table, hold: 'the run holds at every schema change (--on-ddl hold)' }
      : rename
        ? { table: ddl.table, hold: rename.hold }
        : await ctx.changes.plan(ddl);
  const batch = now.take();
  if (now.unchanged && planned.hold === null && nothingIn(planned)) throw now.unchanged;
  let refused: string | null = planned.hold;
  if (planned.hold === null) {
    const targetTable = planned.input.targetTable;
    const was = ctx.catalog.overrides(ddl.table, targetTable);
    let views: string[] = [];
    try {
      try {
        await ctx.changes.prepare(planned);
      } catch (error) {
        if (isPermanentError(error)) refused = `PostgreSQL refused the change: ${(error as Error).message}`;
        throw error;
      }
      await ctx.batches.apply(batch, { file: ddl.file, position: ddl.position }, async (pg) => {
        try {
          // A view reading the table would refuse the change or keep the old definition: finalize creates it at the freeze.
          if (planned.diff.statements.length > 0)
            views = await dropViewsOn(pg, planned.input.targetSchema, targetTable);
          await ctx.changes.apply(pg, planned);
        } catch (error) {
          if (isPermanentError(error)) refused = `PostgreSQL refused the change: ${(error as Error).message}`;
          throw error;
        } finally {
          ctx.applier.forget(ddl.table);
        }
      });
      await ctx.onLog?.(
        `schema change applied: ${where}: ${planned.diff.changes.join('; ') || 'no difference to apply'}${views.length > 0 ? `; views dropped, created at the freeze: ${views.join(', ')}` : ''}`,
      );
      return { at: { file: ddl.file, position: ddl.position }, events: batch.events };
    } catch (error) {
      ctx.catalog.restore(ddl.table, targetTable, was);
      ctx.applier.forget(ddl.table);
      if (refused === null) throw error;
    }
  }
  // Held: what came before the statement commits with the position before it, so that resuming meets it again.
  await ctx.batches.apply(batch, ddl.before);
  const skip = `my2pg resume ${ctx.runId} --skip-table ${ddl.table}`;
  const message = ddl.verb.startsWith('DROP')
    ? `held at ${where}: ${refused}. Drop the table from the run, and follow on without it: ${skip}`
    : `held at ${where}: ${refused}. Change the target table by hand to match MySQL's definition, then run my2pg resume ${ctx.runId}; or drop the table from the run: ${skip}`;
  const held = { table: ddl.table, statement: ddl.statement, file: ddl.file, position: ddl.position, reason: refused! };
  await holdFollower(ctx.target, ctx.runId, held, message);
  throw new FollowHeldError(message, { table: ddl.table });
}
