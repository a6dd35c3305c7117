import type { DataSource } from 'typeorm';
import { PermanentError } from '../core/errors.js';
import { keyPartsLabel, type KeyPart, type KeyRange } from '../core/key-range.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { buildSelect } from '../dialect/mysql/select.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { copyPartLabel } from '../state/rejected-rows.js';
import { loadTablePair, type RunCatalog } from '../state/run-catalog.js';
import type { NulPolicy } from '../schema/nul-columns.js';
import type { ZeroDatePolicy } from '../vocabulary/type-families.js';
import { keyPartsOf } from '../vocabulary/key-range.js';
import type { NamingRules } from '../vocabulary/naming.js';
import { emptyAdjustments, type ColumnAdjustments } from '../vocabulary/adjustments.js';
import { matchColumns, type ColumnMatch } from '../vocabulary/column-pairs.js';
import { buildConverter, type ConvertOptions, type Converter } from './convert.js';

/**
 * What one table copy reads and writes, decided before a row moves: the paired columns with
 * their converters, the SELECT on the source, the COPY on the target, the part it owns.
 */

/** What to copy. */
export interface CopyTableInput {
  /** The run, so that rejected rows are recorded under it; without one they are only counted. */
  runId?: string | undefined;
  /** Which part of the table this copy is ('' or absent: the whole table). */
  part?: string | undefined;
  /** Source table name. */
  table: string;
  targetSchema: string;
  targetTable: string;
  /** Source columns to copy; undefined = all. */
  columns?: string[] | undefined;
  /** Rows per COPY batch. */
  batchSize: number;
  /** Bytes of COPY text per batch; default DEFAULT_BATCH_BYTES. */
  batchBytes?: number | undefined;
  /** One primary-key range (`from <= key < to`, null = unbounded) of a split table; absent = whole table. */
  range?: { column: string; from: string | null; to: string | null; count?: number } | undefined;
  /** `--nul` of the run: what a NUL character in text does. Default reject. */
  nul?: NulPolicy | undefined;
  /** `--zero-date` of the run: a zero date becomes NULL (default) or its row is rejected. */
  zeroDate?: ZeroDatePolicy | undefined;
  /** The run's `where` condition of this table (MySQL): only the rows matching it are copied. */
  where?: string | undefined;
  /** The run's renames and case: which target column each source column fills. Default: names kept. */
  naming?: NamingRules | undefined;
}

/** One source column matched to its target column, with the converter the copy writes it through. */
interface ColumnPair extends ColumnMatch {
  convert: Converter;
  /** What the converter had to change in this column's values. */
  adjustments: ColumnAdjustments;
}

/** How much a copy holds at once. */
export interface BatchLimits {
  /** Rows per batch. */
  batchRows: number;
  /** Bytes of COPY text per batch (and per chunk handed to the socket). */
  batchBytes: number;
}

/**
 * Bytes of COPY text a copy holds at once (and hands to the socket at a time), besides the
 * row being read: batches are bounded by this as well as by rows, so wide rows cannot add up.
 */
const DEFAULT_BATCH_BYTES = 2 * 1024 * 1024;

/** Everything a copy attempt needs to know about its table. */
export interface TableCopyPlan {
  /** The source table's name, for messages. */
  table: string;
  sourceTable: SourceTable;
  /** The columns copied (a column PostgreSQL computes is not). */
  pairs: ColumnPair[];
  selectSql: string;
  selectValues: string[];
  copySql: string;
  /** The target table, qualified. */
  target: string;
  /** `ONLY ` before the target in TRUNCATE and DELETE, or '' for a partitioned table (whose rows live in its partitions). */
  only: string;
  /** The key range a range job owns on the target (its key columns there, quoted); null: the whole table. */
  targetRange: { keys: string[]; parts: KeyPart[]; range: KeyRange } | null;
  limits: BatchLimits;
  /** The copy's label in `my2pg.rejected_rows.part`. */
  part: string;
  /** Rows the copy expects (the source's estimate, shared among the ranges of a split table; the whole table's even under a `where`). */
  estimatedRows: number;
}

/** The matched columns of a table, each with its converter. */
function pairColumns(
  source: SourceTable,
  target: TargetTable,
  only: readonly string[] | undefined,
  naming: NamingRules | undefined,
  convertOptions: ConvertOptions = {},
): ColumnPair[] {
  return matchColumns(source, target, only, naming).map((match) => {
    const adjustments = emptyAdjustments();
    return { ...match, convert: buildConverter(match.source, match.target, adjustments, convertOptions), adjustments };
  });
}

/** The COPY statement for the paired columns. */
function buildCopy(schema: string, table: string, pairs: readonly ColumnPair[]): string {
  return `COPY ${qualifyPg(schema, table)} (${pairs.map((p) => quotePg(p.target.name)).join(', ')}) FROM STDIN`;
}

/** PostgreSQL types a key range's bounds are written for, by the kind of key part. */
const PG_KEY_TYPES = { binary: /^bytea$/, integer: /^(smallint|integer|bigint|numeric(\(\d+(,\s*0)?\))?)$/ };

/**
 * A range job's key on both sides: the source's key parts (the table's primary key, as when the
 * run was planned) and their target columns, which must be copied and of a type the bounds
 * compare in alike (docs/key-ranges.md).
 */
function rangeKeyOf(
  table: string,
  sourceTable: SourceTable,
  pairs: readonly ColumnPair[],
  column: string,
): { keys: string[]; parts: KeyPart[] } {
  const parts = keyPartsOf(sourceTable);
  const fail = (why: string): never => {
    throw new PermanentError(
      `table ${table}: the key ${JSON.stringify(column)} of a range job ${why}; start a new run`,
      {
        table,
      },
    );
  };
  if (parts === null || keyPartsLabel(parts) !== column) return fail('is no longer the primary key');
  const keys = parts.map((part) => {
    const pair = pairs.find((p) => p.source.name === part.name) ?? fail(`(column ${part.name}) is not copied`);
    const type = pair.target.formattedType ?? '';
    if (!PG_KEY_TYPES[part.kind === 'binary' ? 'binary' : 'integer'].test(type))
      fail(`(column ${part.name}) becomes ${type} in PostgreSQL, which does not order its values as MySQL does`);
    return quotePg(pair.target.name);
  });
  return { keys, parts };
}

/** Reads the table's definitions (from the run's catalog when given) and plans its copy. */
export async function planTableCopy(
  source: DataSource,
  target: DataSource,
  input: CopyTableInput,
  catalog: RunCatalog | undefined,
): Promise<TableCopyPlan> {
  const { sourceTable, targetTable } = await loadTablePair(source, target, input, catalog);
  // Generated on both sides: PostgreSQL computes the value, so it is not copied.
  const pairs = pairColumns(sourceTable, targetTable, input.columns, input.naming, {
    nul: input.nul,
    zeroDate: input.zeroDate,
  }).filter((p) => !p.computed);
  const range = input.range;
  const rangeKey = range ? rangeKeyOf(input.table, sourceTable, pairs, range.column) : null;
  const select = buildSelect(
    sourceTable,
    pairs.map((p) => p.source),
    range && rangeKey ? { ...range, parts: rangeKey.parts } : undefined,
    input.where,
  );
  return {
    table: input.table,
    sourceTable,
    pairs,
    selectSql: select.sql,
    selectValues: select.values,
    copySql: buildCopy(input.targetSchema, targetTable.name, pairs),
    target: qualifyPg(input.targetSchema, targetTable.name),
    only: targetTable.partitioned ? '' : 'ONLY ',
    targetRange: range && rangeKey ? { ...rangeKey, range: { from: range.from, to: range.to } } : null,
    limits: {
      batchRows: Math.max(1, input.batchSize),
      batchBytes: Math.max(64 * 1024, input.batchBytes ?? DEFAULT_BATCH_BYTES),
    },
    // Rejected rows are replaced per part: a range job replaces only its own.
    part: input.part ?? (range ? copyPartLabel(range) : ''),
    estimatedRows: Math.max(0, Math.round(sourceTable.estimatedRows / Math.max(1, range?.count ?? 1))),
  };
}
