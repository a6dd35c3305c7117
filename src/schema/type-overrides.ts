import { UsageError } from '../core/errors.js';

/** `--type MYSQL=PG`: every source column of this MySQL type becomes this PostgreSQL type. */
export interface TypeOverride {
  /** Lower case, single spaces: `tinyint(1)`, `int unsigned`, `datetime`, `enum`. */
  mysqlType: string;
  pgType: string;
}

/** `--column-type TABLE.COLUMN=PG`: one source column becomes this PostgreSQL type. */
export interface ColumnTypeOverride {
  /** `table.column` as given; resolved against the source catalog by {@link resolveColumnOverrides}. */
  spec: string;
  pgType: string;
  /** Where it was given, for messages (`columnTypes.users.bio` of the migration file); default `--column-type "spec"`. */
  label?: string;
}

/** An override as a flag gives it (`users.bio=text`), or with the place it came from for messages. */
export type OverrideEntry = string | { value: string; label: string };

/** How ENUM columns are created: a PostgreSQL enum type, or text with a CHECK constraint. */
export type EnumMode = 'type' | 'check';

/** Everything that changes the default type mapping. */
export interface TypeMapOptions {
  typeOverrides: readonly TypeOverride[];
  /** Source table → source column → PostgreSQL type. */
  columnOverrides: ReadonlyMap<string, ReadonlyMap<string, string>>;
  enumMode: EnumMode;
  /** The schema of the PostGIS extension in the target database, or null when it is not installed. */
  postgisSchema: string | null;
  /** Source table → source column → PostgreSQL type the data decided (data-decided-types.ts); overrides win. */
  dataTypes?: ReadonlyMap<string, ReadonlyMap<string, string>> | undefined;
}

export const DEFAULT_TYPE_MAP_OPTIONS: TypeMapOptions = {
  typeOverrides: [],
  columnOverrides: new Map(),
  enumMode: 'type',
  postgisSchema: null,
};

// A PostgreSQL type name as DDL takes it: words, an optional schema, typmods, time zone, array brackets.
// Anything else (quotes, semicolons, parentheses with expressions) is refused, since the text goes into DDL.
const PG_TYPE =
  /^[a-z_][a-z0-9_$]*(\.[a-z_][a-z0-9_$]*)?( [a-z_][a-z0-9_]*)*(\(\d+( ?, ?\d+)?\))?( with(out)? time zone)?( ?\[\d*\])*$/i;
const MYSQL_TYPE = /^[a-z][a-z0-9 ]*(\(\d+( ?, ?\d+)?\))?( unsigned)?( zerofill)?$/;

/** Lower case with single spaces, so `TINYINT(1)` and `tinyint( 1 )` match the same columns. */
function normalizeMysqlType(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .replace(/ ?, ?/g, ',');
}

function normalizePgType(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/** Whether a text is acceptable as a PostgreSQL type in DDL (the target still checks it exists). */
function isPlausiblePgType(text: string): boolean {
  return PG_TYPE.test(normalizePgType(text));
}

function splitAssignment(value: string): [string, string] | null {
  // PostgreSQL types never contain '=', names may: split at the last one.
  const at = value.lastIndexOf('=');
  if (at <= 0 || at === value.length - 1) return null;
  return [value.slice(0, at), value.slice(at + 1)];
}

/**
 * Parses `--type` values (and MY2PG_TYPES entries) like `tinyint(1)=smallint`. Every problem
 * is listed in one UsageError (exit 2).
 */
export function parseTypeOverrides(entries: readonly OverrideEntry[]): TypeOverride[] {
  const problems: string[] = [];
  const out: TypeOverride[] = [];
  for (const entry of entries) {
    const value = typeof entry === 'string' ? entry : entry.value;
    const label = typeof entry === 'string' ? `--type ${JSON.stringify(value)}` : entry.label;
    const parts = splitAssignment(value);
    if (!parts) {
      problems.push(`${label} is not MYSQL_TYPE=POSTGRES_TYPE (e.g. --type 'tinyint(1)=smallint')`);
      continue;
    }
    const mysqlType = normalizeMysqlType(parts[0]);
    const pgType = normalizePgType(parts[1]);
    if (!MYSQL_TYPE.test(mysqlType))
      problems.push(
        `${label}: ${JSON.stringify(parts[0])} is not a MySQL type such as int, int unsigned, tinyint(1), varchar(255)`,
      );
    else if (!isPlausiblePgType(pgType))
      problems.push(
        `${label}: ${JSON.stringify(parts[1])} is not a PostgreSQL type name such as smallint, numeric(20,0), text[]`,
      );
    else out.push({ mysqlType, pgType });
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return out;
}

/** Parses `--column-type` values (and MY2PG_COLUMN_TYPES entries) like `users.bio=text`. */
export function parseColumnTypeOverrides(entries: readonly OverrideEntry[]): ColumnTypeOverride[] {
  const problems: string[] = [];
  const out: ColumnTypeOverride[] = [];
  for (const entry of entries) {
    const value = typeof entry === 'string' ? entry : entry.value;
    const label = typeof entry === 'string' ? `--column-type ${JSON.stringify(value)}` : entry.label;
    const parts = splitAssignment(value);
    if (!parts?.[0].includes('.')) {
      problems.push(`${label} is not TABLE.COLUMN=POSTGRES_TYPE (e.g. --column-type 'users.bio=text')`);
      continue;
    }
    const pgType = normalizePgType(parts[1]);
    if (!isPlausiblePgType(pgType))
      problems.push(
        `${label}: ${JSON.stringify(parts[1])} is not a PostgreSQL type name such as text, jsonb, numeric(20,0)`,
      );
    else out.push({ spec: parts[0], pgType, ...(typeof entry === 'string' ? {} : { label }) });
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return out;
}

/**
 * Resolves `table.column` specs against the source tables. Names may hold dots, so every split
 * point is tried; a spec that names no column, or more than one, is a UsageError.
 */
export function resolveColumnOverrides(
  overrides: readonly ColumnTypeOverride[],
  tables: readonly { name: string; columns: readonly { name: string }[] }[],
): Map<string, Map<string, string>> {
  const problems: string[] = [];
  const out = new Map<string, Map<string, string>>();
  for (const o of overrides) {
    const matches: [string, string][] = [];
    for (let i = o.spec.indexOf('.'); i >= 0; i = o.spec.indexOf('.', i + 1)) {
      const table = tables.find((t) => t.name === o.spec.slice(0, i));
      const column = o.spec.slice(i + 1);
      if (table?.columns.some((c) => c.name === column)) matches.push([table.name, column]);
    }
    const match = matches[0];
    const label = o.label ?? `--column-type ${JSON.stringify(o.spec)}`;
    if (!match) problems.push(`${label}: the MySQL source has no such table.column${o.label ? ` (${o.spec})` : ''}`);
    else if (matches.length > 1)
      problems.push(`${label} is ambiguous (${matches.map((m) => m.join(' . ')).join(' or ')})`);
    else {
      const columns = out.get(match[0]) ?? new Map<string, string>();
      columns.set(match[1], o.pgType);
      out.set(match[0], columns);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return out;
}

/**
 * The override for a column's MySQL type, most specific first: the full COLUMN_TYPE
 * (`tinyint(1)`, `int(10) unsigned`), then the type with `unsigned` (`int unsigned`), then the
 * bare type (`int`, signed or not).
 */
export function findTypeOverride(
  overrides: readonly TypeOverride[],
  column: { dataType: string; columnType: string; unsigned: boolean },
): string | undefined {
  if (overrides.length === 0) return undefined;
  const full = normalizeMysqlType(column.columnType);
  const withoutZerofill = full.replace(/ zerofill$/, '');
  const candidates = [
    full,
    withoutZerofill,
    column.unsigned ? `${column.dataType} unsigned` : column.dataType,
    column.dataType,
  ];
  for (const candidate of candidates) {
    // The last override given wins, as with repeated flags elsewhere.
    for (let i = overrides.length - 1; i >= 0; i -= 1)
      if (overrides[i]!.mysqlType === candidate) return overrides[i]!.pgType;
  }
  return undefined;
}
