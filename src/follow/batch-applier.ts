import type { DataSource } from 'typeorm';
import { PermanentError, TransientError } from '../core/errors.js';
import { isPermanentError } from '../dialect/driver-errors.js';
import { readBinlogPosition } from '../dialect/mysql/binlog.js';
import { readLoggedStatements } from '../dialect/mysql/binlog-statements.js';
import { withSourceSnapshot, type SourceSnapshot } from '../dialect/mysql/snapshot.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { beginTransaction, writerSettings } from '../dialect/postgres/transaction.js';
import { logChangedKeys } from '../state/change-log.js';
import { addFollowAdjustments, nextBatchSeq, recordAppliedBatch, type FollowPosition } from '../state/follow-state.js';
import type { ChangeApplier } from './apply-changes.js';
import type { CascadingKey } from './cascades.js';
import type { ChangeBatch, KeysByTable } from './change-batcher.js';
import { keyText, type ChangedKey } from './changed-key.js';
import { ddlOnFollowedTable } from './ddl-statement.js';
import { handBackViolatedCheck } from './early-checks.js';

/** Cascade levels followed at most (a foreign key cycle would otherwise never end). */
const MAX_CASCADE_DEPTH = 16;

/**
 * Applies one batch in one PostgreSQL transaction: the rows foreign key actions changed, then
 * each changed key's row as the source holds it, all read in ONE read session of the source
 * that sees every transaction logged up to the batch's end (see withSourceSnapshot): a row is
 * written as the source committed it, whatever the delay between its binary log events and its
 * commit becoming visible. The keys go to my2pg.change_log, and the position, with the XA
 * transactions still prepared there, is recorded in the same transaction.
 */
export class BatchApplier {
  /** Whether this role may set session_replication_role (superuser): then the target's triggers and foreign keys do not fire for the follower's writes. */
  private replicaRole: Promise<boolean> | null = null;

  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
    private readonly runId: string,
    private readonly applier: ChangeApplier,
    /** Per followed table, the foreign keys that reference it with an action that changes rows. */
    private readonly cascadesOf: (table: string) => readonly CascadingKey[],
    /** The source database the followed tables are in. */
    private readonly database: string,
    private readonly onLog?: (line: string) => void | Promise<void>,
  ) {}

  /**
   * `before`: run first in the batch's transaction (a schema change, committed with the batch and
   * its position). A batch refused by a CHECK this run added early is applied again once the
   * CHECK is handed back to finalize (see early-checks.ts): each try drops one, so it ends.
   */
  async apply(batch: ChangeBatch, next: FollowPosition, before?: (pg: PoolClient) => Promise<void>): Promise<void> {
    let atLeast = next;
    for (;;) {
      try {
        await this.applyOnce(batch, next, atLeast, before);
        return;
      } catch (error) {
        if (error instanceof TableReplacedDuringRead) {
          // Read again in a snapshot taken after the statement: the name then means one table throughout.
          atLeast = error.end;
          continue;
        }
        const check = await handBackViolatedCheck(this.target, this.runId, error);
        if (check === null) throw error;
        await this.onLog?.(
          `CHECK ${check}: a changed row violates it; dropped, it is added and validated at the freeze (which reports the rows)`,
        );
      }
    }
  }

  private async applyOnce(
    batch: ChangeBatch,
    next: FollowPosition,
    atLeast: FollowPosition,
    before?: (pg: PoolClient) => Promise<void>,
  ): Promise<void> {
    this.replicaRole ??= this.target
      .query('SELECT rolsuper AS ok FROM pg_roles WHERE rolname = current_user')
      .then((rows: { ok: boolean }[]) => Boolean(rows[0]?.ok));
    const replica = await this.replicaRole;
    await withSourceSnapshot(this.source, atLeast, (snapshot) =>
      withPgClient(this.target, async (pg) => {
        await beginTransaction(pg, { settings: writerSettings('follower', replica) });
        try {
          const seq = await nextBatchSeq(pg, this.runId);
          await before?.(pg);
          await this.applyCascades(pg, batch);
          for (const [table, keys] of batch.tables) {
            if (keys.size === 0) continue;
            try {
              const { adjustments, logged } = await this.applier.apply(pg, table, [...keys.values()], snapshot);
              if (Object.keys(adjustments).length > 0) await addFollowAdjustments(pg, this.runId, table, adjustments);
              await logChangedKeys(pg, this.runId, table, seq, logged.pg);
            } catch (error) {
              throw describeApplyFailure(error, table);
            }
          }
          await this.sameTablesThroughout(snapshot, batch);
          await recordAppliedBatch(pg, this.runId, {
            next,
            events: batch.events,
            lastEventAt: batch.newestAt === null ? null : new Date(batch.newestAt),
            prepared: batch.prepared,
          });
          await pg.query('COMMIT');
        } catch (error) {
          await pg.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    );
  }

  /**
   * A snapshot is consistent for the tables as they were when it was taken, but a table name
   * resolves when it is read: a RENAME (the swap of pt-online-schema-change and gh-ost), DROP,
   * CREATE OR REPLACE or TRUNCATE logged between the snapshot and the read puts another table
   * under the name, whose rows the snapshot sees as of its own time (the helper table's last
   * copied rows missing). The reads hold their tables' metadata locks until the snapshot ends,
   * so any such statement is logged by now: if one names a table of the batch, the batch is
   * applied again in a snapshot past it (see apply).
   */
  private async sameTablesThroughout(snapshot: SourceSnapshot, batch: ChangeBatch): Promise<void> {
    if (!snapshot.position) return; // locking reads (MySQL) read the committed rows of the table the name holds now
    const tables = new Set([...batch.tables].filter(([, keys]) => keys.size > 0).map(([table]) => table));
    if (tables.size === 0) return;
    const end = await readBinlogPosition(this.source, { gtid: false });
    if (end.file === snapshot.position.file && end.position <= snapshot.position.position) return;
    const statements = await readLoggedStatements(
      this.source,
      snapshot.position,
      (s) => ddlOnFollowedTable(s.statement, this.database, s.database, tables) !== null,
    );
    if (statements.length > 0) throw new TableReplacedDuringRead({ file: end.file, position: end.position });
  }

  /**
   * First, the rows foreign key actions changed: the target rows that referenced the old values
   * go, and their keys join the batch, so that each is read again from MySQL (gone after ON
   * DELETE CASCADE, with its new values after ON UPDATE CASCADE or SET NULL). Their own
   * referencing rows follow, level by level.
   */
  private async applyCascades(pg: PoolClient, batch: ChangeBatch): Promise<void> {
    const tables: KeysByTable = batch.tables;
    let level = [...batch.cascades.values()].map((c) => ({ key: c.key, values: [...c.values.values()] }));
    for (let depth = 0; level.length > 0 && depth < MAX_CASCADE_DEPTH; depth++) {
      const next: { key: CascadingKey; values: ChangedKey[] }[] = [];
      for (const { key, values } of level) {
        const below = this.cascadesOf(key.child);
        const returning = [...new Set(below.flatMap((fk) => fk.parentColumns))];
        const removed = await this.applier.removeReferencing(pg, key.child, key.childColumns, values, returning);
        let keys = tables.get(key.child);
        if (!keys) tables.set(key.child, (keys = new Map()));
        for (const row of removed) keys.set(keyText(row.key), row.key);
        for (const fk of below) {
          const columns = fk.parentColumns.map((c) => returning.indexOf(c));
          next.push({ key: fk, values: removed.map((row) => columns.map((i) => row.returned[i]!)) });
        }
      }
      level = next.filter((n) => n.values.length > 0);
    }
  }
}

/** MySQL's ER_BAD_FIELD_ERROR and ER_NO_SUCH_TABLE: the table's shape changed on the source since the copy. */
const SHAPE_CHANGED = new Set(['ER_BAD_FIELD_ERROR', 'ER_NO_SUCH_TABLE']);

/** The table of a batch that failed because MySQL's definition of it changed (a column gone), else null. */
export function shapeChangedTable(error: unknown): string | null {
  const cause = error instanceof PermanentError ? (error.cause as { code?: unknown } | undefined) : undefined;
  return cause && SHAPE_CHANGED.has(String(cause.code)) ? ((error as PermanentError).table ?? null) : null;
}

/** A batch that failed on one table: a table changed under the follower is named as such. */
function describeApplyFailure(error: unknown, table: string): Error {
  if (SHAPE_CHANGED.has(String((error as { code?: unknown }).code))) {
    return new PermanentError(
      `table ${table} changed on the source while it was followed (${(error as Error).message}); the follower stopped for good. Start a new run to migrate the table as it is now`,
      { table, cause: error },
    );
  }
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  // A value PostgreSQL refuses (out of range, too long, a constraint) stays refused however often it is tried.
  if (isPermanentError(error)) {
    return new PermanentError(
      `table ${table}: PostgreSQL refused a changed row (${(error as Error).message}); the follower stopped for good rather than skip it. Fix the row in MySQL or start a new run with a column type that holds it`,
      { table, cause: error },
    );
  }
  return new TransientError(`table ${table}: applying changes failed: ${(error as Error).message}`, {
    table,
    cause: error,
  });
}

/** A table of the batch changed (renamed, replaced) between its snapshot and its read: applied again past `end`. */
class TableReplacedDuringRead extends Error {
  constructor(readonly end: FollowPosition) {
    super(`a table of the batch was replaced before ${end.file}:${end.position}`);
  }
}
