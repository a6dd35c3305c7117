import type { DataSource } from 'typeorm';
import { describeError } from '../core/errors.js';
import { createViewsEarly } from '../finalize/early-views.js';
import type { RunRow } from '../state/entities.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { listRunTables } from '../state/run-tables.js';
import { addChecksEarly } from './early-checks.js';
import type { FollowedTableRef } from './followed-table.js';

/** Tries at creating them while following before they are left to the freeze (a lock wait, a deadlock with a batch). */
const ATTEMPTS = 5;

/**
 * The CHECKs and views created while following (see docs/live-verification.md, "CHECKs and views
 * before the freeze"), once, in a pass of verification while following: what cannot be done now
 * is left to the freeze's finalize, as before.
 */
export class EarlyObjects {
  private attempts = 0;
  private checksDone = false;
  private viewsDone = false;

  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
    private readonly run: RunRow,
    private readonly catalog: RunCatalog,
    private readonly tables: readonly FollowedTableRef[],
    private readonly log: (line: string) => void | Promise<void>,
  ) {}

  async pass(): Promise<void> {
    if ((this.checksDone && this.viewsDone) || this.attempts >= ATTEMPTS) return;
    this.attempts += 1;
    if (!this.checksDone) {
      try {
        await addChecksEarly(this.target, this.run, this.tables, this.log);
        this.checksDone = true;
      } catch (error) {
        await this.log(`CHECKs: adding them while following failed (${describeError(error)}); trying again`);
      }
    }
    if (!this.viewsDone) {
      try {
        const tables = await listRunTables(this.target, this.run.id);
        const sourceTables = (await this.catalog.sourceCatalog()).tables;
        const created = await createViewsEarly(this.source, this.target, this.run, tables, sourceTables);
        this.viewsDone = true;
        if (created.length > 0)
          await this.log(`views: ${created.length} created while following: ${created.join(', ')}`);
      } catch (error) {
        await this.log(`views: creating them while following failed (${describeError(error)}); trying again`);
      }
    }
  }
}
