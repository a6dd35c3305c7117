import { encodeCopyValue } from '../dialect/postgres/copy-text.js';

/**
 * Where COPY text (or binary COPY) is written: fixed-size chunks that most values reach byte by
 * byte from MySQL's packet (numbers as they are, text escaped, blobs as hex), with no JavaScript
 * string in between. A value of any size is written in pieces, so a chunk never grows past its
 * capacity and a 64 MB value costs no 64 MB string.
 */

/** COPY text's column separator. */
export const TAB = 0x09;
/** COPY text's row end. */
export const NEWLINE = 0x0a;
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
    this.buffer = Buffer.allocUnsafe(
      Math.min(this.capacity, Math.max(room, full ? this.buffer.length * 2 : this.buffer.length)),
    );
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
      const escaped = ESCAPES[b]!;
      if (escaped === 0) {
        out[p++] = b;
      } else {
        out[p++] = BACKSLASH;
        out[p++] = escaped;
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
