import type { SourceTable } from '../dialect/mysql/catalog.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import type { DataSource } from 'typeorm';
import { followDefinitionOf } from '../state/follow-definitions.js';
import type { RunCatalog } from '../state/run-catalog.js';

/**
 * A run's catalog as the follower and verification while following see it: the run's catalog,
 * with the definitions of tables whose schema changed while following put in their place (the
 * source table as the target now matches it, the target table as the change left it).
 */
export class FollowedCatalog implements RunCatalog {
  private readonly sources = new Map<string, SourceTable>();
  private readonly targets = new Map<string, TargetTable>();

  constructor(private readonly base: RunCatalog) {}

  get run(): RunCatalog['run'] {
    return this.base.run;
  }

  async sourceTable(name: string): Promise<{ database: string; table: SourceTable | undefined }> {
    const found = await this.base.sourceTable(name);
    return { database: found.database, table: this.sources.get(name) ?? found.table };
  }

  async targetTable(name: string): Promise<TargetTable | undefined> {
    return this.targets.get(name) ?? (await this.base.targetTable(name));
  }

  async sourceCatalog(): ReturnType<RunCatalog['sourceCatalog']> {
    const catalog = await this.base.sourceCatalog();
    return { ...catalog, tables: catalog.tables.map((t) => this.sources.get(t.name) ?? t) };
  }

  /** The recorded definitions of these source tables (what their target tables match), where recorded. */
  async useRecorded(target: DataSource, runId: string, tables: Iterable<string>): Promise<void> {
    for (const table of tables) {
      const recorded = await followDefinitionOf(target, runId, table);
      if (recorded) this.sources.set(table, recorded);
    }
  }

  /** Puts a table's definitions in place (recorded ones, or a schema change being applied in an open transaction); no target: the run's. */
  replace(source: SourceTable, targetName: string, target: TargetTable | undefined): void {
    this.sources.set(source.name, source);
    if (target) this.targets.set(targetName, target);
  }

  /** Reads a table's rows under another definition from now on (its new name: renamed by a statement not reached yet). */
  readAs(source: string, definition: SourceTable): void {
    this.sources.set(source, definition);
  }

  /** Back to what it was before (the transaction rolled back). */
  restore(source: string, targetName: string, was: { source?: SourceTable; target?: TargetTable }): void {
    if (was.source) this.sources.set(source, was.source);
    else this.sources.delete(source);
    if (was.target) this.targets.set(targetName, was.target);
    else this.targets.delete(targetName);
  }

  /** What replace() put in place for a table, to restore it. */
  overrides(source: string, targetName: string): { source?: SourceTable; target?: TargetTable } {
    const s = this.sources.get(source);
    const t = this.targets.get(targetName);
    return { ...(s ? { source: s } : {}), ...(t ? { target: t } : {}) };
  }
}
