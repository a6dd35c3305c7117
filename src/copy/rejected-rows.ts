import { PermanentError } from '../core/errors.js';
import type { SourceValue } from '../dialect/mysql/connection.js';
import { rejectedRowBytes, type RejectedRow } from '../state/rejected-rows.js';
import { canonicalMysqlRow, rowKeyText, type RowCanonicalizer } from '../vocabulary/canonical.js';

/**
 * Rows the target refused, captured for `my2pg.rejected_rows` (src/state/rejected-rows.ts
 * writes them): each described by its key and its values, trimmed to what a person reads.
 */

/** More rejected rows than this in one table means a wrong mapping, not bad rows: the table fails. */
const MAX_REJECTED_ROWS = 100_000;

/** Longest text kept of one value of a rejected row (the record is for people; the source keeps the value). */
const MAX_REJECTED_VALUE_CHARS = 4096;

/** The columns of the rows a capture describes. */
export interface RejectedRowShape {
  /** The source table, for messages. */
  table: string;
  /** Source column names, in the row's order. */
  columns: readonly string[];
  /** Their target names (renames, case), same order: PostgreSQL's errors name these. Default: the same. */
  targetColumns?: readonly string[];
  /** The source table's primary key (empty: none). */
  primaryKey: readonly string[];
  /** The canonical forms the key text is written in (the one verification matches). */
  canon: RowCanonicalizer;
}

/** A value as kept in a rejected row's JSON: bytes as 0x-hex, long values cut, NUL spelled out. */
function recordedValue(value: SourceValue): unknown {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) {
    const shown = value.subarray(0, MAX_REJECTED_VALUE_CHARS >>> 1);
    return `0x${shown.toString('hex')}${shown.length < value.length ? `… (${value.length} bytes in all)` : ''}`;
  }
  if (typeof value !== 'string') return value;
  const shown =
    value.length > MAX_REJECTED_VALUE_CHARS
      ? `${value.slice(0, MAX_REJECTED_VALUE_CHARS)}… (${value.length} characters in all)`
      : value;
  // jsonb cannot hold NUL.
  return shown.includes('\u0000') ? shown.replace(/\u0000/g, '\\0') : shown;
}

/** The row's primary key (or its first three columns when it has none), column by column. */
function describeKey(shape: RejectedRowShape, row: readonly SourceValue[]): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  const names = shape.primaryKey.length > 0 ? shape.primaryKey : shape.columns.slice(0, 3);
  for (const name of names) {
    const index = shape.columns.indexOf(name);
    const value = index >= 0 ? row[index] : undefined;
    key[name] = value === undefined ? undefined : recordedValue(value);
  }
  return key;
}

/** The column PostgreSQL's error names, in its own field or in its context line. */
export function refusedColumn(error: { column?: unknown; where?: unknown }): string | null {
  if (typeof error.column === 'string') return error.column;
  const where = typeof error.where === 'string' ? /, column (.+?)(?::|$)/m.exec(error.where) : null;
  return where?.[1] ?? null;
}

/**
 * The rows one copy attempt rejected: how many, the first (for the log), and those not yet
 * saved. Past MAX_REJECTED_ROWS the table fails.
 */
export class RejectedRowCapture {
  /** Rows rejected by the current attempt. */
  count = 0;
  first: RejectedRow | undefined;
  /** Approximate bytes of the rows held (not yet saved). */
  heldBytes = 0;
  private held: RejectedRow[] = [];

  constructor(private readonly shape: RejectedRowShape) {}

  /** The source name of a column PostgreSQL named by its target name: rejected rows name source columns. */
  sourceColumnOf(targetColumn: string | null): string | null {
    const index = targetColumn === null ? -1 : (this.shape.targetColumns?.indexOf(targetColumn) ?? -1);
    return index < 0 ? targetColumn : this.shape.columns[index]!;
  }

  /** Records a refused source row (its values in the shape's column order). */
  add(row: readonly SourceValue[], column: string | null, reason: string, sqlstate: string | null): void {
    const { table, columns, canon } = this.shape;
    if (this.count >= MAX_REJECTED_ROWS) {
      throw new PermanentError(
        `table ${table}: more than ${MAX_REJECTED_ROWS} rows refused (last: ${reason}); the mapping of column ${column ?? '?'} is probably wrong — fix the target column type, then retry the table`,
        { table },
      );
    }
    const values: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i += 1) values[columns[i]!] = recordedValue(row[i] ?? null);
    const record: RejectedRow = {
      key: describeKey(this.shape, row),
      keyText: rowKeyText(canon, canonicalMysqlRow(canon, row)),
      column,
      reason,
      sqlstate,
      row: values,
    };
    this.count += 1;
    this.first ??= record;
    this.held.push(record);
    this.heldBytes += rejectedRowBytes(record);
  }

  /** The rows held until now, to be saved; the capture holds none after. */
  takeHeld(): RejectedRow[] {
    const rows = this.held;
    this.held = [];
    this.heldBytes = 0;
    return rows;
  }

  /** A new attempt rejects its rows anew. */
  restart(): void {
    this.takeHeld();
    this.count = 0;
    this.first = undefined;
  }
}
