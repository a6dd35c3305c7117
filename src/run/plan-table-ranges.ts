import type { DataSource } from 'typeorm';
import { mysqlWhere } from '../dialect/mysql/condition.js';
import { prepareSourceSession, queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { mysqlKeyRangeConditions } from '../dialect/mysql/key-range.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import type { SourceCatalog } from '../dialect/mysql/catalog.js';
import { rangeJobId, type RangeCounts } from '../state/job-ids.js';
import {
  DEFAULT_RANGE_BYTES,
  keyPartsOf,
  rangesFromBoundaries,
  rangeStride,
  unsplitReason,
  type KeyRange,
} from '../vocabulary/key-range.js';
import { encodeKeyBound, keyPartsLabel, type KeyPart } from '../core/key-range.js';

/** Rows counted under a `where` condition (one scan): the table's estimate says nothing about how many it keeps. */
async function countMatching(source: DataSource, table: string, where: string): Promise<number> {
  return withMysqlConnection(source, async (mysql) => {
    await prepareSourceSession(mysql);
    const rows = await queryMysql<{ n: number | string }[]>(
      mysql,
      `SELECT COUNT(*) AS n FROM ${quoteMysql(table)}${mysqlWhere([], where)}`,
    );
    return Number(rows[0]?.n ?? 0);
  });
}

/**
 * The boundary keys of a table's ranges, read from the data: every `stride`-th key in key
 * order, each found from the one before by `key >= previous ORDER BY key LIMIT 1 OFFSET stride`
 * (an index seek, then `stride` index entries stepped over inside the server; one key sent).
 * So each range holds `stride` rows when planned, whatever gaps the key has, and the whole
 * table costs one pass over its primary key index, in rows / stride queries.
 */
async function sampleKeyBoundaries(
  source: DataSource,
  table: string,
  parts: readonly KeyPart[],
  stride: number,
  where: string | undefined,
): Promise<string[]> {
  const order = parts.map((p) => quoteMysql(p.name)).join(', ');
  // Each key part as a bound's text: decimal for an integer, lower-case hex for bytes.
  const list = parts
    .map(
      (p, i) =>
        `${p.kind === 'binary' ? `LOWER(HEX(${quoteMysql(p.name)}))` : `CAST(${quoteMysql(p.name)} AS CHAR)`} AS k${i}`,
    )
    .join(', ');
  return withMysqlConnection(source, async (mysql) => {
    // The copy's session (time zone, SQL mode), so that a `where` reads the same rows.
    await prepareSourceSession(mysql);
    const boundaries: string[] = [];
    for (let from: string | null = null; ; ) {
      const { conditions, values } = mysqlKeyRangeConditions(parts, { from, to: null });
      const rows = await queryMysql<Record<string, unknown>[]>(
        mysql,
        `SELECT ${list} FROM ${quoteMysql(table)}${mysqlWhere(conditions, where)} ORDER BY ${order} LIMIT 1 OFFSET ${stride}`,
        values,
      );
      const next = rows[0];
      if (next === undefined) return boundaries;
      from = encodeKeyBound(
        parts,
        parts.map((_p, i) => String(next[`k${i}`])),
      );
      boundaries.push(from);
    }
  });
}

/**
 * Splits each big table with an integer or binary (or composite of those) primary key into key-range jobs of about equal rows
 * (`rangeRows` estimated rows, or DEFAULT_RANGE_BYTES, per job; 0 = never split), their
 * boundaries sampled from the data (sampleKeyBoundaries): sets each such plan's `ranges` and
 * returns how many ranges each split table got (kept in the run's options). A big table that
 * cannot be split gets `unsplit`, the reason `plan` prints. A table with a `where` condition
 * that the estimate makes a candidate is split by its matching rows (their bytes scaled alike).
 */
export async function planTableRanges(
  source: DataSource,
  catalog: SourceCatalog,
  planned: readonly {
    table: string;
    jobId: string;
    ranges?: (KeyRange & { jobId: string; column: string })[] | undefined;
    unsplit?: string | undefined;
  }[],
  rangeRows: number,
  where: Readonly<Record<string, string>> = {},
): Promise<RangeCounts> {
  const rangeCounts: RangeCounts = {};
  for (const plan of planned) {
    const sourceTable = catalog.tables.find((t) => t.name === plan.table)!;
    const bytes = sourceTable.dataBytes ?? 0;
    if (rangeRows <= 0 || (sourceTable.estimatedRows <= rangeRows && bytes <= DEFAULT_RANGE_BYTES)) continue;
    const reason = unsplitReason(sourceTable);
    if (reason !== null) {
      plan.unsplit = reason;
      continue;
    }
    const condition = where[plan.table];
    const rows =
      condition === undefined ? sourceTable.estimatedRows : await countMatching(source, plan.table, condition);
    const scaledBytes = Math.round((bytes * rows) / Math.max(1, sourceTable.estimatedRows));
    const stride = rangeStride(rows, rangeRows, scaledBytes);
    if (stride === null) continue;
    const parts = keyPartsOf(sourceTable)!;
    const boundaries = await sampleKeyBoundaries(source, plan.table, parts, stride, condition);
    if (boundaries.length === 0) continue;
    const ranges = rangesFromBoundaries(boundaries);
    const column = keyPartsLabel(parts);
    plan.ranges = ranges.map((r, i) => ({ ...r, column, jobId: rangeJobId(plan.jobId, i) }));
    rangeCounts[plan.table] = ranges.length;
  }
  return rangeCounts;
}
