import { UsageError } from '../core/errors.js';

/** Tables my2pg handles in finalize instead of a copy job. */
export const ALEMBIC_TABLE = 'alembic_version';

/** Which tables a run copies, and (from entities) which of their columns. */
export interface TableSelection {
  table: string;
  /** Columns to copy; undefined = every column. */
  columns?: string[] | undefined;
}

/** What the user asked for. */
export interface SelectionRequest {
  tables?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
  /** From `--entities`: the tables (and columns) the user's entities describe. */
  entities?: readonly TableSelection[] | undefined;
}

/** Splits `a,b` lists and repeated flags into names. */
export function splitNames(values: readonly string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  const out = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
  return out.length > 0 ? out : undefined;
}

/**
 * Chooses the tables of a run from the source's base tables. Every name the user gave must
 * exist: an unknown one is a UsageError before anything starts. `alembic_version` is synced
 * by finalize rather than copied.
 */
export function selectTables(sourceTables: readonly string[], request: SelectionRequest): { tables: TableSelection[]; syncAlembic: boolean } {
  const known = new Set(sourceTables);
  const unknown: string[] = [];
  const check = (names: readonly string[] | undefined, flag: string): void => {
    for (const name of names ?? []) if (!known.has(name)) unknown.push(`${flag} ${name}`);
  };
  check(request.tables, '--tables');
  check(request.exclude, '--exclude');
  check(request.entities?.map((e) => e.table), '--entities table');
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown table${unknown.length > 1 ? 's' : ''} in the MySQL source: ${unknown.join(', ')} (the source has ${sourceTables.length} tables${sourceTables.length > 0 ? `: ${sourceTables.slice(0, 20).join(', ')}${sourceTables.length > 20 ? ', …' : ''}` : ''})`,
    );
  }
  let chosen: TableSelection[];
  if (request.entities) chosen = request.entities.map((e) => ({ table: e.table, columns: e.columns }));
  else chosen = sourceTables.map((table) => ({ table }));
  if (request.tables) {
    const wanted = new Set(request.tables);
    chosen = chosen.filter((t) => wanted.has(t.table));
  }
  const excluded = new Set(request.exclude ?? []);
  chosen = chosen.filter((t) => !excluded.has(t.table));
  const syncAlembic = known.has(ALEMBIC_TABLE) && !excluded.has(ALEMBIC_TABLE) && (!request.tables || request.tables.includes(ALEMBIC_TABLE) || !request.entities);
  return { tables: chosen.filter((t) => t.table !== ALEMBIC_TABLE), syncAlembic };
}

/** Maps each source table to its target table: the same name, else the one same name ignoring case. */
export function matchTargetTable(sourceTable: string, targetTables: readonly string[]): string | undefined {
  if (targetTables.includes(sourceTable)) return sourceTable;
  const folded = targetTables.filter((t) => t.toLowerCase() === sourceTable.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}
