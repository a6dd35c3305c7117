import type { ReadGate } from '../../core/read-gate.js';
import { copyOut } from './copy-out.js';
import type { PoolClient } from './connection.js';

/**
 * Rows of a query as PostgreSQL sends them in COPY's binary format: every field is its length
 * and its bytes, so no byte is scanned for escapes or separators, and a text value is read as
 * its UTF-8 bytes. A row that spans the socket's chunks is gathered once (its length is known
 * field by field, so its bytes are copied once, not grown chunk after chunk).
 */

/** Receives each row: `starts[i]`/`ends[i]` bound field i in `buffer` (`ends[i]` is -1 for NULL). Valid only during the call. */
export type BinaryRowHandler = (buffer: Buffer, starts: Int32Array, ends: Int32Array) => void;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Parses COPY binary output pushed chunk by chunk. */
export class PgBinaryRowParser {
  private carry: Buffer = Buffer.alloc(0);
  private carryLength = 0;
  /** Bytes the carry must hold before parsing can move on. */
  private need = 0;
  private headerDone = false;
  private ended = false;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;

  constructor(
    private readonly width: number,
    private readonly onRow: BinaryRowHandler,
  ) {
    this.starts = new Int32Array(width);
    this.ends = new Int32Array(width);
  }

  /** Takes the next bytes of the output, chunk[start, end). */
  push(chunk: Buffer, start = 0, end = chunk.length): void {
    if (this.ended) return;
    if (this.carryLength > 0) {
      this.append(chunk, start, end);
      if (this.carryLength < this.need) return;
      const left = this.parse(this.carry, 0, this.carryLength);
      this.keep(this.carry, left, this.carryLength);
      return;
    }
    const left = this.parse(chunk, start, end);
    this.keep(chunk, left, end);
  }

  /** Checks that the data ended where a row ends. */
  finish(): void {
    if (!this.ended || this.carryLength > 0) throw new Error('COPY binary output ended in the middle of a row');
  }

  private append(chunk: Buffer, start: number, end: number): void {
    const wanted = this.carryLength + end - start;
    if (wanted > this.carry.length) {
      // Sized by what the current row is known to need, so a big value is copied once.
      const grown = Buffer.allocUnsafe(Math.max(wanted, this.need, this.carry.length * 2, 64 * 1024));
      this.carry.copy(grown, 0, 0, this.carryLength);
      this.carry = grown;
    }
    chunk.copy(this.carry, this.carryLength, start, end);
    this.carryLength = wanted;
  }

  /** Keeps data[from, end) for the next chunk. */
  private keep(data: Buffer, from: number, end: number): void {
    const rest = end - from;
    if (rest === 0) {
      this.carryLength = 0;
      if (this.carry.length > 1024 * 1024) this.carry = Buffer.alloc(0);
      return;
    }
    const size = Math.max(rest, this.need, 64 * 1024);
    if (data === this.carry && this.carry.length <= 4 * size) {
      this.carry.copyWithin(0, from, end);
    } else if (data === this.carry) {
      // After a big row, keep only what the next one needs.
      const smaller = Buffer.allocUnsafe(size);
      this.carry.copy(smaller, 0, from, end);
      this.carry = smaller;
    } else {
      if (this.carry.length < Math.max(rest, this.need)) this.carry = Buffer.allocUnsafe(size);
      data.copy(this.carry, 0, from, end);
    }
    this.carryLength = rest;
  }

  /** Parses whole rows of data[pos, end); returns where the first incomplete one starts. */
  private parse(data: Buffer, pos: number, end: number): number {
    this.need = 0;
    if (!this.headerDone) {
      if (end - pos < 19) {
        this.need = 19;
        return pos;
      }
      if (!data.subarray(pos, pos + 11).equals(SIGNATURE)) throw new Error('not COPY binary output');
      const extension = data.readInt32BE(pos + 15);
      if (end - pos < 19 + extension) {
        this.need = 19 + extension;
        return pos;
      }
      pos += 19 + extension;
      this.headerDone = true;
    }
    const starts = this.starts;
    const ends = this.ends;
    const width = this.width;
    while (pos < end) {
      if (end - pos < 2) {
        this.need = 2;
        return pos;
      }
      const count = data.readInt16BE(pos);
      if (count === -1) {
        this.ended = true;
        return end;
      }
      if (count !== width) throw new Error(`COPY binary row has ${count} fields, ${width} expected`);
      let p = pos + 2;
      let complete = true;
      for (let i = 0; i < width; i += 1) {
        if (end - p < 4) {
          this.need = p - pos + 4;
          complete = false;
          break;
        }
        const length = data.readInt32BE(p);
        p += 4;
        starts[i] = p;
        if (length < 0) {
          ends[i] = -1;
          continue;
        }
        if (end - p < length) {
          this.need = p - pos + length;
          complete = false;
          break;
        }
        p += length;
        ends[i] = p;
      }
      if (!complete) return pos;
      this.onRow(data, starts, ends);
      pos = p;
    }
    return pos;
  }
}

/** Streams a query's rows in COPY binary format to `onRow`; a `gate` may pause the reading. */
export async function readPgBinaryRows(
  client: PoolClient,
  query: string,
  width: number,
  onRow: BinaryRowHandler,
  gate?: ReadGate,
): Promise<void> {
  const parser = new PgBinaryRowParser(width, onRow);
  await copyOut(
    client,
    `COPY (${query}) TO STDOUT (FORMAT binary)`,
    (buffer, start, end) => parser.push(buffer, start, end),
    gate,
  );
  parser.finish();
}
