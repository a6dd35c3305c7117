import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection, type SourceValue } from '../db/mysql.js';
import { withPgClient } from '../db/postgres.js';
import { qualifyPg, quoteMysql, quotePg } from '../db/quote.js';
import { loadTablePair, pairColumns } from '../copy/copy-table.js';
import { selectExpression } from '../schema/source-catalog.js';
import { canonicalRowText, mysqlRowTextExpression, pgRowTextExpression, rowCanonicalizerFor, rowKeyText, sqlCanonicalFor, type RowCanonicalizer, type SqlCanonical } from './canonical.js';
import { readPgRows } from './read-pg-rows.js';

/** What to verify. */
export interface ChecksumInput {
  table: string;
  targetSchema: string;
  targetTable: string;
  /** Source columns compared; undefined = all. */
  columns?: string[] | undefined;
  /** Keys (canonical key text, see rowKeyText) of rows rejected by the copy, with how many. */
  rejectedKeys?: ReadonlyMap<string, number> | undefined;
}

/** Tuning of a checksum verification. */
export interface ChecksumOptions {
  /** Key values per range of an integer primary key. Default 50,000. */
  rangeKeys?: number;
  /** Row differences listed per table (all are counted). Default 100. */
  maxListed?: number;
  /** Ranges compared row by row at most; beyond, only the range is reported. Default 50. */
  maxDrilledRanges?: number;
  /** Rows held per side when a table without an integer key is compared row by row. Default 1,000,000. */
  maxDrillRows?: number;
  /** Hash every column in JavaScript, none inside the databases. */
  noPushdown?: boolean;
}

/** A key range whose hashes differ, with the rows each side holds in it. */
export interface RangeMismatch {
  /** First key of the range (null: open below). */
  from: string | null;
  /** Last key of the range (null: open above). */
  to: string | null;
  sourceRows: number;
  targetRows: number;
}

/** One row that differs. */
export interface RowDifference {
  /** `missing` in the target, `extra` in the target, or `changed` values. */
  kind: 'missing' | 'extra' | 'changed';
  /** The primary key (or, for a table without one, the whole row). */
  key: Record<string, string | null>;
  /** Columns whose values differ (for `changed`). */
  columns?: string[];
}

/** The result of verifying one table by checksums. */
export interface TableChecksum {
  table: string;
  method: 'checksum';
  /** `verified`: equal; `rejected`: equal but for rows the copy rejected; `mismatch`. */
  status: 'verified' | 'rejected' | 'mismatch';
  sourceRows: number;
  targetRows: number;
  /** Key ranges hashed per side. */
  ranges: number;
  mismatchedRanges: RangeMismatch[];
  /** The first differences found (at most maxListed). */
  differences: RowDifference[];
  /** Every difference found in the ranges compared row by row. */
  differenceCount: number;
  /** Rows missing from the target because the copy rejected them (listed in my2pg.rejected_rows). */
  rejectedRows: number;
  /** Why the differences could not all be listed, when so. */
  note?: string;
  durationMs: number;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);

function displayValue(value: SourceValue | string): string | null {
  if (value === null) return null;
  return Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : String(value);
}

function keyDisplay(c: RowCanonicalizer, names: readonly string[], raw: readonly (SourceValue | string)[]): Record<string, string | null> {
  const key: Record<string, string | null> = {};
  const indexes = c.keyIndexes.length > 0 ? c.keyIndexes : names.map((_n, i) => i);
  for (const i of indexes) key[names[i]!] = displayValue(raw[i] ?? null);
  return key;
}

/**
 * Feeds text to a hash. Latin-1 text is hashed byte per character, other text as UTF-16 (both
 * far cheaper than encoding UTF-8); a tag in front keeps the two encodings apart.
 */
function updateHash(hash: Hash, text: string): void {
  const wide = /[^\u0000-\u00ff]/.test(text);
  hash.update(wide ? 'U' : 'L', 'latin1');
  hash.update(text, wide ? 'utf16le' : 'latin1');
}

/** Digests of the ranges of one side. Rows of a range arrive in key order on both sides. */
class RangeDigests {
  readonly ranges = new Map<number, { rows: number; hash: Hash | null; sum: bigint; pending: string }>();
  constructor(private readonly orderFree: boolean) {}

  add(range: number, values: readonly (string | null)[]): void {
    let r = this.ranges.get(range);
    if (!r) {
      // SHA-1 as a checksum (not a signature): the fastest of node's hashes on CPUs with SHA extensions.
      r = { rows: 0, hash: this.orderFree ? null : createHash('sha1'), sum: 0n, pending: '' };
      this.ranges.set(range, r);
    }
    r.rows += 1;
    if (this.orderFree) {
      // Without a key there is no common order: sum per-row hashes instead (mod 2^128).
      const h = hashOnce('sha1', canonicalRowText(values), 'buffer');
      r.sum = (r.sum + h.readBigUInt64BE(0) * 18446744073709551616n + h.readBigUInt64BE(8)) & ((1n << 128n) - 1n);
      return;
    }
    let text = r.pending;
    for (let i = 0; i < values.length; i += 1) {
      const v = values[i];
      text += v === null || v === undefined ? '-|' : v.length + '|' + v;
    }
    text += '\n';
    if (text.length > 65536) {
      updateHash(r.hash!, text);
      text = '';
    }
    r.pending = text;
  }

  finish(): Map<number, { rows: number; digest: string }> {
    const out = new Map<number, { rows: number; digest: string }>();
    for (const [range, r] of this.ranges) {
      if (r.hash) {
        updateHash(r.hash, r.pending);
        out.set(range, { rows: r.rows, digest: r.hash.digest('hex') });
      } else {
        out.set(range, { rows: r.rows, digest: r.sum.toString(16) });
      }
    }
    return out;
  }
}

/** What one pass reads on each side and how each read value becomes canonical text. */
interface Projection {
  mysqlList: string;
  pgList: string;
  fromMysql: ((value: SourceValue) => string | null)[];
  fromPg: ((text: string | null) => string | null)[];
  /** Where the (first) key column is among the values. */
  keyPosition: number;
}

/** Integer key ranges: [min + i*span, min + (i+1)*span - 1], the ends open. */
interface RangePlan {
  count: number;
  min: bigint;
  span: bigint;
  /** min and span as numbers when every key of the table is a safe integer (the fast path). */
  small: { min: number; span: number } | null;
}

function rangeOf(plan: RangePlan | null, keyText: string | null): number {
  if (!plan || plan.count === 1 || keyText === null) return 0;
  if (plan.small) {
    const k = Number(keyText);
    if (Number.isSafeInteger(k)) {
      const i = Math.floor((k - plan.small.min) / plan.small.span);
      return i < 0 ? 0 : i >= plan.count ? plan.count - 1 : i;
    }
  }
  const index = (BigInt(keyText) - plan.min) / plan.span;
  if (index < 0n) return 0;
  return index >= BigInt(plan.count) ? plan.count - 1 : Number(index);
}

function rangeBounds(plan: RangePlan | null, range: number): { from: bigint | null; to: bigint | null } {
  if (!plan) return { from: null, to: null };
  const from = range === 0 ? null : plan.min + BigInt(range) * plan.span;
  const to = range === plan.count - 1 ? null : plan.min + BigInt(range + 1) * plan.span - 1n;
  return { from, to };
}

/**
 * Verifies one table by content: reads every row on both sides independently (MySQL's values
 * as MySQL gives them, PostgreSQL's as PostgreSQL prints them), hashes the canonical rows per
 * primary-key range, and compares the ranges whose hashes differ row by row, so that a changed,
 * missing or extra value is reported by range and then by key.
 */
export async function checksumTable(source: DataSource, target: DataSource, input: ChecksumInput, options: ChecksumOptions = {}): Promise<TableChecksum> {
  const started = Date.now();
  const maxListed = options.maxListed ?? 100;
  const { sourceTable, targetTable } = await loadTablePair(source, target, { ...input, batchSize: 1 });
  const pairs = pairColumns(sourceTable, targetTable, input.columns);
  const canon = rowCanonicalizerFor(pairs, sourceTable.primaryKey);
  const keyPairs = canon.keyIndexes.map((i) => pairs[i]!);
  const intKey = keyPairs.length === 1 && INTEGER_TYPES.has(keyPairs[0]!.source.dataType);
  const orderFree = keyPairs.length === 0;
  const names = pairs.map((p) => p.source.name);

  const mysqlOrder = keyPairs
    .map((p) => (STRING_TYPES.has(p.source.dataType) ? `CONVERT(${quoteMysql(p.source.name)} USING utf8mb4) COLLATE utf8mb4_bin` : quoteMysql(p.source.name)))
    .join(', ');
  const pgOrder = keyPairs
    .map((p) => (p.target.category === 'S' || p.target.category === 'E' ? `${quotePg(p.target.name)}::text COLLATE "C"` : quotePg(p.target.name)))
    .join(', ');
  const mysqlFrom = quoteMysql(sourceTable.name);
  const pgFrom = qualifyPg(input.targetSchema, targetTable.name);

  let plan: RangePlan | null = null;
  if (intKey) {
    const key = quoteMysql(keyPairs[0]!.source.name);
    const bounds = await withMysqlConnection(source, (m) => queryMysql<{ lo: string | number | null; hi: string | number | null }[]>(m, `SELECT MIN(${key}) AS lo, MAX(${key}) AS hi FROM ${mysqlFrom}`));
    const lo = bounds[0]?.lo;
    const hi = bounds[0]?.hi;
    if (lo !== null && lo !== undefined && hi !== null && hi !== undefined) {
      const min = BigInt(lo);
      const width = BigInt(hi) - min + 1n;
      const rangeKeys = BigInt(Math.max(1, options.rangeKeys ?? 50_000));
      let count = (width + rangeKeys - 1n) / rangeKeys;
      if (count > 10_000n) count = 10_000n;
      if (count < 1n) count = 1n;
      const span = (width + count - 1n) / count;
      const safe = (n: bigint): boolean => n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER);
      plan = { count: Number(count), min, span, small: safe(min) && safe(BigInt(hi)) ? { min: Number(min), span: Number(span) } : null };
    }
  }

  const whereMysql = (range: number | null): { sql: string; values: unknown[] } => {
    if (range === null || !plan) return { sql: '', values: [] };
    const { from, to } = rangeBounds(plan, range);
    const key = quoteMysql(keyPairs[0]!.source.name);
    const parts: string[] = [];
    const values: unknown[] = [];
    if (from !== null) {
      parts.push(`${key} >= ?`);
      values.push(from.toString());
    }
    if (to !== null) {
      parts.push(`${key} <= ?`);
      values.push(to.toString());
    }
    return { sql: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', values };
  };
  const wherePg = (range: number | null): string => {
    if (range === null || !plan) return '';
    const { from, to } = rangeBounds(plan, range);
    const key = quotePg(keyPairs[0]!.target.name);
    // Bounds are BigInts computed here, never text from a database: safe to inline.
    const parts = [from !== null ? `${key} >= ${from.toString()}` : null, to !== null ? `${key} <= ${to.toString()}` : null].filter(Boolean);
    return parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
  };

  // Every column read and put in canonical form in JavaScript: for comparing rows one by one.
  const full: Projection = {
    mysqlList: pairs.map((p) => selectExpression(p.source)).join(', '),
    pgList: pairs.map((p, i) => canon.canonicals[i]!.pgExpression(quotePg(p.target.name))).join(', '),
    fromMysql: canon.canonicals.map((c) => c.fromMysql),
    fromPg: canon.canonicals.map((c) => c.fromPg),
    keyPosition: canon.keyIndexes[0] ?? 0,
  };
  // For the hashes: columns whose canonical text both databases can print themselves are joined
  // into one text inside each database; the rest, and the key, come as values.
  const utf8Target = ((await target.query('SHOW server_encoding')) as { server_encoding: string }[])[0]?.server_encoding === 'UTF8';
  const pushed: { index: number; sql: SqlCanonical }[] = [];
  const streamed: number[] = [];
  pairs.forEach((p, i) => {
    const sql = utf8Target && !options.noPushdown && !canon.keyIndexes.includes(i) ? sqlCanonicalFor(p.source, p.target) : null;
    if (sql) pushed.push({ index: i, sql });
    else streamed.push(i);
  });
  const identity = (v: SourceValue): string | null => (v === null ? null : String(v));
  const rowParts = pushed.map((x) => ({ sql: x.sql, mysqlColumn: quoteMysql(pairs[x.index]!.source.name), pgColumn: quotePg(pairs[x.index]!.target.name) }));
  const hashing: Projection =
    pushed.length === 0
      ? full
      : {
          mysqlList: [
            ...streamed.map((i) => selectExpression(pairs[i]!.source)),
            mysqlRowTextExpression(rowParts),
          ].join(', '),
          pgList: [
            ...streamed.map((i) => canon.canonicals[i]!.pgExpression(quotePg(pairs[i]!.target.name))),
            pgRowTextExpression(rowParts),
          ].join(', '),
          fromMysql: [...streamed.map((i) => canon.canonicals[i]!.fromMysql), identity],
          fromPg: [...streamed.map((i) => canon.canonicals[i]!.fromPg), (t: string | null) => t],
          keyPosition: Math.max(0, streamed.indexOf(canon.keyIndexes[0] ?? -1)),
        };

  /** Streams one side's rows (canonical values plus raw values for display) to `onRow`. */
  const readMysql = async (projection: Projection, range: number | null, onRow: (values: (string | null)[], raw: SourceValue[]) => boolean | void): Promise<void> => {
    await withMysqlConnection(source, async (m) => {
      await queryMysql(m, "SET SESSION time_zone = '+00:00'");
      await queryMysql(m, 'SET SESSION net_write_timeout = 3600');
      await queryMysql(m, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const where = whereMysql(range);
      const sql = `SELECT ${projection.mysqlList} FROM ${mysqlFrom}${where.sql}${mysqlOrder ? ` ORDER BY ${mysqlOrder}` : ''}`;
      // Rows are handled as the driver parses them (no promise per row); the socket is read
      // only as fast as this handler runs, so memory stays bounded.
      const convert = projection.fromMysql;
      const values = new Array<string | null>(convert.length);
      await new Promise<void>((resolve, reject) => {
        let failure: unknown;
        const query = m.query({ sql, values: where.values, rowsAsArray: true });
        query.on('result', (row: unknown) => {
          if (failure !== undefined) return;
          try {
            const raw = row as SourceValue[];
            for (let i = 0; i < values.length; i += 1) values[i] = convert[i]!(raw[i] ?? null);
            if (onRow(values, raw) === false) failure = null;
          } catch (error) {
            failure = error;
          }
        });
        query.on('error', reject);
        query.on('end', () => (failure ? reject(failure) : resolve()));
      });
      await queryMysql(m, 'COMMIT');
    });
  };
  const readPg = async (projection: Projection, range: number | null, onRow: (values: (string | null)[], raw: (string | null)[]) => boolean | void): Promise<void> => {
    await withPgClient(target, async (client) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query("SET LOCAL timezone = 'UTC'");
      await client.query("SET LOCAL datestyle = 'ISO, YMD'");
      await client.query("SET LOCAL intervalstyle = 'postgres'");
      await client.query('SET LOCAL extra_float_digits = 1');
      await client.query("SET LOCAL bytea_output = 'hex'");
      const sql = `SELECT ${projection.pgList} FROM ${pgFrom}${wherePg(range)}${pgOrder ? ` ORDER BY ${pgOrder}` : ''}`;
      let stopped = false;
      const convert = projection.fromPg;
      const values = new Array<string | null>(convert.length);
      for await (const batch of readPgRows(client, sql)) {
        if (stopped) continue;
        for (const raw of batch) {
          for (let i = 0; i < values.length; i += 1) values[i] = convert[i]!(raw[i] ?? null);
          if (onRow(values, raw) === false) {
            stopped = true;
            break;
          }
        }
      }
      await client.query('COMMIT');
    });
  };

  // Pass 1: per-range digests, each side on its own connection, both at once.
  const sourceDigests = new RangeDigests(orderFree);
  const targetDigests = new RangeDigests(orderFree);
  const keyIndex = hashing.keyPosition;
  await Promise.all([
    readMysql(hashing, null, (values) => sourceDigests.add(rangeOf(plan, intKey ? values[keyIndex] ?? null : null), values)),
    readPg(hashing, null, (values) => targetDigests.add(rangeOf(plan, intKey ? values[keyIndex] ?? null : null), values)),
  ]);
  const sourceRanges = sourceDigests.finish();
  const targetRanges = targetDigests.finish();
  let sourceRows = 0;
  let targetRows = 0;
  for (const r of sourceRanges.values()) sourceRows += r.rows;
  for (const r of targetRanges.values()) targetRows += r.rows;

  const mismatched = [...new Set([...sourceRanges.keys(), ...targetRanges.keys()])]
    .filter((r) => sourceRanges.get(r)?.digest !== targetRanges.get(r)?.digest)
    .sort((a, b) => a - b);
  const mismatchedRanges: RangeMismatch[] = mismatched.map((r) => {
    const { from, to } = rangeBounds(plan, r);
    return { from: from?.toString() ?? null, to: to?.toString() ?? null, sourceRows: sourceRanges.get(r)?.rows ?? 0, targetRows: targetRanges.get(r)?.rows ?? 0 };
  });

  // Pass 2: the ranges that differ, row by row.
  const differences: RowDifference[] = [];
  let differenceCount = 0;
  let rejectedRows = 0;
  let note: string | undefined;
  const rejectedLeft = new Map(input.rejectedKeys ?? []);
  const record = (d: RowDifference): void => {
    differenceCount += 1;
    if (differences.length < maxListed) differences.push(d);
  };
  const maxDrilled = options.maxDrilledRanges ?? 50;
  const maxRows = intKey ? Number.POSITIVE_INFINITY : options.maxDrillRows ?? 1_000_000;
  for (const [n, range] of mismatched.entries()) {
    if (n >= maxDrilled) {
      note = `${mismatched.length - maxDrilled} more ranges differ and were not compared row by row`;
      break;
    }
    if (!intKey && sourceRows + targetRows > 2 * maxRows) {
      note = `the table has no integer primary key and more than ${maxRows} rows, so its differences are not listed row by row`;
      break;
    }
    const held = new Map<string, { values: (string | null)[]; raw: SourceValue[]; count: number }>();
    await readMysql(full, plan ? range : null, (values, raw) => {
      const key = rowKeyText(canon, values);
      const seen = held.get(key);
      if (seen) seen.count += 1;
      else held.set(key, { values: [...values], raw: [...raw], count: 1 });
    });
    await readPg(full, plan ? range : null, (values, raw) => {
      const key = rowKeyText(canon, values);
      const seen = held.get(key);
      if (!seen) {
        record({ kind: 'extra', key: keyDisplay(canon, names, raw) });
        return;
      }
      const changed = pairs.filter((_p, i) => seen.values[i] !== values[i]).map((p) => p.source.name);
      if (changed.length > 0) record({ kind: 'changed', key: keyDisplay(canon, names, seen.raw), columns: changed });
      seen.count -= 1;
      if (seen.count === 0) held.delete(key);
    });
    for (const [key, row] of held) {
      for (let i = 0; i < row.count; i += 1) {
        const rejected = rejectedLeft.get(key) ?? 0;
        if (rejected > 0) {
          rejectedLeft.set(key, rejected - 1);
          rejectedRows += 1;
        } else {
          record({ kind: 'missing', key: keyDisplay(canon, names, row.raw) });
        }
      }
    }
  }
  if (note !== undefined && differenceCount === 0 && rejectedRows === 0 && hashing !== full) {
    // Every range compared row by row was equal, so the databases' own forms of some column
    // must disagree where the values agree: check again with every column in JavaScript.
    return checksumTable(source, target, input, { ...options, noPushdown: true });
  }
  const allCompared = note === undefined;
  const status: TableChecksum['status'] =
    mismatched.length === 0 ? 'verified' : allCompared && differenceCount === 0 ? (rejectedRows > 0 ? 'rejected' : 'verified') : 'mismatch';
  return {
    table: input.table,
    method: 'checksum',
    status,
    sourceRows,
    targetRows,
    ranges: plan?.count ?? 1,
    mismatchedRanges,
    differences,
    differenceCount,
    rejectedRows,
    ...(note ? { note } : {}),
    durationMs: Date.now() - started,
  };
}
