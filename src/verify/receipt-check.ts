import type { DataSource } from 'typeorm';
import { UsageError } from '../core/errors.js';
import { splitKeySpace } from '../vocabulary/key-range.js';
import type { NamingRules } from '../vocabulary/naming.js';
import { loadTablePair } from '../state/run-catalog.js';
import { checksumTable } from './checksum.js';
import type { RangeDigests, ReadSnapshot, ReceiptSide, TableChecksum } from './checksum-types.js';
import { rangeLabel, type Receipt, type ReceiptTable } from './receipt.js';

/** A range whose figures now differ from the receipt's, on one side. */
interface RangeDifference {
  range: string;
  side: 'mysql' | 'postgres';
  receipt: { rows: number; digest: string | null };
  now: { rows: number; digest: string | null };
}

/** One table re-checked against its receipt. */
export interface TableRecheck {
  table: string;
  /** Labels (`from..to`) of the ranges whose figures match on every side re-checked. */
  matched: string[];
  differences: RangeDifference[];
}

/** What to re-check, and where. */
export interface RecheckOptions {
  side: ReceiptSide;
  /** Only these tables (source names). */
  tables?: readonly string[];
  /** Only the range holding this key (of every table re-checked). */
  key?: bigint;
  log?: (line: string) => void;
}

/** The receipt's ranges of a table, keyed by label. */
function byLabel(ranges: readonly RangeDigests[]): Map<string, RangeDigests> {
  return new Map(ranges.map((r) => [rangeLabel(r), r]));
}

/** Compares the figures of every range either list holds, on the side(s) re-checked. */
export function compareRanges(
  expected: readonly RangeDigests[],
  found: readonly RangeDigests[],
  side: ReceiptSide,
): { matched: string[]; differences: RangeDifference[] } {
  const before = byLabel(expected);
  const now = byLabel(found);
  const labels = [...new Set([...before.keys(), ...now.keys()])];
  const matched: string[] = [];
  const differences: RangeDifference[] = [];
  const sides = side === 'both' ? (['mysql', 'postgres'] as const) : ([side] as const);
  for (const label of labels) {
    const b = before.get(label);
    const n = now.get(label);
    let equal = true;
    for (const s of sides) {
      const pick = (r: RangeDigests | undefined): { rows: number; digest: string | null } =>
        s === 'mysql'
          ? { rows: r?.sourceRows ?? 0, digest: r?.sourceDigest ?? null }
          : { rows: r?.targetRows ?? 0, digest: r?.targetDigest ?? null };
      const was = pick(b);
      const is = pick(n);
      if (was.rows !== is.rows || was.digest !== is.digest) {
        equal = false;
        differences.push({ range: label, side: s, receipt: was, now: is });
      }
    }
    if (equal) matched.push(label);
  }
  return { matched, differences };
}

/** The range of a table's receipt that holds `key` (by the receipt's cut, empty ranges too), with the key column to select it by. */
async function rangeOfKey(
  source: DataSource,
  target: DataSource,
  receipt: Receipt,
  table: ReceiptTable,
  key: bigint,
): Promise<{ column: string; from: string | null; to: string | null }> {
  if (table.split === null) return { column: '', from: null, to: null };
  const split = splitKeySpace(BigInt(table.split.min), BigInt(table.split.max), table.split.count);
  const range = split.range(split.indexOf(key));
  const { sourceTable } = await loadTablePair(source, target, {
    table: table.table,
    targetSchema: receipt.target.schema ?? 'public',
    targetTable: table.targetTable,
  });
  return { column: sourceTable.primaryKey[0]!, from: range.from, to: range.to };
}

/** Hashes one table in a receipt's ranges (or in ranges planned now), on the side(s) asked: digests only. */
export async function digestReceiptTable(
  source: DataSource,
  target: DataSource,
  at: { schema: string; naming: NamingRules | null },
  table: Pick<ReceiptTable, 'table' | 'targetTable' | 'columns' | 'where'> & {
    /** The receipt's ranges; undefined: planned from the data now (a new receipt). */
    split?: ReceiptTable['split'];
  },
  options: {
    side: ReceiptSide;
    range?: { column: string; from: string | null; to: string | null };
    snapshot?: ReadSnapshot;
  },
): Promise<TableChecksum> {
  return checksumTable(
    source,
    target,
    {
      table: table.table,
      targetSchema: at.schema,
      targetTable: table.targetTable,
      columns: table.columns ?? undefined,
      where: table.where ?? undefined,
      naming: at.naming ?? undefined,
      range: options.range && options.range.column !== '' ? options.range : undefined,
    },
    {
      ...(table.split === undefined ? {} : { split: table.split }),
      digestsOnly: true,
      side: options.side,
      ...(options.snapshot ? { snapshot: options.snapshot } : {}),
    },
  );
}

/**
 * Re-checks a (sealed) receipt: each table's ranges hashed again as the receipt cut them, on
 * MySQL, PostgreSQL or both, each range's rows and digest compared with the receipt's.
 */
export async function recheckReceipt(
  source: DataSource,
  target: DataSource,
  receipt: Receipt,
  options: RecheckOptions,
): Promise<TableRecheck[]> {
  const wanted = options.tables ? new Set(options.tables) : null;
  const tables = receipt.tables.filter((t) => wanted === null || wanted.has(t.table));
  if (wanted) {
    const unknown = [...wanted].filter((name) => !receipt.tables.some((t) => t.table === name));
    if (unknown.length > 0)
      throw new UsageError(
        `the receipt has no table ${unknown.join(', ')} (it has ${receipt.tables.map((t) => t.table).join(', ')})`,
      );
  }
  const results: TableRecheck[] = [];
  for (const table of tables) {
    const range = options.key === undefined ? undefined : await rangeOfKey(source, target, receipt, table, options.key);
    const at = { schema: receipt.target.schema ?? 'public', naming: receipt.naming };
    const check = await digestReceiptTable(source, target, at, table, {
      side: options.side,
      ...(range ? { range } : {}),
    });
    const expected = range ? table.ranges.filter((r) => rangeLabel(r) === rangeLabel(range)) : table.ranges;
    results.push({ table: table.table, ...compareRanges(expected, check.digests.ranges, options.side) });
  }
  return results;
}
