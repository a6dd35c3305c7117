import type { DataSource } from 'typeorm';
import { readLoggedStatements } from '../dialect/mysql/binlog-statements.js';
import { readSourceCatalog, type SourceTable } from '../dialect/mysql/catalog.js';
import { readTargetTables } from '../dialect/postgres/catalog.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { qualifyPg } from '../dialect/postgres/quote.js';
import type { CopyTableInput } from '../copy/copy-plan.js';
import {
  changeSavedForeignKeys,
  changeSavedIndexes,
  followDefinitionOf,
  markForWholeComparison,
  replaceFollowDefinition,
} from '../state/follow-definitions.js';
import { ddlOnFollowedTable, swappedIn } from './ddl-statement.js';
import type { FollowedCatalog } from './followed-catalog.js';
import { diffTables, type SchemaDiff } from './schema-diff.js';

/** Why the statements that are not applied yet hold (docs/schema-changes.md). */
const NOT_APPLIED: Record<string, string> = {
  DROP: 'DROP TABLE of a followed table is not applied while following by this version: the target keeps the table and the rows it had',
  RENAME:
    'RENAME TABLE of a followed table to another name is not applied while following by this version (only the swap of pt-online-schema-change and gh-ost is): the rows written under the new name are not followed',
};

/** A schema change met in the binary log, decided: applied with these statements, or held, and why. */
export type PlannedChange =
  | { table: string; input: CopyTableInput; definition: SourceTable; diff: SchemaDiff; truncate: boolean; hold: null }
  | { table: string; hold: string };

/**
 * A DDL statement on a followed table, met in the binary log: MySQL's catalog is read (after
 * the statement, so it may hold later changes too: see docs/schema-changes.md), diffed with the
 * definition the target matches (my2pg.follow_definitions), and the difference translated
 * (schema-diff.ts). apply() runs it inside the transaction that commits the position past the
 * statement, with the changes logged before it.
 */
export class SchemaChanges {
  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
    private readonly runId: string,
    private readonly catalog: FollowedCatalog,
    private readonly tables: ReadonlyMap<string, { input: CopyTableInput; key: readonly string[] }>,
  ) {}

  private tableOf(table: string): { input: CopyTableInput; key: readonly string[] } {
    return this.tables.get(table)!;
  }

  async plan(ddl: {
    verb: string;
    table: string;
    statement: string;
    file: string;
    position: number;
  }): Promise<PlannedChange> {
    const { table } = ddl;
    const { input, key } = this.tableOf(table);
    // The swap that ends pt-online-schema-change and gh-ost: the helper table held the same rows.
    const helper = ddl.verb.startsWith('RENAME')
      ? swappedIn(ddl.statement, table, this.catalog.run.sourceDatabase)
      : null;
    if (!/^(ALTER|TRUNCATE)|INDEX$/.test(ddl.verb) && helper === null)
      return {
        table,
        hold: NOT_APPLIED[ddl.verb.split(' ')[0]!] ?? `${ddl.verb} is not applied while following by this version`,
      };
    const recorded = await followDefinitionOf(this.target, this.runId, table);
    if (!recorded) return { table, hold: 'the run recorded no definition of it (prepared by an earlier my2pg)' };
    const now = await readSourceCatalog(this.source, [table]);
    // Read after the catalog: every statement the catalog may show is among them.
    const followed = new Set([table]);
    const later = await readLoggedStatements(
      this.source,
      { file: ddl.file, position: ddl.position },
      (s) => ddlOnFollowedTable(s.statement, this.catalog.run.sourceDatabase, s.database, followed) !== null,
    );
    const definition = now.tables.find((t) => t.name === table);
    if (!definition) return { table, hold: `MySQL's catalog no longer has table ${table}` };
    const targetTable = await withPgClient(this.target, (pg) =>
      readTargetTables(pg, input.targetSchema, [input.targetTable]),
    ).then((found) => found.get(input.targetTable));
    const diff = diffTables(recorded, definition, {
      schema: input.targetSchema,
      targetTable: input.targetTable,
      isMariaDb: now.serverVersion.startsWith('MariaDB'),
      naming: input.naming,
      columns: input.columns,
      key,
      targetTypes: new Map((targetTable?.columns ?? []).map((c) => [c.name, c.formattedType])),
      targetEnumLabels: new Map(
        (targetTable?.columns ?? []).flatMap((c) => (c.enumLabels ? [[c.name, c.enumLabels]] : [])),
      ),
      tableNames: new Map([...this.tables].map(([name, t]) => [name, t.input.targetTable])),
      statement: ddl.statement,
      later: later.map((s) => s.statement),
    });
    if (diff.hold) return { table, hold: diff.hold };
    const dropped = diff.changes.filter((c) => /^column .* dropped$/.test(c));
    if (helper !== null && dropped.length > 0)
      return {
        table,
        hold: `the table was replaced by ${helper} (an online schema change tool's swap) without ${dropped.map((c) => c.slice(7, -8)).join(', ')}: a column renamed in the helper table looks the same as one dropped and one added; drop or rename it in the target by hand`,
      };
    return { table, input, definition, diff, truncate: ddl.verb.startsWith('TRUNCATE'), hold: null };
  }

  /** Before the caller's transaction, each committed on its own: what PostgreSQL must have committed before rows use it (enum labels). */
  async prepare(change: Extract<PlannedChange, { hold: null }>): Promise<void> {
    if (change.diff.early.length === 0) return;
    await withPgClient(this.target, async (pg) => {
      for (const statement of change.diff.early) await pg.query(statement);
    });
  }

  /**
   * Inside the caller's transaction: the statements, the saved indexes, the recorded definition,
   * and the table marked for a whole comparison; the catalog then shows the new definitions
   * (restore() puts the old ones back if the transaction rolls back).
   */
  async apply(pg: PoolClient, change: Extract<PlannedChange, { hold: null }>): Promise<void> {
    const { input, diff } = change;
    const statements = [...diff.statements];
    if (change.truncate) statements.push(`TRUNCATE TABLE ONLY ${qualifyPg(input.targetSchema, input.targetTable)}`);
    statements.push(
      ...(await changeSavedIndexes(pg, this.runId, input.targetSchema, input.targetTable, {
        added: diff.indexesAdded,
        dropped: diff.indexesDropped,
      })),
    );
    statements.push(
      ...(await changeSavedForeignKeys(pg, this.runId, input.targetSchema, input.targetTable, {
        added: diff.foreignKeysAdded,
        dropped: diff.foreignKeysDropped,
      })),
    );
    for (const statement of statements) await pg.query(statement);
    await replaceFollowDefinition(pg, this.runId, change.definition);
    await markForWholeComparison(pg, this.runId, change.table);
    const target = (await readTargetTables(pg, input.targetSchema, [input.targetTable])).get(input.targetTable);
    this.catalog.replace(change.definition, input.targetTable, target);
  }
}
