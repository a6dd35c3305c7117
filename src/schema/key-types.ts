import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import { mapColumnType } from './type-map.js';
import type { TypeMapOptions } from './type-overrides.js';

/**
 * Foreign keys need the same type on both sides in PostgreSQL ("Key columns … are of
 * incompatible types: numeric and bigint"), while MySQL's default mapping gives a
 * `bigint unsigned` AUTO_INCREMENT key a bigint identity and the `bigint unsigned` columns that
 * reference it numeric(20). Every column joined to another by a foreign key (directly or
 * through a chain) therefore gets one type, decided once for its whole group.
 */

/** A column of a source table, as `table` + `column`. */
export interface KeyColumnRef {
  table: string;
  column: string;
}

/** What the decision knows about one column of a group. */
export interface KeyMember extends KeyColumnRef {
  /** The PostgreSQL type the column gets on its own (mapColumnType), for a created table. */
  mapped: string;
  /** The mapping came from --type / --column-type. */
  overridden: boolean;
  /** The type of the column in an existing target table (format_type); absent for created tables. */
  existing?: string | undefined;
  /** MySQL's BIGINT UNSIGNED: its values may not fit bigint. */
  unsignedBigint: boolean;
  /** Next AUTO_INCREMENT value when the column is the table's AUTO_INCREMENT column. */
  autoIncrement?: string | null | undefined;
  /** MAX(column) in MySQL as a decimal string, null for an empty table; read only when needed. */
  max?: string | null | undefined;
}

/** The outcome for one group. */
export interface KeyTypeDecision {
  /** The type of every created column of the group; null = each keeps its own mapping. */
  type: string | null;
  /** Why, for the report. */
  reason: string;
  /** Set when the group cannot be made to agree: the foreign keys may fail when restored. */
  warning?: string;
}

const BIGINT_MAX = 9223372036854775807n;

/** Integer-like PostgreSQL types, narrowest first; a `boolean` made from tinyint(1) joins them below smallint. */
const INTEGER_RANK: Record<string, number> = { boolean: 0, smallint: 1, integer: 2, bigint: 3, 'numeric(20)': 4 };

function describe(member: KeyColumnRef): string {
  return `${member.table}.${member.column}`;
}

/**
 * Groups of columns joined by foreign keys (union-find over each FK's column pairs, so chains,
 * self-references, composite keys and references to a UNIQUE key instead of the primary key
 * are all one rule). Only groups of two or more columns are returned, in a stable order.
 */
export function findKeyGroups(tables: readonly SourceTable[]): KeyColumnRef[][] {
  const parent = new Map<string, string>();
  const refs = new Map<string, KeyColumnRef>();
  const keyOf = (table: string, column: string): string => `${table}\u0000${column}`;
  const find = (key: string): string => {
    let root = key;
    while (parent.get(root) !== root) root = parent.get(root)!;
    // Path compression keeps long chains cheap.
    let node = key;
    while (parent.get(node) !== root) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  const add = (table: string, column: string): string => {
    const key = keyOf(table, column);
    if (!parent.has(key)) {
      parent.set(key, key);
      refs.set(key, { table, column });
    }
    return key;
  };
  const known = new Map(tables.map((t) => [t.name, t]));
  for (const table of tables) {
    for (const fk of table.foreignKeys) {
      const referenced = known.get(fk.referencedTable);
      if (!referenced) continue;
      fk.columns.forEach((column, i) => {
        const other = fk.referencedColumns[i];
        if (
          other === undefined ||
          !table.columns.some((c) => c.name === column) ||
          !referenced.columns.some((c) => c.name === other)
        )
          return;
        const a = find(add(table.name, column));
        const b = find(add(referenced.name, other));
        // biome-ignore lint/complexity/useMathMinMax: keys are strings compared in order, not numbers
        if (a !== b) parent.set(a < b ? b : a, a < b ? a : b);
      });
    }
  }
  const groups = new Map<string, KeyColumnRef[]>();
  for (const key of [...parent.keys()].sort()) {
    const root = find(key);
    groups.set(root, [...(groups.get(root) ?? []), refs.get(key)!]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

/**
 * The one type of a group, from what is known about its columns:
 * 1. Columns of existing target tables keep their types; when they all agree, the created
 *    columns take that type too (else nothing can be done: warning).
 * 2. A --type/--column-type override of a member is the operator's choice: the others follow it.
 * 3. Integer types (and tinyint(1) booleans) widen to the widest of the group. When that is
 *    numeric(20) (a BIGINT UNSIGNED member), the group is bigint if every value fits — the MAX()
 *    of each BIGINT UNSIGNED member and its next AUTO_INCREMENT are at most 2^63-1 — else
 *    numeric(20) for all (no identity can then continue the ids).
 * Other mixes (text, decimals) are left as mapped: PostgreSQL compares varchar(10) with
 * varchar(20) or text in a foreign key without trouble.
 */
export function decideKeyType(members: readonly KeyMember[]): KeyTypeDecision {
  const names = members.map(describe).join(', ');
  const existing = members.filter((m) => m.existing !== undefined);
  if (existing.length > 0) {
    const types = [...new Set(existing.map((m) => m.existing!))];
    if (types.length > 1) {
      return {
        type: null,
        reason: 'existing target columns disagree',
        warning: `the foreign keys joining ${names} join existing target columns of different types (${types.join(', ')}); they may fail when restored`,
      };
    }
    return {
      type: types[0]!,
      reason: `the existing target column ${existing.map(describe).join(', ')} is ${types[0]}`,
    };
  }
  const overridden = members.filter((m) => m.overridden);
  if (overridden.length > 0) {
    const types = [...new Set(overridden.map((m) => m.mapped))];
    if (types.length > 1) {
      return {
        type: null,
        reason: 'overrides disagree',
        warning: `the foreign keys joining ${names} join columns overridden to different types (${types.join(', ')}); they may fail when restored`,
      };
    }
    return { type: types[0]!, reason: `--type/--column-type of ${overridden.map(describe).join(', ')}` };
  }
  const mapped = [...new Set(members.map((m) => m.mapped))];
  if (mapped.length === 1 && mapped[0] !== 'numeric(20)') return { type: null, reason: `already ${mapped[0]}` };
  if (!mapped.every((t) => t in INTEGER_RANK)) {
    return { type: null, reason: `types ${mapped.join(', ')} left as mapped` };
  }
  const widest = mapped.reduce((a, b) => (INTEGER_RANK[a]! >= INTEGER_RANK[b]! ? a : b));
  if (widest !== 'numeric(20)') return { type: widest, reason: `the widest type of the group` };
  const beyond: string[] = [];
  for (const m of members) {
    if (!m.unsignedBigint) continue;
    if (m.max === undefined) throw new Error(`decideKeyType: MAX(${describe(m)}) was not read`);
    if (m.max !== null && BigInt(m.max) > BIGINT_MAX) beyond.push(`${describe(m)} holds ${m.max}`);
    if (m.autoIncrement !== null && m.autoIncrement !== undefined && BigInt(m.autoIncrement) > BIGINT_MAX)
      beyond.push(`${describe(m)} continues at AUTO_INCREMENT ${m.autoIncrement}`);
  }
  if (beyond.length > 0)
    return { type: 'numeric(20)', reason: `BIGINT UNSIGNED values beyond bigint: ${beyond.join(', ')}` };
  return { type: 'bigint', reason: 'BIGINT UNSIGNED, every value (MAX) and AUTO_INCREMENT fit bigint' };
}

/** The decided types of created columns, per source table and column, with the report lines. */
export interface KeyTypePlan {
  /** source table → source column → PostgreSQL type. */
  types: Map<string, Map<string, string>>;
  /** One line per group whose type was changed, for the report. */
  notes: string[];
  warnings: string[];
}

/** MAX() of a column as exact text; MySQL reads it from an index when the column leads one (every FK column and key does). */
async function readMax(source: DataSource, table: string, column: string): Promise<string | null> {
  return withMysqlConnection(source, async (connection) => {
    const rows = await queryMysql<{ hi: string | null }[]>(
      connection,
      `SELECT CAST(MAX(${quoteMysql(column)}) AS CHAR) AS hi FROM ${quoteMysql(table)}`,
    );
    const hi = rows[0]?.hi;
    return hi === null || hi === undefined ? null : String(hi);
  });
}

/**
 * Decides the key types of the tables a run creates: every FK group, plus each lone
 * AUTO_INCREMENT column whose own mapping is no integer type (a BIGINT UNSIGNED id without
 * foreign keys), which then becomes a bigint identity only when its values fit.
 */
export async function planKeyTypes(
  source: DataSource,
  tables: readonly SourceTable[],
  options: {
    /** Source tables the run creates. */
    created: ReadonlySet<string>;
    /** Existing target tables by source table name (filled, or merely referenced). */
    existing: ReadonlyMap<string, TargetTable>;
    types: TypeMapOptions;
    /** Finds a source column in an existing target table (same rule as the copy). */
    findColumn: (target: TargetTable, sourceTable: string, column: string) => { formattedType: string } | undefined;
  },
): Promise<KeyTypePlan> {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const groups = findKeyGroups(tables);
  const grouped = new Set(groups.flat().map((m) => `${m.table}\u0000${m.column}`));
  for (const table of tables) {
    if (!options.created.has(table.name)) continue;
    for (const column of table.columns) {
      if (!column.autoIncrement || grouped.has(`${table.name}\u0000${column.name}`)) continue;
      const mapped = mapColumnType(column, options.types, table.name);
      if (!mapped.overridden && mapped.sql === 'numeric(20)') groups.push([{ table: table.name, column: column.name }]);
    }
  }
  const plan: KeyTypePlan = { types: new Map(), notes: [], warnings: [] };
  for (const group of groups) {
    const members: KeyMember[] = [];
    for (const ref of group) {
      const table = byName.get(ref.table)!;
      const column = table.columns.find((c) => c.name === ref.column)!;
      const target = options.existing.get(ref.table);
      const created = options.created.has(ref.table);
      // A table neither created nor in the target plays no part.
      if (!created && !target) continue;
      const mapped = mapColumnType(column, options.types, ref.table);
      members.push({
        ...ref,
        mapped: mapped.sql,
        overridden: Boolean(mapped.overridden),
        existing: created
          ? undefined
          : (options.findColumn(target!, ref.table, ref.column)?.formattedType ?? undefined),
        unsignedBigint: column.dataType === 'bigint' && column.unsigned,
        autoIncrement: column.autoIncrement ? table.autoIncrement : null,
      });
    }
    if (!members.some((m) => options.created.has(m.table))) continue;
    // Data is read only when the types alone cannot decide: the widest is numeric(20).
    const needsData =
      members.every((m) => m.existing === undefined && !m.overridden) &&
      members.some((m) => m.mapped === 'numeric(20)') &&
      members.every((m) => m.mapped in INTEGER_RANK);
    if (needsData) {
      for (const m of members) if (m.unsignedBigint) m.max = await readMax(source, m.table, m.column);
    }
    const decision = decideKeyType(members);
    if (decision.warning) plan.warnings.push(decision.warning);
    if (decision.type === null) continue;
    const changed = members.filter((m) => options.created.has(m.table) && m.mapped !== decision.type);
    for (const m of members) {
      if (!options.created.has(m.table)) continue;
      let columns = plan.types.get(m.table);
      if (!columns) {
        columns = new Map();
        plan.types.set(m.table, columns);
      }
      columns.set(m.column, decision.type);
    }
    // Reported when a type changed, or when the values had to be read to decide.
    if (changed.length > 0 || needsData) {
      plan.notes.push(`key type: ${members.map(describe).join(', ')} → ${decision.type} (${decision.reason})`);
    }
  }
  return plan;
}
