import type { DataSource } from 'typeorm';
import { describeError } from '../core/errors.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginTransaction } from '../dialect/postgres/transaction.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { readPartitionedTables } from '../finalize/partitioned-tables.js';
import type { RunRow } from '../state/entities.js';
import {
  advanceEarlyCheck,
  listEarlyForeignKeys,
  recordEarlyForeignKeys,
  returnEarlyForeignKey,
  type EarlyForeignKeyRow,
} from '../state/early-foreign-keys.js';
import { currentBatchSeq } from '../state/live-tables.js';
import { listUnrestoredConstraints, markConstraintsRestored } from '../state/saved-constraints.js';
import { STATE_SCHEMA } from '../state/entities.js';
import { targetColumnName } from '../vocabulary/naming.js';
import type { FollowedTableRef } from './followed-table.js';

const CHANGE_LOG = `${quotePg(STATE_SCHEMA)}.change_log`;
/** Tries at adding the keys while following before they are left to the freeze (a deadlock with a batch, a lock wait). */
const ADD_ATTEMPTS = 5;
/** Keys named per violated foreign key. */
const SHOWN = 5;

/** One foreign key between two followed tables, as PostgreSQL holds it. */
interface KeyShape {
  child: FollowedTableRef;
  parent: FollowedTableRef;
  /** The referencing columns (target names) and, at the same index, the referenced ones. */
  childColumns: string[];
  parentColumns: string[];
}

/**
 * Foreign keys added and validated while following instead of inside the freeze (see
 * docs/live-verification.md, "Foreign keys before the freeze"). Only where the follower's writes
 * do not fire them (session_replication_role = replica: a superuser target role), between two
 * followed tables, referencing the parent's followed key. The follower's batches are not a
 * consistent state between two batches, so a key validated while following is then checked again
 * for every key of its two tables the follower wrote since (the change log keeps those until
 * they are checked); what still violates it at the freeze, with the follower drained, goes back to
 * finalize, which validates it as for any run and reports the violation.
 */
export class EarlyForeignKeys {
  private attempts = 0;
  private settled = false;

  constructor(
    private readonly target: DataSource,
    private readonly run: RunRow,
    private readonly tables: readonly FollowedTableRef[],
    private readonly log: (line: string) => void | Promise<void>,
  ) {}

  /** In each pass of verification while following (under the verify lock): the keys added once, then the newly logged keys checked. */
  async pass(): Promise<void> {
    if (!this.settled) await this.add();
    await this.checkLogged(false);
  }

  /** At the freeze, the follower drained: every key logged since checked; a violated foreign key goes back to finalize. Returns what went back. */
  async atFreeze(): Promise<string[]> {
    return this.checkLogged(true);
  }

  private async add(): Promise<void> {
    this.attempts += 1;
    if (this.attempts > ADD_ATTEMPTS) {
      this.settled = true;
      return;
    }
    const superuser: { ok: boolean }[] = await this.target.query(
      'SELECT rolsuper AS ok FROM pg_roles WHERE rolname = current_user',
    );
    if (!superuser[0]?.ok) {
      this.settled = true;
      await this.log(
        "foreign keys: added at the freeze: the target role is not a superuser, so the follower's writes would fire them (session_replication_role = replica needs a superuser)",
      );
      return;
    }
    const saved = (await listUnrestoredConstraints(this.target, this.run.id)).filter((s) => s.kind === 'foreign_key');
    const present: { name: string }[] = await this.target.query(
      `SELECT con.conname AS name FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND con.conname = ANY($2::text[])`,
      [this.run.targetSchema, saved.map((s) => s.name)],
    );
    const partitioned = await readPartitionedTables(this.target, saved);
    const candidates = saved.filter(
      (s) =>
        !present.some((p) => p.name === s.name) &&
        !partitioned.has(`${s.schemaName}\u0000${s.tableName}`) &&
        s.schemaName === this.run.targetSchema &&
        this.tables.some((t) => t.targetTable === s.tableName),
    );
    if (candidates.length === 0) {
      this.settled = true;
      return;
    }
    let added: { id: number; name: string; shape: KeyShape }[] = [];
    try {
      added = await withPgClient(this.target, async (pg) => {
        // Definitions were printed with search_path = pg_catalog; they are read back the same way.
        await beginTransaction(pg, { settings: { lock_timeout: '5s', search_path: 'pg_catalog' } });
        try {
          const seq = await currentBatchSeq(this.target, this.run.id);
          const kept: { id: number; name: string; shape: KeyShape }[] = [];
          for (const item of candidates) {
            const table = qualifyPg(item.schemaName, item.tableName);
            await pg.query('SAVEPOINT k');
            try {
              await pg.query(`ALTER TABLE ${table} ADD CONSTRAINT ${quotePg(item.name)} ${item.definition} NOT VALID`);
            } catch {
              // Its definition fails now: finalize tries it again, inside the freeze, and reports why.
              await pg.query('ROLLBACK TO SAVEPOINT k');
              continue;
            }
            const shape = await this.shapeOf(
              (sql, params) => pg.query<ShapeRow>(sql, params).then((r) => r.rows),
              item.tableName,
              item.name,
            );
            if (shape) kept.push({ id: item.id, name: item.name, shape });
            else await pg.query(`ALTER TABLE ${table} DROP CONSTRAINT ${quotePg(item.name)}`);
          }
          await recordEarlyForeignKeys(
            pg,
            this.run.id,
            kept.map((k) => ({
              constraintId: k.id,
              name: k.name,
              childTable: k.shape.child.table,
              parentTable: k.shape.parent.table,
            })),
            seq,
          );
          await pg.query('COMMIT');
          return kept;
        } catch (error) {
          await pg.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    } catch (error) {
      await this.log(`foreign keys: adding them while following failed (${describeError(error)}); trying again`);
      return;
    }
    this.settled = true;
    let validated = 0;
    for (const key of added) {
      const table = qualifyPg(this.run.targetSchema, key.shape.child.targetTable);
      try {
        await this.target.query(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${quotePg(key.name)}`);
        await markConstraintsRestored(this.target, [key.id]);
        validated += 1;
      } catch {
        // Violated now (perhaps only between two batches): validated at the freeze as for any run.
        await this.giveBack(key.shape.child.targetTable, key.id, key.name);
      }
    }
    await this.log(
      `foreign keys: ${validated} of ${saved.length} added and validated while following; the others at the freeze`,
    );
  }

  /** The foreign key `name` on `table` when it links two followed tables by the parent's followed key; else undefined. */
  private async shapeOf(
    query: (sql: string, params: unknown[]) => Promise<ShapeRow[]>,
    table: string,
    name: string,
  ): Promise<KeyShape | undefined> {
    const result = await query(
      `SELECT pc.relname AS parent, pn.nspname AS parent_schema,
              (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS child_columns,
              (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS parent_columns
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE con.contype = 'f' AND n.nspname = $1 AND c.relname = $2 AND con.conname = $3`,
      [this.run.targetSchema, table, name],
    );
    const row = result[0];
    if (!row || row.parent_schema !== this.run.targetSchema) return undefined;
    const child = this.tables.find((t) => t.targetTable === table);
    const parent = this.tables.find((t) => t.targetTable === row.parent);
    if (!child || !parent || child.key.length === 0 || parent.key.length === 0) return undefined;
    const parentKey = this.keyColumns(parent);
    const referenced = [...row.parent_columns].sort().join('\u0000');
    if (referenced !== [...parentKey].sort().join('\u0000')) return undefined;
    return { child, parent, childColumns: row.child_columns, parentColumns: row.parent_columns };
  }

  private keyColumns(table: FollowedTableRef): string[] {
    return table.key.map((c) => targetColumnName(this.run.options.naming, table.table, c));
  }

  /** Drops a key added while following and hands it back to finalize. */
  private async giveBack(targetTable: string, id: number, name: string): Promise<void> {
    await this.target.query(
      `ALTER TABLE ${qualifyPg(this.run.targetSchema, targetTable)} DROP CONSTRAINT IF EXISTS ${quotePg(name)}`,
    );
    await returnEarlyForeignKey(this.target, this.run.id, id);
  }

  /** Checks each added key against its two tables' keys logged since it was last checked. */
  private async checkLogged(atFreeze: boolean): Promise<string[]> {
    const returned: string[] = [];
    for (const early of await listEarlyForeignKeys(this.target, this.run.id)) {
      const upTo = await currentBatchSeq(this.target, this.run.id);
      if (upTo <= Number(early.checkedSeq)) continue;
      const child = this.tables.find((t) => t.table === early.childTable);
      const shape = child
        ? await this.shapeOf((sql, params) => this.target.query(sql, params), child.targetTable, early.name)
        : undefined;
      const violations = shape ? await this.violations(shape, early, upTo) : ['the key is not in the target any more'];
      if (violations.length === 0) await advanceEarlyCheck(this.target, this.run.id, early.constraintId, upTo);
      else if (atFreeze) {
        await this.giveBack(child?.targetTable ?? early.childTable, early.constraintId, early.name);
        returned.push(`${early.name}: ${violations.join('; ')}`);
      }
    }
    return returned;
  }

  /** Logged keys of the child whose row references no parent row, and of the parent whose row is gone while a child references it. */
  private async violations(shape: KeyShape, early: EarlyForeignKeyRow, upTo: number): Promise<string[]> {
    const schema = this.run.targetSchema;
    const child = qualifyPg(schema, shape.child.targetTable);
    const parent = qualifyPg(schema, shape.parent.targetTable);
    const childKey = this.keyColumns(shape.child);
    const parentKey = this.keyColumns(shape.parent);
    const childTypes = await columnTypes(this.target, child);
    const parentTypes = await columnTypes(this.target, parent);
    const fromLog = (i: number, type: string | undefined): string => `(l.pg_key::jsonb->>${i})::${type ?? 'text'}`;
    const references = shape.childColumns
      .map((c, i) => `p.${quotePg(shape.parentColumns[i]!)} = t.${quotePg(c)}`)
      .join(' AND ');
    const childSql = `SELECT l.pg_key FROM ${CHANGE_LOG} l
        JOIN ${child} t ON ${childKey.map((k, i) => `t.${quotePg(k)} = ${fromLog(i, childTypes.get(k))}`).join(' AND ')}
       WHERE l.run_id = $1 AND l.table_name = $2 AND l.seq > $3 AND l.seq <= $4
         AND ${shape.childColumns.map((c) => `t.${quotePg(c)} IS NOT NULL`).join(' AND ')}
         AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${references})
       LIMIT ${SHOWN}`;
    const parentSql = `SELECT l.pg_key FROM ${CHANGE_LOG} l
       WHERE l.run_id = $1 AND l.table_name = $2 AND l.seq > $3 AND l.seq <= $4
         AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${parentKey.map((k, i) => `p.${quotePg(k)} = ${fromLog(i, parentTypes.get(k))}`).join(' AND ')})
         AND EXISTS (SELECT 1 FROM ${child} t WHERE ${shape.childColumns
           .map((c, i) => {
             const referenced = shape.parentColumns[i]!;
             return `t.${quotePg(c)} = ${fromLog(parentKey.indexOf(referenced), parentTypes.get(referenced))}`;
           })
           .join(' AND ')})
       LIMIT ${SHOWN}`;
    return withPgClient(this.target, async (pg) => {
      // The logged keys are PostgreSQL's text of the follower's session, which writes in UTC.
      await beginTransaction(pg, { readOnly: true, settings: { timezone: 'UTC' } });
      try {
        const orphans = await pg.query<{ pg_key: string }>(childSql, [
          this.run.id,
          shape.child.table,
          early.checkedSeq,
          upTo,
        ]);
        const gone = await pg.query<{ pg_key: string }>(parentSql, [
          this.run.id,
          shape.parent.table,
          early.checkedSeq,
          upTo,
        ]);
        return [
          ...orphans.rows.map((r) => `${shape.child.table} ${r.pg_key} references no row of ${shape.parent.table}`),
          ...gone.rows.map((r) => `${shape.parent.table} ${r.pg_key} is gone while ${shape.child.table} references it`),
        ];
      } finally {
        await pg.query('COMMIT').catch(() => undefined);
      }
    });
  }
}

interface ShapeRow {
  parent: string;
  parent_schema: string;
  child_columns: string[];
  parent_columns: string[];
}

/** A table's columns and their types as PostgreSQL prints them (format_type). */
async function columnTypes(target: DataSource, table: string): Promise<Map<string, string>> {
  const rows: { name: string; type: string }[] = await target.query(
    `SELECT attname::text AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  return new Map(rows.map((r) => [r.name, r.type]));
}
