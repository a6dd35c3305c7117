import type { DataSource } from 'typeorm';
import { prepareSourceSession, queryMysql, withMysqlConnection, type SourceValue } from '../dialect/mysql/connection.js';
import { BINARY_CHARSET, decodeRawField, queryRawRows, splitRawRow, ZeroBytes, type RawField } from '../dialect/mysql/raw-rows.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { selectExpression } from '../dialect/mysql/catalog.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { rowCanonicalizerFor, rowKeyText, type RowCanonicalizer } from '../vocabulary/canonical.js';
import { digestFormFor, pgValueExpression } from '../vocabulary/canonical/digest-forms.js';
import { readPgBinaryRows } from '../dialect/postgres/read-copy-binary.js';
import { FramedHasher, RangeDigests } from './row-digest.js';
import { loadTablePair } from '../state/run-catalog.js';
import { matchColumns } from '../vocabulary/column-pairs.js';
import { ENUM_SET_TYPES, INTEGER_TYPES, TEXT_TYPES } from '../vocabulary/type-families.js';

/** What to verify. */
export interface ChecksumInput {
  table: string;
  targetSchema: string;
  targetTable: string;
  /** Source columns compared; undefined = all. */
  columns?: string[] | undefined;
  /** Keys (canonical key text, see rowKeyText) of rows rejected by the copy, with how many. */
  rejectedKeys?: ReadonlyMap<string, number> | undefined;
  /** Only this range of a single-column integer key (`from <= key < to`, null = open): a range job's part. */
  range?: { column: string; from: string | null; to: string | null } | undefined;
  /** The run's table definitions, read once per run (absent: read this table's from both databases). */
  catalog?: RunCatalog | undefined;
}

/** Tuning of a checksum verification. */
export interface ChecksumOptions {
  /** Key values per range of an integer primary key. Default 50,000. */
  rangeKeys?: number;
  /** Estimated bytes per range (from the table's average row size), when that gives more ranges. Default 64 MB. */
  rangeBytes?: number;
  /** Row differences listed per table (all are counted). Default 100. */
  maxListed?: number;
  /** Ranges compared row by row at most; beyond, only the range is reported. Default 50. */
  maxDrilledRanges?: number;
  /** Rows held (key and hash) when a table without an integer key is compared row by row. Default 1,000,000. */
  maxDrillRows?: number;
  /** Bytes of keys and hashes held when a range is compared row by row. Default 64 MB. */
  maxDrillBytes?: number;
  /** Read every column as a value put in canonical form here, none as bytes. */
  allValues?: boolean;
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

const STRING_TYPES = new Set([...TEXT_TYPES, ...ENUM_SET_TYPES]);
/** Largest value put in canonical form as JavaScript text (bigger ones of the byte-compared types are hashed as bytes). */
const MAX_VALUE_BYTES = 64 * 1024 * 1024;
/** The target table's alias in verification queries. */
const PG_ALIAS = 'my2pg_row';
/** Longest text shown of one key value in a difference. */
const MAX_SHOWN = 200;

function displayValue(value: SourceValue | string): string | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return `0x${value.subarray(0, MAX_SHOWN >>> 1).toString('hex')}${value.length > MAX_SHOWN >>> 1 ? '…' : ''}`;
  const text = String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** Integer key ranges: [min + i*span, min + (i+1)*span - 1], the ends open. */
interface RangePlan {
  count: number;
  min: bigint;
  span: bigint;
  /** min and span as numbers when every key of the table is a safe integer (the fast path). */
  small: { min: number; span: number } | null;
}

/** The integer printed in buffer[start, end) (ASCII digits, maybe a sign). */
function integerAt(buffer: Buffer, start: number, end: number): number | bigint {
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

function rangeOf(plan: RangePlan | null, key: number | bigint | null): number {
  if (!plan || plan.count === 1 || key === null) return 0;
  if (plan.small && typeof key === 'number') {
    const i = Math.floor((key - plan.small.min) / plan.small.span);
    return i < 0 ? 0 : i >= plan.count ? plan.count - 1 : i;
  }
  const index = (BigInt(key) - plan.min) / plan.span;
  if (index < 0n) return 0;
  return index >= BigInt(plan.count) ? plan.count - 1 : Number(index);
}

function rangeBounds(plan: RangePlan | null, range: number): { from: bigint | null; to: bigint | null } {
  if (!plan) return { from: null, to: null };
  const from = range === 0 ? null : plan.min + BigInt(range) * plan.span;
  const to = range === plan.count - 1 ? null : plan.min + BigInt(range + 1) * plan.span - 1n;
  return { from, to };
}

function hasNul(source: Buffer, start: number, end: number): boolean {
  if (end - start > 64) return source.subarray(start, end).indexOf(0) >= 0;
  for (let i = start; i < end; i += 1) if (source[i] === 0) return true;
  return false;
}

/** MySQL's zero dates ('0000-…', month 00, day 00) in its printed bytes: NULL in canonical form. */
function isZeroDateText(source: Buffer, start: number, end: number): boolean {
  if (end - start < 10) return false;
  if (source[start] === 0x30 && source[start + 1] === 0x30 && source[start + 2] === 0x30 && source[start + 3] === 0x30) return true;
  return (source[start + 5] === 0x30 && source[start + 6] === 0x30) || (source[start + 8] === 0x30 && source[start + 9] === 0x30);
}

/** The end of MySQL's timestamp text without its fraction's trailing zeros (nor a bare point). */
function withoutTrailingZeros(source: Buffer, start: number, end: number): number {
  if (end - start <= 19) return end;
  while (end > start + 19 && source[end - 1] === 0x30) end -= 1;
  return source[end - 1] === 0x2e ? end - 1 : end;
}

/** How each side's bytes of a column become canonical bytes. */
const BYTES = 0;
const DATE = 1;
const TEXT = 2;
const VALUE = 3;
const TIMESTAMP = 4;

/** Stops a row-by-row read that would hold more than its bound. */
class DrillOverflow extends Error {}

/**
 * Verifies one table by content: reads every row on both sides independently (MySQL's values
 * as MySQL sends them, PostgreSQL's as PostgreSQL prints them), hashes the canonical rows per
 * primary-key range, and compares the ranges whose hashes differ row by row, so that a changed,
 * missing or extra value is reported by range and then by key. Both passes hold hashes, never
 * rows, so memory is bounded whatever the width or size of the rows.
 */
export async function checksumTable(source: DataSource, target: DataSource, input: ChecksumInput, options: ChecksumOptions = {}): Promise<TableChecksum> {
  const started = Date.now();
  const maxListed = options.maxListed ?? 100;
  const { sourceTable, targetTable } = await loadTablePair(source, target, input, input.catalog);
  const pairs = matchColumns(sourceTable, targetTable, input.columns);
  const width = pairs.length;
  const canon = rowCanonicalizerFor(pairs, sourceTable.primaryKey);
  const keyPairs = canon.keyIndexes.map((i) => pairs[i]!);
  const intKey = keyPairs.length === 1 && INTEGER_TYPES.has(keyPairs[0]!.source.dataType);
  const orderFree = keyPairs.length === 0;
  const keyPosition = canon.keyIndexes[0] ?? -1;
  const jobRange = input.range && intKey && input.range.column === keyPairs[0]!.source.name ? input.range : undefined;
  if (input.range && !jobRange) throw new Error(`table ${input.table}: a key range needs the single integer primary key ${JSON.stringify(input.range.column)}`);

  const mysqlOrder = keyPairs
    .map((p) => (STRING_TYPES.has(p.source.dataType) ? `CONVERT(${quoteMysql(p.source.name)} USING utf8mb4) COLLATE utf8mb4_bin` : quoteMysql(p.source.name)))
    .join(', ');
  // Qualified: the select list prints the key as text under the same name, and ORDER BY would take that.
  const pgOrder = keyPairs
    .map((p) => `${PG_ALIAS}.${quotePg(p.target.name)}${p.target.category === 'S' || p.target.category === 'E' ? '::text COLLATE "C"' : ''}`)
    .join(', ');
  const mysqlFrom = quoteMysql(sourceTable.name);
  const pgFrom = `${qualifyPg(input.targetSchema, targetTable.name)} AS ${PG_ALIAS}`;
  const keyMysql = intKey ? quoteMysql(keyPairs[0]!.source.name) : '';
  const keyPg = intKey ? `${PG_ALIAS}.${quotePg(keyPairs[0]!.target.name)}` : '';
  const keyCast = intKey && keyPairs[0]!.source.unsigned ? 'UNSIGNED' : 'SIGNED';

  // The job's part of the key space (bound values: text cast to the key's signedness, as the copy does).
  const jobMysql: { parts: string[]; values: string[] } = { parts: [], values: [] };
  const jobPg: string[] = [];
  if (jobRange?.from != null) {
    jobMysql.parts.push(`${keyMysql} >= CAST(? AS ${keyCast})`);
    jobMysql.values.push(jobRange.from);
    jobPg.push(`${keyPg} >= ${BigInt(jobRange.from).toString()}`);
  }
  if (jobRange?.to != null) {
    jobMysql.parts.push(`${keyMysql} < CAST(? AS ${keyCast})`);
    jobMysql.values.push(jobRange.to);
    jobPg.push(`${keyPg} < ${BigInt(jobRange.to).toString()}`);
  }

  let plan: RangePlan | null = null;
  // A small table is one range: no need to ask MySQL for its key bounds (a query per table counts on a schema of hundreds).
  const small = !jobRange && sourceTable.estimatedRows < 10_000 && (sourceTable.dataBytes ?? 0) < 16 * 1024 * 1024;
  if (intKey && !small) {
    const where = jobMysql.parts.length > 0 ? ` WHERE ${jobMysql.parts.join(' AND ')}` : '';
    const bounds = await withMysqlConnection(source, (m) =>
      queryMysql<{ lo: string | null; hi: string | null }[]>(m, `SELECT CAST(MIN(${keyMysql}) AS CHAR) AS lo, CAST(MAX(${keyMysql}) AS CHAR) AS hi FROM ${mysqlFrom}${where}`, jobMysql.values),
    );
    const lo = bounds[0]?.lo;
    const hi = bounds[0]?.hi;
    if (lo !== null && lo !== undefined && hi !== null && hi !== undefined) {
      const min = BigInt(String(lo));
      const span0 = BigInt(String(hi)) - min + 1n;
      const rangeKeys = BigInt(Math.max(1, options.rangeKeys ?? 50_000));
      // Ranges of wide rows hold fewer keys, so that one compared row by row stays small.
      const rowBytes = (sourceTable.dataBytes ?? 0) / Math.max(1, sourceTable.estimatedRows);
      const byBytes = BigInt(Math.ceil((Number(span0) * rowBytes) / (options.rangeBytes ?? 64 * 1024 * 1024)));
      let count = (span0 + rangeKeys - 1n) / rangeKeys;
      if (byBytes > count) count = byBytes;
      if (count > 10_000n) count = 10_000n;
      if (count < 1n) count = 1n;
      const span = (span0 + count - 1n) / count;
      const safe = (n: bigint): boolean => n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER);
      plan = { count: Number(count), min, span, small: safe(min) && safe(BigInt(String(hi))) ? { min: Number(min), span: Number(span) } : null };
    }
  }

  const whereMysql = (range: number | null): { sql: string; values: unknown[] } => {
    const parts = [...jobMysql.parts];
    const values: unknown[] = [...jobMysql.values];
    if (range !== null && plan) {
      const { from, to } = rangeBounds(plan, range);
      if (from !== null) {
        parts.push(`${keyMysql} >= CAST(? AS ${keyCast})`);
        values.push(from.toString());
      }
      if (to !== null) {
        parts.push(`${keyMysql} <= CAST(? AS ${keyCast})`);
        values.push(to.toString());
      }
    }
    return { sql: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', values };
  };
  const wherePg = (range: number | null): string => {
    const parts = [...jobPg];
    if (range !== null && plan) {
      const { from, to } = rangeBounds(plan, range);
      // Bounds are BigInts computed here, never text from a database: safe to inline.
      if (from !== null) parts.push(`${keyPg} >= ${from.toString()}`);
      if (to !== null) parts.push(`${keyPg} <= ${to.toString()}`);
    }
    return parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
  };

  // What each side reads: every column in its digest form (bytes, or a value put in canonical
  // form here); the row-by-row pass adds the key columns as values (to know rows by key).
  const forms = pairs.map((p) => (options.allValues ? null : digestFormFor(p.source, p.target)));
  const pgValue = pairs.map((p) => pgValueExpression(p.source, p.target));
  const pgDigestList = pairs.map((p, i) => (forms[i] ? forms[i]!.pg(quotePg(p.target.name)) : pgValue[i]!(quotePg(p.target.name))));
  const identity = canon.keyIndexes.length > 0 ? canon.keyIndexes : pairs.map((_p, i) => i);
  const pgDrillList = [...pgDigestList, ...identity.map((i) => pgValue[i]!(quotePg(pairs[i]!.target.name)))];
  const pgKinds = forms.map((f) => (f?.kind === 'bytes' ? BYTES : VALUE));
  const mysqlKinds = forms.map((f) => (f?.kind !== 'bytes' ? VALUE : f.zeroDates ? (f.trimFraction ? TIMESTAMP : DATE) : f.textNul ? TEXT : BYTES));
  const fromMysql = canon.canonicals.map((c) => c.fromMysql);
  const fromPg = canon.canonicals.map((c) => c.fromPg);
  /** A value put in canonical form is held as JavaScript text a few times over: bounded. */
  const boundedValue = (end: number, start: number, i: number): number => {
    if (end - start <= MAX_VALUE_BYTES) return end;
    throw new Error(
      `column ${pairs[i]!.source.name} holds a value of ${Math.round((end - start) / 1048576)} MB, more than the ${MAX_VALUE_BYTES / 1048576} MB that are compared as values (its type is not compared as bytes); check the table with --verify count, or compare that column another way`,
    );
  };
  let mysqlBound: readonly RawField[] | undefined;
  const zeros = new ZeroBytes();
  /** Columns whose MySQL bytes may need a change to be canonical (zero dates, timestamps' fractions, NUL in text). */
  let checked: number[] = [];
  let anyValue = false;
  const bind = (fields: readonly RawField[]): void => {
    // Text the server sends in another form than UTF-8 is read as a value.
    mysqlBound = fields;
    fields.forEach((f, i) => {
      if (mysqlKinds[i] === TEXT && (f.characterSet === BINARY_CHARSET || f.encoding !== 'utf8')) mysqlKinds[i] = VALUE;
    });
    checked = mysqlKinds.flatMap((k, i) => (k === DATE || k === TIMESTAMP || k === TEXT ? [i] : []));
    anyValue = mysqlKinds.some((k) => k === VALUE);
  };
  /**
   * Feeds a MySQL row, in digest form, to `h`: the packet's payload as it is when every value is
   * canonical already (the common case: one copy per row), else value by value. `row` bounds the
   * payload; without it (a few columns only) values go one by one.
   */
  const hashMysql = (h: FramedHasher, buffer: Buffer, starts: Int32Array, ends: Int32Array, fields: readonly RawField[], row?: { start: number; end: number }, from = 0, to = width): void => {
    if (mysqlBound !== fields) bind(fields);
    let plain = row !== undefined && !anyValue;
    // A zero byte anywhere in the row (a length byte of an empty value is one) means its text values are searched for NUL.
    const mayHoldNul = plain ? zeros.mayHold(buffer, row!.start, row!.end) : true;
    if (plain) {
      for (const i of checked) {
        const e = ends[i]!;
        if (e < 0) continue;
        const s = starts[i]!;
        const kind = mysqlKinds[i];
        if (kind === TEXT ? mayHoldNul && hasNul(buffer, s, e) : isZeroDateText(buffer, s, e) || (kind === TIMESTAMP && withoutTrailingZeros(buffer, s, e) !== e)) {
          plain = false;
          break;
        }
      }
    }
    if (plain) {
      h.framed(buffer, row!.start, row!.end);
      return;
    }
    for (let i = from; i < to; i += 1) {
      const e = ends[i]!;
      if (e < 0) {
        h.null();
        continue;
      }
      const s = starts[i]!;
      const kind = mysqlKinds[i];
      if (kind === BYTES || (kind === DATE && !isZeroDateText(buffer, s, e)) || (kind === TEXT && !hasNul(buffer, s, e))) h.bytes(buffer, s, e);
      else if (kind === TIMESTAMP && !isZeroDateText(buffer, s, e)) h.bytes(buffer, s, withoutTrailingZeros(buffer, s, e));
      else if (kind === DATE || kind === TIMESTAMP) h.null();
      else h.text(fromMysql[i]!(decodeRawField(buffer, s, boundedValue(e, s, i), fields[i]!)));
    }
  };
  /** Feeds columns [from, to) of a PostgreSQL row, in digest form, to `h`. */
  const hashPg = (h: FramedHasher, buffer: Buffer, starts: Int32Array, ends: Int32Array, from = 0, to = width): void => {
    for (let i = from; i < to; i += 1) {
      const e = ends[i]!;
      if (e < 0) h.null();
      else if (pgKinds[i] === BYTES) h.bytes(buffer, starts[i]!, e);
      else h.text(fromPg[i]!(buffer.toString('utf8', starts[i]!, boundedValue(e, starts[i]!, i))));
    }
  };

  const mysqlList = pairs.map((p) => selectExpression(p.source)).join(', ');
  const readMysql = async (
    range: number | null,
    onRow: (buffer: Buffer, starts: Int32Array, ends: Int32Array, fields: readonly RawField[], row: { start: number; end: number }) => void,
    where = whereMysql(range),
    limit = '',
  ): Promise<void> => {
    await withMysqlConnection(source, async (m) => {
      await prepareSourceSession(m);
      const sql = `SELECT ${mysqlList} FROM ${mysqlFrom}${where.sql}${mysqlOrder ? ` ORDER BY ${mysqlOrder}` : ''}${limit}`;
      const starts = new Int32Array(width);
      const ends = new Int32Array(width);
      let fields: RawField[] = [];
      const row = { start: 0, end: 0 };
      // Rows are handled as they arrive; the socket is read only as fast as this runs.
      await queryRawRows(m, sql, where.values, {
        onFields: (f) => {
          fields = f;
        },
        onRow: (buffer, start, end) => {
          splitRawRow(buffer, start, width, starts, ends);
          row.start = start;
          row.end = end;
          onRow(buffer, starts, ends, fields, row);
        },
      }).done;
    });
  };
  const readPg = async (pgList: readonly string[], range: number | null, onRow: (buffer: Buffer, starts: Int32Array, ends: Int32Array) => void): Promise<void> => {
    await withPgClient(target, async (client) => {
      await client.query(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL timezone = 'UTC'; SET LOCAL datestyle = 'ISO, YMD'; SET LOCAL intervalstyle = 'postgres'; SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'",
      );
      const sql = `SELECT ${pgList.join(', ')} FROM ${pgFrom}${wherePg(range)}${pgOrder ? ` ORDER BY ${pgOrder}` : ''}`;
      await readPgBinaryRows(client, sql, pgList.length, onRow);
      await client.query('COMMIT');
    });
  };

  // Pass 1: per-range digests, each side on its own connection, both at once.
  const sourceDigests = new RangeDigests(orderFree);
  const targetDigests = new RangeDigests(orderFree);
  await Promise.all([
    readMysql(null, (buffer, starts, ends, fields, row) => {
      const key = intKey && ends[keyPosition]! >= 0 ? integerAt(buffer, starts[keyPosition]!, ends[keyPosition]!) : null;
      sourceDigests.beginRow(rangeOf(plan, key));
      hashMysql(sourceDigests.hasher, buffer, starts, ends, fields, row);
      sourceDigests.endRow();
    }),
    readPg(pgDigestList, null, (buffer, starts, ends) => {
      const key = intKey && ends[keyPosition]! >= 0 ? integerAt(buffer, starts[keyPosition]!, ends[keyPosition]!) : null;
      targetDigests.beginRow(rangeOf(plan, key));
      hashPg(targetDigests.hasher, buffer, starts, ends);
      targetDigests.endRow();
    }),
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

  // Pass 2: the ranges that differ, row by row: the same digest forms per row, rows known by key.
  const rowHasher = new FramedHasher();
  const keyValues = new Array<string | null>(width).fill(null);
  const drill = await compareRowByRow({
    names: pairs.map((p) => p.source.name),
    canon,
    identity,
    intKey,
    plan,
    mismatched,
    sourceRows,
    targetRows,
    rejectedKeys: input.rejectedKeys,
    maxListed,
    maxDrilled: options.maxDrilledRanges ?? 50,
    maxRows: intKey ? Number.POSITIVE_INFINITY : options.maxDrillRows ?? 1_000_000,
    maxBytes: options.maxDrillBytes ?? 64 * 1024 * 1024,
    readSource: (range, onRow) =>
      readMysql(range, (buffer, starts, ends, fields, row) => {
        for (const i of identity) keyValues[i] = fromMysql[i]!(decodeRawField(buffer, starts[i]!, boundedValue(ends[i]!, starts[i]!, i), fields[i]!));
        rowHasher.reset();
        hashMysql(rowHasher, buffer, starts, ends, fields, row);
        onRow(rowKeyText(canon, keyValues), rowHasher.digest(), () => identity.map((i) => keptValue(decodeRawField(buffer, starts[i]!, ends[i]!, fields[i]!), canon.keyIndexes.length > 0)));
      }),
    readTarget: (range, onRow) =>
      readPg(pgDrillList, range, (buffer, starts, ends) => {
        identity.forEach((i, n) => {
          const e = ends[width + n]!;
          keyValues[i] = fromPg[i]!(e < 0 ? null : buffer.toString('utf8', starts[width + n]!, boundedValue(e, starts[width + n]!, i)));
        });
        rowHasher.reset();
        hashPg(rowHasher, buffer, starts, ends);
        onRow(rowKeyText(canon, keyValues), rowHasher.digest(), () => identity.map((i) => keyValues[i] ?? null), () =>
          pairs.map((_p, i) => {
            rowHasher.reset();
            hashPg(rowHasher, buffer, starts, ends, i, i + 1);
            return rowHasher.digest();
          }),
        );
      }),
    sourceColumnHashes: async (key) => {
      const where = { sql: ` WHERE ${canon.keyIndexes.map((i) => `${quoteMysql(pairs[i]!.source.name)} <=> ?`).join(' AND ')}`, values: key };
      let found: string[] | undefined;
      await readMysql(
        null,
        (buffer, starts, ends, fields) => {
          found = pairs.map((_p, i) => {
            rowHasher.reset();
            hashMysql(rowHasher, buffer, starts, ends, fields, undefined, i, i + 1);
            return rowHasher.digest();
          });
        },
        where,
        ' LIMIT 1',
      );
      return found;
    },
  });
  if (drill.note !== undefined && drill.differenceCount === 0 && drill.rejectedRows === 0 && !options.allValues) {
    // Every range compared row by row was equal, so the databases' own forms of some column
    // must disagree where the values agree: check again with every column read as a value.
    return checksumTable(source, target, input, { ...options, allValues: true });
  }
  const allCompared = drill.note === undefined;
  const status: TableChecksum['status'] =
    mismatched.length === 0 ? 'verified' : allCompared && drill.differenceCount === 0 ? (drill.rejectedRows > 0 ? 'rejected' : 'verified') : 'mismatch';
  return {
    table: input.table,
    method: 'checksum',
    status,
    sourceRows,
    targetRows,
    ranges: plan?.count ?? 1,
    mismatchedRanges,
    differences: drill.differences,
    differenceCount: drill.differenceCount,
    rejectedRows: drill.rejectedRows,
    ...(drill.note ? { note: drill.note } : {}),
    durationMs: Date.now() - started,
  };
}

/** A key value kept to show it or to read the row again: a copy, never a view of a packet; shortened when only shown. */
function keptValue(value: SourceValue, forLookup: boolean): SourceValue {
  if (forLookup) return Buffer.isBuffer(value) ? Buffer.from(value) : value;
  return Buffer.isBuffer(value) ? Buffer.from(value.subarray(0, MAX_SHOWN)) : typeof value === 'string' ? displayValue(value) : value;
}

/** What the row-by-row pass needs from the table's verification. */
interface DrillContext {
  names: readonly string[];
  canon: RowCanonicalizer;
  /** Columns that identify a row: the primary key, or every column. */
  identity: readonly number[];
  intKey: boolean;
  plan: RangePlan | null;
  mismatched: readonly number[];
  sourceRows: number;
  targetRows: number;
  rejectedKeys: ReadonlyMap<string, number> | undefined;
  maxListed: number;
  maxDrilled: number;
  maxRows: number;
  maxBytes: number;
  /** Each source row of a range: its key text, its hash, its key values (asked only when kept). */
  readSource(range: number | null, onRow: (keyText: string, hash: string, key: () => SourceValue[]) => void): Promise<void>;
  /** Each target row of a range, likewise, and its column hashes (asked only for a changed row that is listed). */
  readTarget(range: number | null, onRow: (keyText: string, hash: string, key: () => (string | null)[], columnHashes: () => string[]) => void): Promise<void>;
  /** The column hashes of the source row with this primary key (key values as read), if it is still there. */
  sourceColumnHashes(key: SourceValue[]): Promise<string[] | undefined>;
}

/** A source row held during the row-by-row pass: its hash, how many rows share its key, its key as read. */
interface HeldRow {
  hash: string;
  count: number;
  key: SourceValue[];
}

/**
 * The row-by-row pass over the ranges whose digests differ: the source rows of a range are held
 * as key → hash (bounded by rows and bytes), the target's rows are matched against them, and
 * the columns of the first changed rows are named by reading those source rows again by key.
 */
async function compareRowByRow(c: DrillContext): Promise<{ differences: RowDifference[]; differenceCount: number; rejectedRows: number; note?: string }> {
  const differences: RowDifference[] = [];
  let differenceCount = 0;
  let rejectedRows = 0;
  let note: string | undefined;
  const rejectedLeft = new Map(c.rejectedKeys ?? []);
  const changedToName: { difference: RowDifference; key: SourceValue[]; columnHashes: string[] }[] = [];
  const keyOf = (raw: readonly (SourceValue | string)[]): Record<string, string | null> => {
    const key: Record<string, string | null> = {};
    c.identity.forEach((index, n) => {
      key[c.names[index]!] = displayValue(raw[n] ?? null);
    });
    return key;
  };
  const record = (d: RowDifference): boolean => {
    differenceCount += 1;
    if (differences.length >= c.maxListed) return false;
    differences.push(d);
    return true;
  };

  for (const [n, range] of c.mismatched.entries()) {
    if (n >= c.maxDrilled) {
      note = `${c.mismatched.length - c.maxDrilled} more ranges differ and were not compared row by row`;
      break;
    }
    if (!c.intKey && c.sourceRows + c.targetRows > 2 * c.maxRows) {
      note = `the table has no integer primary key and more than ${c.maxRows} rows, so its differences are not listed row by row`;
      break;
    }
    const held = new Map<string, HeldRow>();
    let heldBytes = 0;
    try {
      await c.readSource(c.plan ? range : null, (keyText, hash, key) => {
        const seen = held.get(keyText);
        if (seen) {
          seen.count += 1;
          return;
        }
        const kept = key();
        held.set(keyText, { hash, count: 1, key: kept });
        heldBytes += 2 * keyText.length + 160 + kept.reduce<number>((s, v) => s + (v === null ? 0 : typeof v === 'number' ? 8 : Buffer.isBuffer(v) ? v.length : 2 * v.length), 0);
        if (held.size > c.maxRows || heldBytes > c.maxBytes) throw new DrillOverflow();
      });
    } catch (error) {
      if (!(error instanceof DrillOverflow)) throw error;
      note = `a range holds more rows than can be compared row by row within ${Math.round(c.maxBytes / 1048576)} MB, so its differences are not listed`;
      break;
    }
    await c.readTarget(c.plan ? range : null, (keyText, hash, key, columnHashes) => {
      const seen = held.get(keyText);
      if (!seen) {
        record({ kind: 'extra', key: keyOf(key()) });
        return;
      }
      if (seen.hash !== hash) {
        const difference: RowDifference = { kind: 'changed', key: keyOf(seen.key), columns: [] };
        if (record(difference) && c.canon.keyIndexes.length > 0) changedToName.push({ difference, key: seen.key, columnHashes: columnHashes() });
      }
      seen.count -= 1;
      if (seen.count === 0) held.delete(keyText);
    });
    for (const [keyText, row] of held) {
      for (let i = 0; i < row.count; i += 1) {
        const rejected = rejectedLeft.get(keyText) ?? 0;
        if (rejected > 0) {
          rejectedLeft.set(keyText, rejected - 1);
          rejectedRows += 1;
        } else {
          record({ kind: 'missing', key: keyOf(row.key) });
        }
      }
    }
  }
  // The changed rows listed: their columns, from the source row read again by key.
  for (const item of changedToName) {
    const sourceHashes = await c.sourceColumnHashes(item.key).catch(() => undefined);
    if (sourceHashes) item.difference.columns = c.names.filter((_n, i) => sourceHashes[i] !== item.columnHashes[i]);
  }
  return { differences, differenceCount, rejectedRows, ...(note !== undefined ? { note } : {}) };
}
