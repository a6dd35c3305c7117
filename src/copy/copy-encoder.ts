import { BINARY_CHARSET, decodeRawField, splitRawRow, ZeroBytes, type RawField } from '../dialect/mysql/raw-rows.js';
import { encodeCopyValue } from '../dialect/postgres/copy-text.js';
import { PermanentError, ValueRefused } from '../core/errors.js';
import { type Converter, type CopyByteRule } from './convert.js';
import { writeBinaryValue, type BinaryKind } from './copy-binary.js';

/**
 * PostgreSQL COPY text, written from MySQL's raw row bytes into fixed-size chunks. Most values
 * go from the packet to the chunk byte by byte (numbers as they are, text escaped, blobs as
 * hex) with no JavaScript string in between; a value of any size is written in pieces, so a
 * chunk never grows past its capacity and a 64 MB value costs no 64 MB string.
 */

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/**
 * Chunks of COPY text (or binary COPY). `emit` receives each chunk (and owns it from then on);
 * the copy flushes at row ends by bytes and rows, and a row bigger than a chunk flushes in
 * between. Chunks start at 64 kB and grow, while they fill, up to `capacity`: a small table
 * costs no 2 MB buffer, a big one few flushes.
 */
export class CopySink {
  buffer: Buffer;
  pos = 0;
  /** Bytes emitted so far. */
  emitted = 0;

  constructor(
    /** The largest chunk. */
    readonly capacity: number,
    private readonly emit: (chunk: Buffer) => void,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.min(capacity, 64 * 1024));
  }

  /** Bytes written since the start (emitted or not). */
  get written(): number {
    return this.emitted + this.pos;
  }

  /** Hands the bytes written so far to `emit` and starts a new chunk (`room` bytes at least). */
  flush(room = 0): void {
    if (this.pos === 0 && room <= this.buffer.length) return;
    const chunk = this.buffer.subarray(0, this.pos);
    const full = this.pos > this.buffer.length / 2;
    this.emitted += this.pos;
    this.buffer = Buffer.allocUnsafe(Math.min(this.capacity, Math.max(room, full ? this.buffer.length * 2 : this.buffer.length)));
    this.pos = 0;
    if (chunk.length > 0) this.emit(chunk);
  }

  /** Makes room for `n` bytes (n ≤ capacity). */
  reserve(n: number): void {
    if (this.pos + n > this.buffer.length) this.flush(n);
  }

  byte(b: number): void {
    if (this.pos === this.buffer.length) this.flush();
    this.buffer[this.pos++] = b;
  }

  /** Writes bytes as they are until the chunk is full; returns where it stopped. */
  rawPart(source: Buffer, start: number, end: number): number {
    const n = Math.min(end - start, this.buffer.length - this.pos);
    if (n < 96) {
      const out = this.buffer;
      let p = this.pos;
      for (let i = start; i < start + n; i += 1) out[p++] = source[i]!;
    } else {
      source.copy(this.buffer, this.pos, start, start + n);
    }
    this.pos += n;
    return start + n;
  }

  /**
   * Writes UTF-8 text with COPY's escapes for backslash, tab, newline and carriage return
   * until the chunk is full; returns where it stopped.
   */
  escapedPart(source: Buffer, start: number, end: number): number {
    const out = this.buffer;
    let p = this.pos;
    const limit = out.length - 1;
    let i = start;
    for (; i < end && p < limit; i += 1) {
      const b = source[i]!;
      const escape = ESCAPES[b]!;
      if (escape === 0) {
        out[p++] = b;
      } else {
        out[p++] = BACKSLASH;
        out[p++] = escape;
      }
    }
    this.pos = p;
    return i;
  }

  /** Writes bytes as hex digits until the chunk is full; returns where it stopped. */
  hexPart(source: Buffer, start: number, end: number): number {
    const n = Math.min(end - start, (this.buffer.length - this.pos) >>> 1);
    if (n < 32) {
      const out = this.buffer;
      let p = this.pos;
      for (let i = start; i < start + n; i += 1) {
        const b = source[i]!;
        out[p++] = HEX[b >>> 4]!;
        out[p++] = HEX[b & 15]!;
      }
      this.pos = p;
    } else {
      this.pos += this.buffer.write(source.toString('hex', start, start + n), this.pos, 'latin1');
    }
    return start + n;
  }

  /** The start of bytea hex input (`\x`, its backslash escaped for COPY). */
  hexPrefix(): void {
    this.reserve(3);
    this.buffer[this.pos++] = BACKSLASH;
    this.buffer[this.pos++] = BACKSLASH;
    this.buffer[this.pos++] = 0x78;
  }

  /** Bytes as they are. */
  raw(source: Buffer, start: number, end: number): void {
    for (let at = this.rawPart(source, start, end); at < end; at = this.rawPart(source, at, end)) this.flush();
  }

  /** UTF-8 text, COPY-escaped. */
  escaped(source: Buffer, start: number, end: number): void {
    for (let at = this.escapedPart(source, start, end); at < end; at = this.escapedPart(source, at, end)) this.flush();
  }

  /** Bytes as bytea hex input. */
  hex(source: Buffer, start: number, end: number): void {
    this.hexPrefix();
    for (let at = this.hexPart(source, start, end); at < end; at = this.hexPart(source, at, end)) this.flush();
  }

  /** A 4-byte big-endian length (binary COPY); -1 is NULL. */
  int32(n: number): void {
    this.reserve(4);
    const b = this.buffer;
    const p = this.pos;
    b[p] = n >>> 24;
    b[p + 1] = (n >>> 16) & 255;
    b[p + 2] = (n >>> 8) & 255;
    b[p + 3] = n & 255;
    this.pos = p + 4;
  }

  /** A 2-byte big-endian count (binary COPY's fields per row). */
  int16(n: number): void {
    this.reserve(2);
    this.buffer[this.pos] = (n >>> 8) & 255;
    this.buffer[this.pos + 1] = n & 255;
    this.pos += 2;
  }

  /** A converted value (text or NULL), escaped. */
  text(value: string | null): void {
    if (value === null) {
      this.reserve(2);
      this.buffer[this.pos++] = BACKSLASH;
      this.buffer[this.pos++] = 0x4e;
      return;
    }
    const escaped = encodeCopyValue(value);
    if (escaped.length * 3 <= this.capacity) {
      this.reserve(escaped.length * 3);
      this.pos += this.buffer.write(escaped, this.pos, 'utf8');
      return;
    }
    const bytes = Buffer.from(escaped, 'utf8');
    this.raw(bytes, 0, bytes.length);
  }
}

const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** The letter after the backslash for each byte COPY text must escape; 0 for the others. */
const ESCAPES = new Uint8Array(256);
ESCAPES[BACKSLASH] = BACKSLASH;
ESCAPES[TAB] = 0x74;
ESCAPES[NEWLINE] = 0x6e;
ESCAPES[0x0d] = 0x72;

/** One column as the encoder sees it. */
export interface EncoderColumn {
  name: string;
  rule: CopyByteRule;
  convert: Converter;
  /** How the column is written in binary COPY format; null: the table is copied in text format. */
  binary?: BinaryKind | null;
}

/** A value binary COPY cannot carry exactly: the copy starts over in text format. */
export class BinaryUnfit extends Error {}

/** Why a row cannot be written: a value its column's converter refused. */
export interface RowRefusal {
  column: string;
  reason: string;
}

function hasNul(source: Buffer, start: number, end: number): boolean {
  if (end - start > 64) return source.subarray(start, end).indexOf(0) >= 0;
  for (let i = start; i < end; i += 1) if (source[i] === 0) return true;
  return false;
}

/** MySQL's zero dates ('0000-…', month 00, day 00), read from the bytes. */
function isZeroDateBytes(source: Buffer, start: number, end: number): boolean {
  if (end - start < 10) return false;
  if (source[start] === 0x30 && source[start + 1] === 0x30 && source[start + 2] === 0x30 && source[start + 3] === 0x30) return true;
  return (source[start + 5] === 0x30 && source[start + 6] === 0x30) || (source[start + 8] === 0x30 && source[start + 9] === 0x30);
}

/** VARCHAR, ENUM, SET, the BLOB/TEXT family, CHAR: fields whose character set says what the bytes are. */
function isStringField(field: RawField): boolean {
  return field.columnType === 0x0f || (field.columnType >= 0xf7 && field.columnType <= 0xfe);
}

/**
 * Largest value that goes through its converter (decoded into a JavaScript value): values that
 * need converting are small in practice (dates, booleans, geometry, text holding NUL), and a
 * bigger one would cost several copies of itself in memory.
 */
export const MAX_CONVERTED_BYTES = 64 * 1024 * 1024;

/** Rule codes, for a switch on small integers in the per-value loop. */
const DIGITS = 0;
const TEXT = 1;
const DATE = 2;
const BOOL = 3;
const BYTEA = 4;
const CONVERT = 5;
const RULE_CODES: Record<CopyByteRule, number> = { digits: DIGITS, text: TEXT, date: DATE, bool: BOOL, bytea: BYTEA, convert: CONVERT };

/**
 * Encodes the rows of one table from raw MySQL row bytes to COPY text. Built once per table
 * (the columns' rules) and bound to the result set's fields before the first row.
 */
export class CopyRowEncoder {
  private readonly width: number;
  private readonly codes: Uint8Array;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** Values that went through their converter in the current row (`converted[i]` valid where `viaConverter[i]`). */
  private readonly viaConverter: Uint8Array;
  private readonly converted: (string | null)[];
  private fields: RawField[] = [];
  private readonly kinds: (BinaryKind | null)[];
  private binary = false;
  private readonly zeros = new ZeroBytes();

  constructor(
    private readonly columns: readonly EncoderColumn[],
    /** The table, for messages. */
    private readonly table: string,
  ) {
    this.width = columns.length;
    this.codes = new Uint8Array(columns.map((c) => RULE_CODES[c.rule]));
    this.starts = new Int32Array(this.width);
    this.ends = new Int32Array(this.width);
    this.viaConverter = new Uint8Array(this.width);
    this.converted = new Array<string | null>(this.width).fill(null);
    this.kinds = columns.map((c) => c.binary ?? null);
  }

  /** Whether every column has a binary form, so the table can be copied in binary format. */
  get canWriteBinary(): boolean {
    return this.kinds.every((k) => k !== null);
  }

  /** Writes COPY's binary format from now on (true) or its text format (false, the default). */
  useBinary(on: boolean): void {
    if (on && !this.canWriteBinary) throw new Error('a column of this table has no binary form');
    this.binary = on;
  }

  /** Takes the result set's description; a column whose bytes are not what its rule expects falls back to its converter. */
  bind(fields: readonly RawField[]): void {
    if (fields.length !== this.width) throw new Error(`the query returned ${fields.length} columns, ${this.width} expected`);
    this.fields = [...fields];
    fields.forEach((field, i) => {
      // Text the server sends as bytes of another kind (binary, not UTF-8) is the converter's to judge.
      if (this.codes[i] === TEXT && isStringField(field) && (field.characterSet === BINARY_CHARSET || field.encoding !== 'utf8')) this.codes[i] = CONVERT;
    });
  }

  /** The fields this encoder was bound to. */
  get rawFields(): readonly RawField[] {
    return this.fields;
  }

  private convertField(i: number, source: Buffer): void {
    const bytes = this.ends[i]! - this.starts[i]!;
    if (bytes > MAX_CONVERTED_BYTES) {
      throw new PermanentError(
        `table ${this.table}: column ${this.columns[i]!.name} holds a value of ${Math.round(bytes / 1048576)} MB that must be converted for its PostgreSQL column, and my2pg converts values of up to ${MAX_CONVERTED_BYTES / 1048576} MB (bigger ones are only copied as they are); map the column to text or bytea, or fix the value in MySQL, then retry the table`,
        { table: this.table });
    }
    const value = decodeRawField(source, this.starts[i]!, this.ends[i]!, this.fields[i]!);
    this.converted[i] = this.columns[i]!.convert(value);
    this.viaConverter[i] = 1;
  }

  /**
   * Reads a row (payload starting at `start`) and runs the converters its values need; returns
   * why a converter refused one, or null when the row can be written (write or writeAsync).
   */
  prepare(source: Buffer, start: number): RowRefusal | null {
    const width = this.width;
    const codes = this.codes;
    const starts = this.starts;
    const ends = this.ends;
    const via = this.viaConverter;
    splitRawRow(source, start, width, starts, ends);
    // A zero byte anywhere in the row (a length byte of an empty value is one) means its text values are searched for NUL.
    const rowEnd = width === 0 ? start : ends[width - 1]! < 0 ? starts[width - 1]! : ends[width - 1]!;
    const mayHoldNul = this.zeros.mayHold(source, start, rowEnd);
    // Every value a converter must see, before a byte of the row is written.
    for (let i = 0; i < width; i += 1) {
      via[i] = 0;
      const e = ends[i]!;
      if (e < 0) continue;
      const s = starts[i]!;
      const code = codes[i]!;
      if (code === DIGITS || code === BYTEA) continue;
      try {
        if (code === TEXT) {
          if (mayHoldNul && hasNul(source, s, e)) this.convertField(i, source);
        } else if (code === DATE) {
          if (isZeroDateBytes(source, s, e)) this.convertField(i, source);
        } else if (code === BOOL) {
          if (e - s !== 1 || (source[s] !== 0x30 && source[s] !== 0x31)) this.convertField(i, source);
        } else {
          this.convertField(i, source);
        }
      } catch (error) {
        if (error instanceof ValueRefused) return { column: error.column, reason: error.reason };
        throw error;
      }
    }
    return null;
  }

  /** Writes the prepared row to `sink`. */
  write(source: Buffer, sink: CopySink): void {
    if (this.binary) {
      this.writeBinaryRow(source, sink, null);
      return;
    }
    const codes = this.codes;
    const starts = this.starts;
    const ends = this.ends;
    for (let i = 0; i < this.width; i += 1) {
      if (i > 0) sink.byte(TAB);
      const e = ends[i]!;
      if (this.viaConverter[i] === 1) {
        sink.text(this.converted[i]!);
        this.converted[i] = null;
        continue;
      }
      if (e < 0) {
        sink.text(null);
        continue;
      }
      const s = starts[i]!;
      switch (codes[i]) {
        case DIGITS:
        case DATE:
          sink.raw(source, s, e);
          break;
        case TEXT:
          sink.escaped(source, s, e);
          break;
        case BOOL:
          sink.byte(source[s] === 0x31 ? 0x74 : 0x66);
          break;
        case BYTEA:
          sink.hex(source, s, e);
          break;
        default:
          throw new Error(`column ${this.columns[i]!.name}: no value`);
      }
    }
    sink.byte(NEWLINE);
  }

  /**
   * Writes the prepared row like `write`, but waits on `afterFlush` each time a chunk is full:
   * a row of hundreds of megabytes then never exists whole as COPY text.
   */
  async writeAsync(source: Buffer, sink: CopySink, afterFlush: () => Promise<void>): Promise<void> {
    if (this.binary) {
      await this.writeBinaryRow(source, sink, afterFlush);
      return;
    }
    const codes = this.codes;
    const starts = this.starts.slice();
    const ends = this.ends.slice();
    const via = this.viaConverter.slice();
    const converted = [...this.converted];
    this.converted.fill(null);
    const next = async (): Promise<void> => {
      sink.flush();
      await afterFlush();
    };
    for (let i = 0; i < this.width; i += 1) {
      if (i > 0) sink.byte(TAB);
      const e = ends[i]!;
      if (via[i] === 1) {
        sink.text(converted[i]!);
        continue;
      }
      if (e < 0) {
        sink.text(null);
        continue;
      }
      const s = starts[i]!;
      switch (codes[i]) {
        case DIGITS:
        case DATE:
          for (let at = sink.rawPart(source, s, e); at < e; at = sink.rawPart(source, at, e)) await next();
          break;
        case TEXT:
          for (let at = sink.escapedPart(source, s, e); at < e; at = sink.escapedPart(source, at, e)) await next();
          break;
        case BOOL:
          sink.byte(source[s] === 0x31 ? 0x74 : 0x66);
          break;
        case BYTEA:
          sink.hexPrefix();
          for (let at = sink.hexPart(source, s, e); at < e; at = sink.hexPart(source, at, e)) await next();
          break;
        default:
          throw new Error(`column ${this.columns[i]!.name}: no value`);
      }
    }
    sink.byte(NEWLINE);
  }

  /**
   * The prepared row in binary format. Values of any size (text, bytes) are written in pieces;
   * with `afterFlush`, each full chunk waits on it (the caller awaits the returned promise).
   */
  private writeBinaryRow(source: Buffer, sink: CopySink, afterFlush: (() => Promise<void>) | null): void | Promise<void> {
    const starts = afterFlush ? this.starts.slice() : this.starts;
    const ends = afterFlush ? this.ends.slice() : this.ends;
    const via = afterFlush ? this.viaConverter.slice() : this.viaConverter;
    const converted = afterFlush ? [...this.converted] : this.converted;
    sink.int16(this.width);
    // Values too big for a chunk are queued here when writing asynchronously.
    for (let i = 0; i < this.width; i += 1) {
      const kind = this.kinds[i]!;
      let src = source;
      let s = starts[i]!;
      let e = ends[i]!;
      if (via[i] === 1) {
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
        const version = kind === 'jsonb' ? 1 : 0;
        sink.int32(e - s + version);
        if (version) sink.byte(1);
        if (afterFlush && e - s > sink.capacity) return this.finishBinaryAsync(source, sink, afterFlush, i, src, s, e, starts, ends, via, converted);
        sink.raw(src, s, e);
      } else if (!writeBinaryValue(sink, kind, src, s, e)) {
        throw new BinaryUnfit(`column ${this.columns[i]!.name}: value ${JSON.stringify(src.toString('utf8', s, Math.min(e, s + 40)))} has no exact binary form for its type`);
      }
    }
    if (afterFlush) return Promise.resolve();
  }

  /** The rest of a binary row from column `i` on, whose value [s, e) is big: written at the socket's pace. */
  private async finishBinaryAsync(
    source: Buffer,
    sink: CopySink,
    afterFlush: () => Promise<void>,
    i: number,
    src: Buffer,
    s: number,
    e: number,
    starts: Int32Array,
    ends: Int32Array,
    via: Uint8Array,
    converted: (string | null)[],
  ): Promise<void> {
    for (let at = sink.rawPart(src, s, e); at < e; at = sink.rawPart(src, at, e)) {
      sink.flush();
      await afterFlush();
    }
    for (let j = i + 1; j < this.width; j += 1) {
      const kind = this.kinds[j]!;
      let value: Buffer = source;
      let from = starts[j]!;
      let to = ends[j]!;
      if (via[j] === 1) {
        const text = converted[j]!;
        if (text === null) {
          sink.int32(-1);
          continue;
        }
        value = Buffer.from(text, 'utf8');
        from = 0;
        to = value.length;
      } else if (to < 0) {
        sink.int32(-1);
        continue;
      }
      if (kind === 'bytes' || kind === 'jsonb') {
        sink.int32(to - from + (kind === 'jsonb' ? 1 : 0));
        if (kind === 'jsonb') sink.byte(1);
        for (let at = sink.rawPart(value, from, to); at < to; at = sink.rawPart(value, at, to)) {
          sink.flush();
          await afterFlush();
        }
      } else if (!writeBinaryValue(sink, kind, value, from, to)) {
        throw new BinaryUnfit(`column ${this.columns[j]!.name}: value ${JSON.stringify(value.toString('utf8', from, Math.min(to, from + 40)))} has no exact binary form for its type`);
      }
    }
  }

  /** prepare and write in one: writes the row, or writes nothing and returns why a converter refused a value. */
  encode(source: Buffer, start: number, sink: CopySink): RowRefusal | null {
    const refusal = this.prepare(source, start);
    if (refusal === null) this.write(source, sink);
    return refusal;
  }
}
