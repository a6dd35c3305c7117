import type { DataSource } from 'typeorm';
import { readSourceCatalog } from '../dialect/mysql/catalog.js';
import { readTargetTables } from '../dialect/postgres/catalog.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { buildCreateTable } from '../schema/ddl.js';
import { joinedJobId } from '../state/job-ids.js';
import { recordJoinedTable, type JoinedTable } from '../state/joined-table.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { targetTableName } from '../vocabulary/naming.js';
import { ALEMBIC_TABLE, matchNames } from '../vocabulary/table-selection.js';
import { followKeyOf } from './preconditions.js';

/** The helper tables of online schema change tools (pt-online-schema-change, gh-ost): never joined. */
const HELPER = /^_.+_(new|old|gho|ghc|del)$/;

/** A CREATE TABLE met in the binary log, decided: the table joins the run with these statements, or is passed by, and why. */
export type PlannedJoin = { joined: JoinedTable & { statements: string[] }; passed: null } | { passed: string };

/**
 * A table created in the followed database while following joins the run (`--on-ddl apply`):
 * it is empty at its CREATE TABLE, so following it from there is its whole copy (see
 * docs/schema-changes.md, "New tables"). plan() decides and translates it with the DDL a run
 * creates tables with; apply() creates it and records it, inside the transaction that commits
 * the position past the statement.
 */
export class TableJoiner {
  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
    private readonly run: RunCatalog['run'],
    /** Source table → target table, of the run's tables. */
    private readonly tableNames: ReadonlyMap<string, string>,
  ) {}

  async plan(table: string): Promise<PlannedJoin> {
    const { options } = this.run;
    if (this.tableNames.has(table)) return { passed: 'it is a table of the run already' };
    if (HELPER.test(table)) return { passed: "the name is an online schema change tool's helper table" };
    if (table === ALEMBIC_TABLE) return { passed: 'alembic_version is synced at cutover, not followed' };
    if (options.entities) return { passed: 'the run copies the tables of --entities only' };
    if (options.tables && !matchNames(options.tables, [table], true).matched.has(table))
      return { passed: 'the run copies the tables of --tables only, and this name is not among them' };
    if (matchNames(options.exclude ?? [], [table], true).matched.has(table))
      return { passed: 'the run excludes it (--exclude)' };
    const catalog = await readSourceCatalog(this.source, [table]);
    const definition = catalog.tables.find((t) => t.name === table);
    if (!definition) return { passed: "MySQL's catalog no longer has it (dropped since)" };
    const key = followKeyOf(definition);
    if (key === null)
      return { passed: 'it has no primary key or NOT NULL unique key to follow its rows by; copy it with a new run' };
    const schema = this.run.targetSchema;
    const targetTable = targetTableName(options.naming, table);
    const exists = await withPgClient(this.target, (pg) => readTargetTables(pg, schema, [targetTable]));
    if (exists.has(targetTable))
      return {
        passed: `the target has a table ${schema}.${targetTable} already; drop it, or copy the table with a new run`,
      };
    const tableNames = new Map([...this.tableNames, [table, targetTable]]);
    const ddl = buildCreateTable(definition, schema, {
      isMariaDb: catalog.serverVersion.startsWith('MariaDB'),
      knownTables: new Set(tableNames.values()),
      targetName: targetTable,
      naming: options.naming,
      tableNames,
      fulltextConfig: options.fulltextConfig,
    });
    return {
      joined: {
        definition,
        schema,
        targetTable,
        jobId: joinedJobId(this.run.id, table),
        key,
        deferred: ddl.deferred,
        statements: ddl.statements,
      },
      passed: null,
    };
  }

  /** Inside the caller's transaction: the table created, and recorded as the run's. */
  async apply(pg: PoolClient, joined: JoinedTable & { statements: string[] }): Promise<void> {
    for (const statement of joined.statements) await pg.query(statement);
    for (const statement of await recordJoinedTable(pg, this.run.id, joined)) await pg.query(statement);
  }
}
