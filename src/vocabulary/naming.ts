import { fitIdentifier } from './identifiers.js';

/**
 * How the objects my2pg creates are named in PostgreSQL: the identifier case rule and the
 * renames of the migration file (docs/target.md: "Names"). Kept in the run's options, so that every
 * job (copy, verification, finalize) pairs the same source and target names. Every layer asks
 * this module for a target name; there is no second copy of the rule.
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

/**
 * `OrderItems` → `order_items`, `userID` → `user_id`, `HTTPServer` → `http_server`,
 * `first name`/`first-name` → `first_name`: a word starts at an upper-case letter that follows a
 * lower-case letter or digit, and at the last upper-case letter of a run followed by a
 * lower-case one. Underscores already there are kept as they are.
 */
export function snakeCase(name: string): string {
  return name
    .replace(/[_\s-]*[\s-][_\s-]*/g, '_')
    .replace(/([\p{Ll}\p{Nd}])(\p{Lu})/gu, '$1_$2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1_$2')
    .toLowerCase();
}

/** A name under a case rule, before the 63-byte fitting. */
export function applyIdentifierCase(name: string, rule: IdentifierCase): string {
  if (rule === 'lower') return name.toLowerCase();
  if (rule === 'snake') return snakeCase(name);
  return name;
}

/** The PostgreSQL name of a source table: its rename as written, else the case rule; at most 63 bytes. */
export function targetTableName(rules: NamingRules | undefined, sourceTable: string): string {
  const r = rules ?? DEFAULT_NAMING;
  return fitIdentifier(r.tables[sourceTable] ?? applyIdentifierCase(sourceTable, r.case));
}

/** The PostgreSQL name of a column of a source table: its rename as written, else the case rule; at most 63 bytes. */
export function targetColumnName(rules: NamingRules | undefined, sourceTable: string, sourceColumn: string): string {
  const r = rules ?? DEFAULT_NAMING;
  return fitIdentifier(r.columns[sourceTable]?.[sourceColumn] ?? applyIdentifierCase(sourceColumn, r.case));
}

/** Groups of names that land on one target name, each with that name. */
function collisions(
  names: readonly string[],
  targetOf: (name: string) => string,
): { target: string; names: string[] }[] {
  const byTarget = new Map<string, string[]>();
  for (const name of names) {
    const target = targetOf(name);
    byTarget.set(target, [...(byTarget.get(target) ?? []), name]);
  }
  return [...byTarget].filter(([, group]) => group.length > 1).map(([target, group]) => ({ target, names: group }));
}

/** What the rules are checked against: the source tables (with their columns) and those the run selects. */
interface NamedTable {
  name: string;
  columns: readonly { name: string }[];
}

/**
 * Every problem of the renames and the case rule at once, each naming its migration-file key:
 * a renamed table or column the source lacks or the run does not select, and two tables (or two
 * columns of one table) that would get one target name (after renames, case, 63-byte fitting).
 */
export function namingProblems(
  rules: NamingRules,
  tables: readonly NamedTable[],
  selected: readonly { table: string; columns?: readonly string[] | undefined }[],
): string[] {
  const problems: string[] = [];
  const byName = new Map(tables.map((t) => [t.name, t]));
  const selection = new Map(selected.map((s) => [s.table, s]));
  const unknownTable = (key: string, table: string): string | null => {
    if (byName.has(table))
      return selection.has(table)
        ? null
        : `${key}: the table ${table} is not selected for this run; select it or drop the rename`;
    const other = tables.find((t) => t.name.toLowerCase() === table.toLowerCase());
    return `${key}: the source has no table ${table}${other ? ` (did you mean ${other.name}?)` : ''}`;
  };
  for (const table of Object.keys(rules.tables)) {
    const problem = unknownTable(`rename.tables.${table}`, table);
    if (problem) problems.push(problem);
  }
  for (const [table, columns] of Object.entries(rules.columns)) {
    const problem = unknownTable(`rename.columns.${table}`, table);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const source = byName.get(table)!;
    const copied = selection.get(table)?.columns;
    for (const column of Object.keys(columns)) {
      const key = `rename.columns.${table}.${column}`;
      if (!source.columns.some((c) => c.name === column)) {
        const other = source.columns.find((c) => c.name.toLowerCase() === column.toLowerCase());
        problems.push(
          `${key}: the source table ${table} has no column ${column}${other ? ` (did you mean ${other.name}?)` : ''}`,
        );
      } else if (copied && !copied.includes(column)) {
        problems.push(
          `${key}: the column ${column} of table ${table} is not selected for this run; select it or drop the rename`,
        );
      }
    }
  }
  // The keys that made names meet: renames, the case rule; without either, the 63-byte cut.
  const keysOf = (
    renamed: (name: string) => boolean,
    key: (name: string) => string,
    names: readonly string[],
  ): string => {
    const keys = names.filter(renamed).map(key);
    if (rules.case !== 'keep' && names.some((n) => !renamed(n))) keys.push('identifierCase');
    return keys.length > 0 ? keys.join(', ') : 'names cut to 63 bytes';
  };
  for (const group of collisions(
    selected.map((s) => s.table),
    (name) => targetTableName(rules, name),
  )) {
    problems.push(
      `${keysOf(
        (n) => rules.tables[n] !== undefined,
        (n) => `rename.tables.${n}`,
        group.names,
      )}: the source tables ${group.names.join(', ')} would all be named ${group.target} in PostgreSQL; rename all but one of them (rename.tables)`,
    );
  }
  for (const sel of selected) {
    const source = byName.get(sel.table);
    if (!source) continue;
    const names = source.columns.map((c) => c.name).filter((c) => !sel.columns || sel.columns.includes(c));
    for (const group of collisions(names, (name) => targetColumnName(rules, sel.table, name))) {
      problems.push(
        `${keysOf(
          (n) => rules.columns[sel.table]?.[n] !== undefined,
          (n) => `rename.columns.${sel.table}.${n}`,
          group.names,
        )}: the columns ${group.names.join(', ')} of table ${sel.table} would all be named ${group.target} in PostgreSQL; rename all but one of them (rename.columns.${sel.table})`,
      );
    }
  }
  return problems;
}
