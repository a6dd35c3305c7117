import type { DataSource } from 'typeorm';
import type { KeyRange } from '../core/key-range.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { prepareSourceSession, queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { mysqlWhere } from '../dialect/mysql/condition.js';
import { mysqlKeyRangeConditions } from '../dialect/mysql/key-range.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { intersectKeyRanges, splitKeySpace, type KeySpaceSplit } from '../vocabulary/key-range.js';
import type { CheckedTable } from './checked-table.js';
import type { ChecksumOptions } from './checksum-types.js';

const WHOLE: KeyRange = { from: null, to: null };

/**
 * The key ranges a table is hashed in: its integer key space (inside a range job's part) cut by
 * splitKeySpace, or one range. Each row goes to its range by its key, in constant time.
 */
export class VerifyRanges {
  constructor(
    private readonly split: KeySpaceSplit | null,
    private readonly jobRange: KeyRange | null,
  ) {}

  /** The split as a receipt keeps it (null: one range). */
  describe(): { min: string; max: string; count: number } | null {
    return this.split?.describe() ?? null;
  }

  /** How many ranges are hashed per side. */
  get count(): number {
    return this.split?.count ?? 1;
  }

  /** The range of a row by its key (null: no integer key, or a NULL one). */
  rangeOf(key: number | bigint | null): number {
    return this.split === null || key === null ? 0 : this.split.indexOf(key);
  }

  /** The keys range `index` holds, kept inside the job's part (unsplit: the job's part, or every key). */
  keyRange(index: number): KeyRange {
    const range = this.split?.range(index) ?? WHOLE;
    return this.jobRange ? intersectKeyRanges(range, this.jobRange) : range;
  }

  /** Every key the verification reads: the job's part, or the whole table. */
  get all(): KeyRange {
    return this.jobRange ?? WHOLE;
  }
}

/**
 * Plans the ranges of a table with a single integer key: about one per `rangeKeys` key values,
 * more when the table's average row size says a range would exceed `rangeBytes`, at most 10,000.
 * A small table is one range without asking MySQL for its key bounds (a query per table counts
 * on a schema of hundreds).
 */
export async function planVerifyRanges(
  source: DataSource,
  table: CheckedTable,
  sourceTable: SourceTable,
  options: ChecksumOptions,
): Promise<VerifyRanges> {
  // A receipt's ranges, to re-check them as they were.
  if (options.split !== undefined)
    return new VerifyRanges(
      options.split === null
        ? null
        : splitKeySpace(BigInt(options.split.min), BigInt(options.split.max), options.split.count),
      table.jobRange,
    );
  const small =
    !table.jobRange && sourceTable.estimatedRows < 10_000 && (sourceTable.dataBytes ?? 0) < 16 * 1024 * 1024;
  if (!table.intKey || small) return new VerifyRanges(null, table.jobRange);
  const key = quoteMysql(table.intKey.source.name);
  const { conditions, values } = mysqlKeyRangeConditions(table.rangeKey!.parts, table.jobRange ?? WHOLE);
  // Bounds of the rows compared: under a `where`, of the matching ones (in the readers' session, whose time zone the condition's literals are read in).
  const where = mysqlWhere(conditions, table.mysql.where);
  const bounds = await withMysqlConnection(source, async (m) => {
    await prepareSourceSession(m);
    return queryMysql<{ lo: string | null; hi: string | null }[]>(
      m,
      `SELECT CAST(MIN(${key}) AS CHAR) AS lo, CAST(MAX(${key}) AS CHAR) AS hi FROM ${table.mysql.from}${where}`,
      values,
    );
  });
  const lo = bounds[0]?.lo;
  const hi = bounds[0]?.hi;
  if (lo === null || lo === undefined || hi === null || hi === undefined) return new VerifyRanges(null, table.jobRange);
  const min = BigInt(String(lo));
  const max = BigInt(String(hi));
  const keys = Number(max - min + 1n);
  // Ranges of wide rows hold fewer keys, so that one compared row by row stays small.
  const rowBytes = (sourceTable.dataBytes ?? 0) / Math.max(1, sourceTable.estimatedRows);
  const byKeys = Math.ceil(keys / Math.max(1, options.rangeKeys ?? 50_000));
  const byBytes = Math.ceil((keys * rowBytes) / (options.rangeBytes ?? 64 * 1024 * 1024));
  return new VerifyRanges(splitKeySpace(min, max, Math.min(10_000, Math.max(1, byKeys, byBytes))), table.jobRange);
}

/** The integer printed in buffer[start, end) (ASCII digits, maybe a sign): a number up to 15 digits, else a bigint. */
export function integerAt(buffer: Buffer, start: number, end: number): number | bigint {
  if (end - start <= 15) {
    let n = 0;
    let i = start;
    const negative = buffer[i] === 0x2d;
    if (negative) i += 1;
    for (; i < end; i += 1) n = n * 10 + (buffer[i]! - 0x30);
    return negative ? -n : n;
  }
  return BigInt(buffer.toString('latin1', start, end));
}
