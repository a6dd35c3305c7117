import type { BinaryKind } from './binary-format.js';
import { writeBinaryValue } from './copy-binary.js';
import type { CopySink } from './copy-sink.js';
import type { PreparedRow } from './prepared-row.js';

/**
 * One prepared row in COPY's binary format. Values of any size (text, bytes) are written in
 * pieces; a value binary COPY cannot carry exactly throws BinaryUnfit.
 */

/**
 * A value binary COPY cannot carry exactly: the copy starts over in text format. A signal
 * inside the copy, not a failure: copyTable always catches it.
 */
export class BinaryUnfit extends Error {}

/** The columns of a table as binary COPY writes them. */
export interface BinaryColumns {
  names: readonly string[];
  kinds: readonly BinaryKind[];
}

/** A value too big for a chunk, whose length is written and whose bytes are not yet. */
interface BigValue {
  column: number;
  src: Buffer;
  s: number;
  e: number;
}

/** Writes the row; a big value flushes as many chunks as it needs. */
export function writeBinaryRow(row: PreparedRow, source: Buffer, sink: CopySink, columns: BinaryColumns): void {
  sink.int16(columns.kinds.length);
  writeBinaryValues(row, source, sink, columns, 0, Infinity);
}

/** Writes the row like writeBinaryRow, but waits on `afterFlush` after each chunk of a value bigger than a chunk. */
export async function writeBinaryRowAsync(
  row: PreparedRow,
  source: Buffer,
  sink: CopySink,
  columns: BinaryColumns,
  afterFlush: () => Promise<void>,
): Promise<void> {
  sink.int16(columns.kinds.length);
  for (
    let big = writeBinaryValues(row, source, sink, columns, 0, sink.capacity);
    big !== null;
    big = writeBinaryValues(row, source, sink, columns, big.column + 1, sink.capacity)
  ) {
    const { src, e } = big;
    for (let at = sink.rawPart(src, big.s, e); at < e; at = sink.rawPart(src, at, e)) {
      sink.flush();
      await afterFlush();
    }
  }
}

/**
 * Writes the values of columns `from` on; stops at a bytes or jsonb value longer than
 * `bigOver` bytes, its length written, and returns it (null once the row is written).
 */
function writeBinaryValues(
  row: PreparedRow,
  source: Buffer,
  sink: CopySink,
  columns: BinaryColumns,
  from: number,
  bigOver: number,
): BigValue | null {
  const { starts, ends, viaConverter, converted } = row;
  for (let i = from; i < columns.kinds.length; i += 1) {
    const kind = columns.kinds[i]!;
    let src = source;
    let s = starts[i]!;
    let e = ends[i]!;
    if (viaConverter[i] === 1) {
      const value = converted[i]!;
      converted[i] = null;
      if (value === null) {
        sink.int32(-1);
        continue;
      }
      src = Buffer.from(value, 'utf8');
      s = 0;
      e = src.length;
    } else if (e < 0) {
      sink.int32(-1);
      continue;
    }
    if (kind === 'bytes' || kind === 'jsonb') {
      // jsonb's binary form is a version byte, then the text.
      const version = kind === 'jsonb' ? 1 : 0;
      sink.int32(e - s + version);
      if (version) sink.byte(1);
      if (e - s > bigOver) return { column: i, src, s, e };
      sink.raw(src, s, e);
    } else if (!writeBinaryValue(sink, kind, src, s, e)) {
      throw new BinaryUnfit(
        `column ${columns.names[i]!}: value ${JSON.stringify(src.toString('utf8', s, Math.min(e, s + 40)))} has no exact binary form for its type`,
      );
    }
  }
  return null;
}
