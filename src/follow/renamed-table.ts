import type { DataSource } from 'typeorm';
import { readLoggedStatements } from '../dialect/mysql/binlog-statements.js';
import { readSourceCatalog, type SourceTable } from '../dialect/mysql/catalog.js';
import { readTargetTables } from '../dialect/postgres/catalog.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { followDefinitionOf } from '../state/follow-definitions.js';
import { recordRenamedTable, type RenamedTable } from '../state/renamed-table.js';
import type { FollowPosition } from '../state/follow-state.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { targetTableName } from '../vocabulary/naming.js';
import { renamedTo } from './ddl-statement.js';

/** A plain RENAME TABLE of a followed table, decided: applied as this rename, or held, and why. */
export type PlannedRename =
  | {
      renamed: RenamedTable;
      /** The recorded definition under the new name: the rows before the statement are read so (MySQL has only that name now). */
      readAs: SourceTable;
      hold: null;
    }
  | { hold: string };

/**
 * `RENAME TABLE t TO t2` of a followed table (not the swap of an online schema change tool,
 * which schema-change.ts applies as a difference): the target table is renamed, and the run's
 * recorded names follow, in the transaction that commits the position past the statement; the
 * follower then follows t2 (docs/schema-changes.md, "Renamed tables").
 */
export class TableRenamer {
  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
    private readonly run: RunCatalog['run'],
    /** Source table → target table, of the run's tables. */
    private readonly tableNames: ReadonlyMap<string, string>,
  ) {}

  /** Null when the statement is no plain rename of `table`. */
  async plan(ddl: { verb: string; table: string; statement: string }): Promise<PlannedRename | null> {
    if (!ddl.verb.startsWith('RENAME')) return null;
    const to = renamedTo(ddl.statement, ddl.table, this.run.sourceDatabase);
    if (to === null) return null;
    if (to.schema !== null)
      return { hold: `the table was moved to database ${to.schema}, which the run does not follow` };
    if (this.tableNames.has(to.name)) return { hold: `the new name ${to.name} is a table of the run already` };
    const recorded = await followDefinitionOf(this.target, this.run.id, ddl.table);
    if (!recorded) return { hold: 'the run recorded no definition of it (prepared by an earlier my2pg)' };
    const now = await readSourceCatalog(this.source, [to.name]);
    if (!now.tables.some((t) => t.name === to.name))
      return { hold: `MySQL's catalog has no table ${to.name} (renamed or dropped again since)` };
    const schema = this.run.targetSchema;
    const toTarget = targetTableName(this.run.options.naming, to.name);
    const exists = await withPgClient(this.target, (pg) => readTargetTables(pg, schema, [toTarget]));
    if (exists.has(toTarget)) return { hold: `the target has a table ${schema}.${toTarget} already` };
    const fromTarget = this.tableNames.get(ddl.table)!;
    return {
      renamed: { from: ddl.table, to: to.name, schema, fromTarget, toTarget },
      readAs: { ...recorded, name: to.name },
      hold: null,
    };
  }

  /**
   * A batch of `table`'s rows found no such table in MySQL: when a plain RENAME of it is logged
   * after `from` (the follower has not reached it) and MySQL has the table under its new name,
   * the recorded definition under that name, to read the rows from until the RENAME is met.
   */
  async renamedAhead(table: string, from: FollowPosition): Promise<SourceTable | null> {
    const database = this.run.sourceDatabase;
    const recorded = await followDefinitionOf(this.target, this.run.id, table);
    if (!recorded) return null;
    const [first] = await readLoggedStatements(
      this.source,
      from,
      (s) => renamedTo(s.statement, table, database) !== null,
    );
    const to = first ? renamedTo(first.statement, table, database) : null;
    if (to === null || to.schema !== null) return null;
    const now = await readSourceCatalog(this.source, [to.name]);
    return now.tables.some((t) => t.name === to.name) ? { ...recorded, name: to.name } : null;
  }

  /** Inside the caller's transaction: the target table renamed, and the run's names with it. */
  async apply(pg: PoolClient, renamed: RenamedTable): Promise<void> {
    await pg.query(
      `ALTER TABLE ${qualifyPg(renamed.schema, renamed.fromTarget)} RENAME TO ${quotePg(renamed.toTarget)}`,
    );
    await recordRenamedTable(pg, this.run.id, renamed);
  }
}
