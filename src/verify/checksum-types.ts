import type { KeyRange } from '../core/key-range.js';
import type { ReadGate } from '../core/read-gate.js';
import type { MysqlConnection } from '../dialect/mysql/connection.js';
import type { RunCatalog } from '../state/run-catalog.js';
import type { NamingRules } from '../vocabulary/naming.js';

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
  range?: ({ column: string } & KeyRange) | undefined;
  /** The run's `where` condition of the table: the MySQL side holds only the rows matching it. */
  where?: string | undefined;
  /** The run's renames and case: which target column each source column is compared with. Default: names kept. */
  naming?: NamingRules | undefined;
  /** Only the rows of these keys (source key column names; each key's values as PostgreSQL prints them): a re-verification. */
  keys?: { columns: readonly string[]; values: readonly (readonly (string | null)[])[] } | undefined;
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
  /** Read every column as a value put in canonical form here, none as bytes (what the second pass does). */
  allValues?: boolean;
  /** Hash in these ranges (a receipt's), not in ranges planned from the data now; null: one range. */
  split?: { min: string; max: string; count: number } | null;
  /** Digests only: no row-by-row pass (re-checking a receipt). */
  digestsOnly?: boolean;
  /** Which side's rows are read (re-checking a receipt against one database). Default both. */
  side?: ReceiptSide;
  /** Read inside these snapshots (a cutover's receipt): a MySQL connection in a consistent-snapshot transaction, a pg_export_snapshot id. */
  snapshot?: ReadSnapshot;
  /** Pauses the per-range digest reads while it is closed (verification while following gives way to the follower). */
  gate?: ReadGate;
}

/** The side(s) a receipt is re-checked on. */
export type ReceiptSide = 'mysql' | 'postgres' | 'both';

/** Snapshots both sides' rows are read in, opened together at one moment. */
export interface ReadSnapshot {
  /** A connection inside START TRANSACTION WITH CONSISTENT SNAPSHOT: its reads run one after another. */
  mysql: MysqlConnection;
  /** A snapshot id from pg_export_snapshot(), imported by each read (its exporter stays open meanwhile). */
  pg: string;
}

/** Receives a checksummed table's ranges and digests (what a receipt keeps). */
export type DigestsHandler = (table: string, digests: TableChecksum['digests']) => void;

/** One range's rows and digest on each side, as a receipt keeps them. */
export interface RangeDigests {
  from: string | null;
  to: string | null;
  sourceRows: number;
  targetRows: number;
  sourceDigest: string | null;
  targetDigest: string | null;
}

/** A key range (`from <= key < to`, a null end open) whose hashes differ, with the rows each side holds in it. */
export interface RangeMismatch extends KeyRange {
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
  /** The first pass's ranges and digests of both sides (what a receipt keeps). */
  digests: { split: { min: string; max: string; count: number } | null; ranges: RangeDigests[] };
}
