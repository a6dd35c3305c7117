import type { KeyRange } from '../core/key-range.js';
import type { SourceValue } from '../dialect/mysql/connection.js';
import type { RowCanonicalizer } from '../vocabulary/canonical.js';
import type { RowDifference } from './checksum-types.js';

/** Longest text shown of one key value in a difference. */
const MAX_SHOWN = 200;

function displayValue(value: SourceValue | string): string | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value))
    return `0x${value.subarray(0, MAX_SHOWN >>> 1).toString('hex')}${value.length > MAX_SHOWN >>> 1 ? '…' : ''}`;
  const text = String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** A control-flow signal, never seen outside this module: stops a row-by-row read that would hold more than its bound. */
class DrillOverflow extends Error {}

/** A key value kept to show it or to read the row again: a copy, never a view of a packet; shortened when only shown. */
export function keptValue(value: SourceValue, forLookup: boolean): SourceValue {
  if (forLookup) return Buffer.isBuffer(value) ? Buffer.from(value) : value;
  return Buffer.isBuffer(value)
    ? Buffer.from(value.subarray(0, MAX_SHOWN))
    : typeof value === 'string'
      ? displayValue(value)
      : value;
}

/** What the row-by-row pass needs from the table's verification. */
export interface DrillContext {
  names: readonly string[];
  canon: RowCanonicalizer;
  /** Columns that identify a row: the primary key, or every column. */
  identity: readonly number[];
  intKey: boolean;
  /** The key ranges whose digests differ, in key order. */
  mismatched: readonly KeyRange[];
  sourceRows: number;
  targetRows: number;
  rejectedKeys: ReadonlyMap<string, number> | undefined;
  maxListed: number;
  maxDrilled: number;
  maxRows: number;
  maxBytes: number;
  /** Each source row of a range: its key text, its hash, its key values (asked only when kept). */
  readSource(range: KeyRange, onRow: (keyText: string, hash: string, key: () => SourceValue[]) => void): Promise<void>;
  /** Each target row of a range, likewise, and its column hashes (asked only for a changed row that is listed). */
  readTarget(
    range: KeyRange,
    onRow: (keyText: string, hash: string, key: () => (string | null)[], columnHashes: () => string[]) => void,
  ): Promise<void>;
  /** The column hashes of the source row with this primary key (key values as read), if it is still there. */
  sourceColumnHashes(key: SourceValue[]): Promise<string[] | undefined>;
}

/** What the row-by-row pass found. */
export interface DrillResult {
  differences: RowDifference[];
  differenceCount: number;
  /** Rows missing from the target that the copy rejected. */
  rejectedRows: number;
  /** Why not every differing range was compared row by row, when so. */
  note?: string;
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
export async function compareRowByRow(c: DrillContext): Promise<DrillResult> {
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
      await c.readSource(range, (keyText, hash, key) => {
        const seen = held.get(keyText);
        if (seen) {
          seen.count += 1;
          return;
        }
        const kept = key();
        held.set(keyText, { hash, count: 1, key: kept });
        heldBytes +=
          2 * keyText.length +
          160 +
          kept.reduce<number>(
            (s, v) => s + (v === null ? 0 : typeof v === 'number' ? 8 : Buffer.isBuffer(v) ? v.length : 2 * v.length),
            0,
          );
        if (held.size > c.maxRows || heldBytes > c.maxBytes) throw new DrillOverflow();
      });
    } catch (error) {
      if (!(error instanceof DrillOverflow)) throw error;
      note = `a range holds more rows than can be compared row by row within ${Math.round(c.maxBytes / 1048576)} MB, so its differences are not listed`;
      break;
    }
    await c.readTarget(range, (keyText, hash, key, columnHashes) => {
      const seen = held.get(keyText);
      if (!seen) {
        record({ kind: 'extra', key: keyOf(key()) });
        return;
      }
      if (seen.hash !== hash) {
        const difference: RowDifference = { kind: 'changed', key: keyOf(seen.key), columns: [] };
        if (record(difference) && c.canon.keyIndexes.length > 0)
          changedToName.push({ difference, key: seen.key, columnHashes: columnHashes() });
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
    // Naming the columns is a courtesy: the row is counted and listed already, and a failed
    // second read of it (the row gone, a lost connection) leaves its columns unnamed.
    const sourceHashes = await c.sourceColumnHashes(item.key).catch(() => undefined);
    if (sourceHashes) item.difference.columns = c.names.filter((_n, i) => sourceHashes[i] !== item.columnHashes[i]);
  }
  return { differences, differenceCount, rejectedRows, ...(note !== undefined ? { note } : {}) };
}
