/**
 * How the objects my2pg creates are named in PostgreSQL: the identifier case rule and the
 * renames of the migration file (README: "The migration file"). Kept in the run's options, so
 * that every job (copy, verification, finalize) pairs the same source and target names.
 */
export type IdentifierCase = 'keep' | 'lower' | 'snake';

export interface NamingRules {
  /** Case of created tables and columns (not of renamed ones, which are taken as written). Default keep. */
  case: IdentifierCase;
  /** Source table → target table. */
  tables: Record<string, string>;
  /** Source table → source column → target column. */
  columns: Record<string, Record<string, string>>;
}

export const DEFAULT_NAMING: NamingRules = { case: 'keep', tables: {}, columns: {} };
