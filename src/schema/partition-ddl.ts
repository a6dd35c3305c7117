import type { SourceTable } from '../dialect/mysql/catalog.js';
import type { SourcePartitioning } from '../dialect/mysql/partitions.js';
import { literalPg, qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { IdentifierAllocator } from '../vocabulary/identifiers.js';

/**
 * MySQL partitioning as PostgreSQL declarative partitioning, with the same bounds: RANGE and
 * RANGE COLUMNS become `PARTITION BY RANGE` (`VALUES LESS THAN` as `FROM (previous) TO
 * (bound)`, MAXVALUE as MAXVALUE), LIST and single-column LIST COLUMNS `PARTITION BY LIST`
 * (NULL included), HASH and KEY (LINEAR too) `PARTITION BY HASH` with one partition per MySQL
 * partition (MODULUS n, REMAINDER i; PostgreSQL's hash places rows its own way). What
 * PostgreSQL cannot express stays a plain table, with the reason: a key that is an expression,
 * subpartitions, a primary key or UNIQUE index without every partition column, a nullable
 * RANGE column (MySQL keeps NULL in the first partition; no PostgreSQL range takes it), LIST
 * over several columns.
 */

/** `--partitions`: `keep` partitioned tables partitioned where PostgreSQL can express the scheme, or `flatten` them. */
export type PartitionMode = 'keep' | 'flatten';

/** What becomes of one table's partitioning. */
export interface PartitionPlan {
  /** Appended to CREATE TABLE: ` PARTITION BY RANGE ("id")`; empty for a plain table. */
  clause: string;
  /** One CREATE TABLE … PARTITION OF … per partition, in MySQL's order. */
  statements: string[];
  /** Report line when kept. */
  note?: string;
  /** Why a partitioned MySQL table becomes a plain one (plan and report warnings). */
  fallback?: string;
}

/** Splits `a,'b,c',MAXVALUE` at the commas outside quotes; MySQL doubles a quote inside a string. */
function splitValues(description: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < description.length; i += 1) {
    const ch = description[i]!;
    if (ch === "'") {
      if (quoted && description[i + 1] === "'") {
        current += "''";
        i += 1;
        continue;
      }
      quoted = !quoted;
    }
    if (ch === ',' && !quoted) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out;
}

/** A value of a bound as PostgreSQL takes it: numbers, NULL and MAXVALUE as they are, MySQL strings as PostgreSQL literals. */
function boundValue(value: string): string {
  const quoted = /^_?[a-z0-9]*'((?:[^']|'')*)'$/i.exec(value);
  if (quoted) return literalPg((quoted[1] ?? '').replace(/''/g, "'"));
  if (/^(MAXVALUE|NULL|-?\d+(\.\d+)?)$/i.test(value)) return value.toUpperCase();
  throw new Error(`the partition bound ${value} is not a value my2pg can read`);
}

/** The partition key's columns when it is a list of bare columns (`` `a`,`b` ``), else null (an expression). */
function keyColumns(partitioning: SourcePartitioning, table: SourceTable): string[] | null {
  const expression = partitioning.expression.trim();
  if (expression === '' && /KEY$/.test(partitioning.method))
    return table.primaryKey.length > 0 ? table.primaryKey : null;
  const columns = expression.split(',').map((part) => /^`((?:[^`]|``)+)`$/.exec(part.trim())?.[1]?.replace(/``/g, '`'));
  return columns.every((c) => c !== undefined) ? (columns as string[]) : null;
}

/** Why PostgreSQL cannot hold this table's partitioning as it is, or null when it can. */
function refusalOf(partitioning: SourcePartitioning, table: SourceTable, columns: string[] | null): string | null {
  if (partitioning.subpartitioned)
    return 'it has subpartitions, which PostgreSQL declarative partitioning has no form for';
  if (columns === null)
    return partitioning.expression.trim() === ''
      ? 'it is partitioned BY KEY () without a primary key'
      : `its partition key ${partitioning.expression} is an expression, not columns (PostgreSQL would refuse a PRIMARY KEY or UNIQUE over it)`;
  const keys = [
    ...(table.primaryKey.length > 0 ? [{ name: 'PRIMARY KEY', columns: table.primaryKey }] : []),
    ...table.indexes.filter((i) => i.unique).map((i) => ({ name: `UNIQUE ${i.name}`, columns: i.columns })),
  ];
  const lacking = keys.find((k) => !columns.every((c) => k.columns.includes(c)));
  if (lacking) return `its ${lacking.name} does not include every partition column (${columns.join(', ')})`;
  if (/^RANGE/.test(partitioning.method)) {
    const nullable = columns.find((c) => table.columns.find((col) => col.name === c)?.nullable);
    if (nullable)
      return `its RANGE column ${nullable} is nullable: MySQL keeps NULL in the first partition, no PostgreSQL range partition takes NULL`;
  }
  if (/^LIST/.test(partitioning.method) && columns.length > 1)
    return `it is LIST partitioned over ${columns.length} columns; PostgreSQL lists by one`;
  return null;
}

/** The partitioning of a created table as PostgreSQL DDL, or the reason it becomes a plain table. */
export function planPartitions(
  table: SourceTable,
  options: {
    mode: PartitionMode;
    schema: string;
    targetName: string;
    targetColumn: (column: string) => string;
    /** Names given so far in the target schema: each partition takes a relation name. */
    names: IdentifierAllocator;
    /** The run's identifier case, applied to each partition's name. */
    caseOf?: (name: string) => string;
  },
): PartitionPlan {
  const partitioning = table.partitioning;
  if (!partitioning) return { clause: '', statements: [] };
  const count = partitioning.partitions.length;
  const scheme = `${partitioning.method} (${partitioning.expression || 'primary key'}), ${count} partition${count === 1 ? '' : 's'}`;
  if (options.mode === 'flatten')
    return { clause: '', statements: [], fallback: `partitioned by ${scheme}; a plain table (--partitions flatten)` };
  const columns = keyColumns(partitioning, table);
  const refusal = refusalOf(partitioning, table, columns);
  if (refusal !== null || columns === null)
    return { clause: '', statements: [], fallback: `partitioned by ${scheme}; a plain table: ${refusal}` };
  const kind = /^RANGE/.test(partitioning.method) ? 'RANGE' : /^LIST/.test(partitioning.method) ? 'LIST' : 'HASH';
  const parent = qualifyPg(options.schema, options.targetName);
  const bounds: string[] = [];
  try {
    let from = columns.map(() => 'MINVALUE');
    partitioning.partitions.forEach((partition, i) => {
      const values = kind === 'HASH' ? [] : splitValues(partition.description ?? '').map(boundValue);
      if (kind === 'RANGE') {
        bounds.push(`FROM (${from.join(', ')}) TO (${values.join(', ')})`);
        from = values;
      } else if (kind === 'LIST') bounds.push(`IN (${values.join(', ')})`);
      else bounds.push(`WITH (MODULUS ${partitioning.partitions.length}, REMAINDER ${i})`);
    });
  } catch (error) {
    return {
      clause: '',
      statements: [],
      fallback: `partitioned by ${scheme}; a plain table: ${(error as Error).message}`,
    };
  }
  const statements = partitioning.partitions.map((partition, i) => {
    const wanted = `${options.targetName}_${partition.name}`;
    const name = options.names.allocate('relation', options.caseOf ? options.caseOf(wanted) : wanted);
    options.names.reserve('type', name);
    return `CREATE TABLE ${qualifyPg(options.schema, name)} PARTITION OF ${parent} FOR VALUES ${bounds[i]}`;
  });
  return {
    clause: ` PARTITION BY ${kind} (${columns.map((c) => quotePg(options.targetColumn(c))).join(', ')})`,
    statements,
    note: `table ${table.name}: partitioned by ${scheme} → PARTITION BY ${kind} with the same ${kind === 'HASH' ? 'number of partitions' : 'bounds'}`,
  };
}

/** What becomes of a table's partitioning, in one line (the plan's `partitioning`); undefined for a plain MySQL table. */
export function describePartitioning(table: SourceTable, mode: PartitionMode): string | undefined {
  if (!table.partitioning) return undefined;
  const plan = planPartitions(table, {
    mode,
    schema: '',
    targetName: table.name,
    targetColumn: (c) => c,
    names: new IdentifierAllocator(),
  });
  return plan.note ?? `table ${table.name}: ${plan.fallback ?? ''}`;
}
