import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import type { SourceCatalog } from '../dialect/mysql/catalog.js';
import { rangeJobId, type RangeCounts } from '../state/job-ids.js';
import { DEFAULT_RANGE_BYTES, planKeyRanges, splitColumnOf, type KeyRange } from '../vocabulary/key-range.js';

/** Reads MIN and MAX of an integer key as exact decimal strings. */
async function readKeyBounds(source: DataSource, table: string, column: string): Promise<{ min: bigint | null; max: bigint | null }> {
  return withMysqlConnection(source, async (mysql) => {
    const rows = await queryMysql<{ lo: string | null; hi: string | null }[]>(
      mysql,
      `SELECT CAST(MIN(${quoteMysql(column)}) AS CHAR) AS lo, CAST(MAX(${quoteMysql(column)}) AS CHAR) AS hi FROM ${quoteMysql(table)}`,
    );
    const lo = rows[0]?.lo ?? null;
    const hi = rows[0]?.hi ?? null;
    return { min: lo === null ? null : BigInt(String(lo)), max: hi === null ? null : BigInt(String(hi)) };
  });
}

/**
 * Splits each big table with an integer key into key-range jobs (`rangeRows` estimated rows,
 * or DEFAULT_RANGE_BYTES, per job; 0 = never split): sets each such plan's `ranges` and
 * returns how many ranges each split table got (kept in the run's options).
 */
export async function planTableRanges(
  source: DataSource,
  catalog: SourceCatalog,
  planned: readonly { table: string; jobId: string; ranges?: (KeyRange & { jobId: string; column: string })[] | undefined }[],
  rangeRows: number,
): Promise<RangeCounts> {
  const rangeCounts: RangeCounts = {};
  for (const plan of planned) {
    const sourceTable = catalog.tables.find((t) => t.name === plan.table)!;
    const column = splitColumnOf(sourceTable);
    const bytes = sourceTable.dataBytes ?? 0;
    if (rangeRows <= 0 || column === null || (sourceTable.estimatedRows <= rangeRows && bytes <= DEFAULT_RANGE_BYTES)) continue;
    const { min, max } = await readKeyBounds(source, plan.table, column);
    const ranges = planKeyRanges(min, max, sourceTable.estimatedRows, rangeRows, bytes);
    if (ranges.length <= 1) continue;
    plan.ranges = ranges.map((r, i) => ({ ...r, column, jobId: rangeJobId(plan.jobId, i) }));
    rangeCounts[plan.table] = ranges.length;
  }
  return rangeCounts;
}
