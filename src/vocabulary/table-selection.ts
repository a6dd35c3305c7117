import picomatch from 'picomatch';
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
  /** Names or globs (`wp_*`, `cache_?`, `{a,b}`). */
  tables?: readonly string[] | undefined;
  /** Names or globs. */
  exclude?: readonly string[] | undefined;
  /** From `--entities`: the tables (and columns) the user's entities describe. */
  entities?: readonly TableSelection[] | undefined;
  /** Where `tables` and `exclude` came from, as the user wrote them (`--tables`, `tables.include`); default the flags. */
  origins?: { tables?: string | undefined; exclude?: string | undefined } | undefined;
}

/** What a list of names or globs picks out of the known names, and the entries that name nothing. */
export interface NameMatch {
  matched: Set<string>;
  /** Exact names that are not known, and (unless `emptyGlobsAllowed`) globs that match nothing. */
  unknown: string[];
}

/**
 * Resolves names or globs (picomatch: `wp_*`, `cache_?`, `{a,b}`) against the known names,
 * case-sensitively, as MySQL table names are on Linux. An entry that is a known name is that
 * name even when it holds glob characters. An exact name that is not known is always a
 * problem; a glob that matches nothing is one when it selects (an include) but not when it
 * only takes away (an exclude).
 */
export function matchNames(
  patterns: readonly string[],
  known: readonly string[],
  emptyGlobsAllowed: boolean,
): NameMatch {
  const knownSet = new Set(known);
  const matched = new Set<string>();
  const unknown: string[] = [];
  for (const pattern of patterns) {
    if (knownSet.has(pattern)) {
      matched.add(pattern);
      continue;
    }
    if (!picomatch.scan(pattern).isGlob) {
      unknown.push(pattern);
      continue;
    }
    const isMatch = picomatch(pattern, { dot: true });
    const hits = known.filter((name) => isMatch(name));
    for (const name of hits) matched.add(name);
    if (hits.length === 0 && !emptyGlobsAllowed) unknown.push(`${pattern} (matches nothing)`);
  }
  return { matched, unknown };
}

/** Splits `a,b` lists and repeated flags into names. */
export function splitNames(values: readonly string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  const out = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  return out.length > 0 ? out : undefined;
}

/**
 * Chooses the tables of a run from the source's base tables. Every name the user gave must
 * exist, and every include glob match a table: otherwise a UsageError before anything starts. `alembic_version` is synced
 * by finalize rather than copied.
 */
export function selectTables(
  sourceTables: readonly string[],
  request: SelectionRequest,
): { tables: TableSelection[]; syncAlembic: boolean } {
  const known = new Set(sourceTables);
  const included = request.tables ? matchNames(request.tables, sourceTables, false) : undefined;
  const excludedMatch = matchNames(request.exclude ?? [], sourceTables, true);
  const unknown = [
    ...(included?.unknown ?? []).map((name) => `${request.origins?.tables ?? '--tables'} ${name}`),
    ...excludedMatch.unknown.map((name) => `${request.origins?.exclude ?? '--exclude'} ${name}`),
    ...(request.entities ?? []).filter((e) => !known.has(e.table)).map((e) => `--entities table ${e.table}`),
  ];
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown table${unknown.length > 1 ? 's' : ''} in the MySQL source: ${unknown.join(', ')} (the source has ${sourceTables.length} tables${sourceTables.length > 0 ? `: ${sourceTables.slice(0, 20).join(', ')}${sourceTables.length > 20 ? ', …' : ''}` : ''})`,
    );
  }
  let chosen: TableSelection[];
  if (request.entities) chosen = request.entities.map((e) => ({ table: e.table, columns: e.columns }));
  else chosen = sourceTables.map((table) => ({ table }));
  if (included) chosen = chosen.filter((t) => included.matched.has(t.table));
  const excluded = excludedMatch.matched;
  chosen = chosen.filter((t) => !excluded.has(t.table));
  const syncAlembic =
    known.has(ALEMBIC_TABLE) &&
    !excluded.has(ALEMBIC_TABLE) &&
    (!included || included.matched.has(ALEMBIC_TABLE) || !request.entities);
  return { tables: chosen.filter((t) => t.table !== ALEMBIC_TABLE), syncAlembic };
}

/** Maps each source table to its target table: the same name, else the one same name ignoring case. */
export function matchTargetTable(sourceTable: string, targetTables: readonly string[]): string | undefined {
  if (targetTables.includes(sourceTable)) return sourceTable;
  const folded = targetTables.filter((t) => t.toLowerCase() === sourceTable.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}
