import type { DataSource } from 'typeorm';
import { mysqlWhere } from '../dialect/mysql/condition.js';
import { prepareSourceSession, queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import type { SourceCatalog } from '../dialect/mysql/catalog.js';
import { rangeJobId, type RangeCounts } from '../state/job-ids.js';
import { DEFAULT_RANGE_BYTES, planKeyRanges, splitColumnOf, type KeyRange } from '../vocabulary/key-range.js';

/**
 * Reads MIN and MAX of an integer key as exact decimal strings. Under a `where` condition, of the
 * matching rows, with their exact count (one scan, in the copy's session time zone): the table's
 * estimate says nothing about how many rows a condition keeps.
 */
async function readKeyBounds(
  source: DataSource,
  table: string,
  column: string,
  where: string | undefined,
): Promise<{ min: bigint | null; max: bigint | null; rows?: number }> {
  return withMysqlConnection(source, async (mysql) => {
    await prepareSourceSession(mysql);
    const rows = await queryMysql<{ lo: string | null; hi: string | null; n?: number | string }[]>(
      mysql,
      `SELECT CAST(MIN(${quoteMysql(column)}) AS CHAR) AS lo, CAST(MAX(${quoteMysql(column)}) AS CHAR) AS hi${where === undefined ? '' : ', COUNT(*) AS n'} FROM ${quoteMysql(table)}${mysqlWhere([], where)}`,
    );
    const lo = rows[0]?.lo ?? null;
    const hi = rows[0]?.hi ?? null;
    const bounds = { min: lo === null ? null : BigInt(String(lo)), max: hi === null ? null : BigInt(String(hi)) };
    return where === undefined ? bounds : { ...bounds, rows: Number(rows[0]?.n ?? 0) };
  });
}

/**
 * Splits each big table with an integer key into key-range jobs (`rangeRows` estimated rows,
 * or DEFAULT_RANGE_BYTES, per job; 0 = never split): sets each such plan's `ranges` and
 * returns how many ranges each split table got (kept in the run's options). A table with a
 * `where` condition that the estimate makes a candidate is split by its matching rows: their
 * count and their key bounds (its bytes scaled alike).
 */
export async function planTableRanges(
  source: DataSource,
  catalog: SourceCatalog,
  planned: readonly {
    table: string;
    jobId: string;
    ranges?: (KeyRange & { jobId: string; column: string })[] | undefined;
  }[],
  rangeRows: number,
  where: Readonly<Record<string, string>> = {},
): Promise<RangeCounts> {
  const rangeCounts: RangeCounts = {};
  for (const plan of planned) {
    const sourceTable = catalog.tables.find((t) => t.name === plan.table)!;
    const column = splitColumnOf(sourceTable);
    const bytes = sourceTable.dataBytes ?? 0;
    if (rangeRows <= 0 || column === null || (sourceTable.estimatedRows <= rangeRows && bytes <= DEFAULT_RANGE_BYTES))
      continue;
    const { min, max, rows } = await readKeyBounds(source, plan.table, column, where[plan.table]);
    const estimated = rows ?? sourceTable.estimatedRows;
    const ranges = planKeyRanges(
      min,
      max,
      estimated,
      rangeRows,
      rows === undefined ? bytes : Math.round((bytes * rows) / Math.max(1, sourceTable.estimatedRows)),
    );
    if (ranges.length <= 1) continue;
    plan.ranges = ranges.map((r, i) => ({ ...r, column, jobId: rangeJobId(plan.jobId, i) }));
    rangeCounts[plan.table] = ranges.length;
  }
  return rangeCounts;
}
