import { createHash, type Hash } from 'node:crypto';

/**
 * Canonical rows fed to a hash, framed as MySQL's text protocol frames a row's values: each
 * value is its length, length-coded (one byte below 251, else 0xFC + 2, 0xFD + 3 or 0xFE + 8
 * bytes, little-endian), then its UTF-8 bytes; NULL is 0xFB. No two different sequences of
 * values give the same bytes, and a MySQL row whose values are all in canonical form already
 * is exactly its packet's payload, hashed as it is. Small values are gathered in a staging
 * buffer (one hash call per 64 kB); a big one goes to the hash where it lies, never copied.
 */
export class FramedHasher {
  private readonly staging = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;
  private hash: Hash = createHash('sha1');

  /** Starts a new digest. */
  reset(): void {
    this.pos = 0;
    this.hash = createHash('sha1');
  }

  private flushStaging(): void {
    if (this.pos > 0) this.hash.update(this.staging.subarray(0, this.pos));
    this.pos = 0;
  }

  /** Writes n's length code at `p` (room for 9 bytes is there); returns the position after it. */
  private lengthCode(n: number, p: number): number {
    const out = this.staging;
    if (n < 251) {
      out[p] = n;
      return p + 1;
    }
    if (n < 0x10000) {
      out[p] = 0xfc;
      out[p + 1] = n & 255;
      out[p + 2] = n >>> 8;
      return p + 3;
    }
    if (n < 0x1000000) {
      out[p] = 0xfd;
      out[p + 1] = n & 255;
      out[p + 2] = (n >>> 8) & 255;
      out[p + 3] = n >>> 16;
      return p + 4;
    }
    out[p] = 0xfe;
    out.writeUInt32LE(n >>> 0, p + 1);
    out.writeUInt32LE(Math.floor(n / 0x100000000), p + 5);
    return p + 9;
  }

  /** A value's bytes. */
  bytes(source: Buffer, start: number, end: number): void {
    const n = end - start;
    const out = this.staging;
    if (n + 9 > out.length - this.pos) {
      this.flushStaging();
      if (n + 9 > out.length) {
        this.pos = this.lengthCode(n, 0);
        this.flushStaging();
        this.hash.update(source.subarray(start, end));
        return;
      }
    }
    let p = this.lengthCode(n, this.pos);
    if (n < 64) {
      for (let i = start; i < end; i += 1) out[p++] = source[i]!;
    } else {
      source.copy(out, p, start, end);
      p += n;
    }
    this.pos = p;
  }

  /** Bytes already framed this way (a MySQL row payload whose values are canonical as they are). */
  framed(source: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n > this.staging.length - this.pos) {
      this.flushStaging();
      if (n > this.staging.length) {
        this.hash.update(source.subarray(start, end));
        return;
      }
    }
    if (n < 256) {
      // A byte loop beats Buffer.copy's call on a row this size.
      const out = this.staging;
      let p = this.pos;
      for (let i = start; i < end; i += 1) out[p++] = source[i]!;
      this.pos = p;
    } else {
      source.copy(this.staging, this.pos, start, end);
      this.pos += n;
    }
  }

  /** A value's canonical text (null: NULL). */
  text(value: string | null): void {
    if (value === null) {
      this.null();
      return;
    }
    if (value.length * 3 + 9 <= this.staging.length - this.pos) {
      // Written after room for the longest length code, then moved back behind the real one.
      const at = this.pos + 9;
      const n = this.staging.write(value, at, 'utf8');
      const p = this.lengthCode(n, this.pos);
      if (p !== at) this.staging.copy(this.staging, p, at, at + n);
      this.pos = p + n;
      return;
    }
    const bytes = Buffer.from(value, 'utf8');
    this.bytes(bytes, 0, bytes.length);
  }

  null(): void {
    if (this.pos + 1 > this.staging.length) this.flushStaging();
    this.staging[this.pos++] = 0xfb;
  }

  /** The digest of everything since the last reset (hex). */
  digest(): string {
    this.flushStaging();
    return this.hash.digest('hex');
  }
}

/** Rows and digest of one key range on one side. */
export interface RangeDigest {
  rows: number;
  digest: string;
}

/**
 * Digests of one side's key ranges. Rows come in key order, so ranges come one after the
 * other: one is open at a time. Without a key there is no common order; each row is hashed on
 * its own and the row hashes are summed (mod 2^128), which no order changes.
 */
export class RangeDigests {
  readonly ranges = new Map<number, RangeDigest>();
  readonly hasher = new FramedHasher();
  private current = -1;
  private rows = 0;
  private sum = 0n;

  constructor(private readonly orderFree: boolean) {}

  /** Starts a row of `range`; its values then go to `hasher`, and `endRow()` closes it. */
  beginRow(range: number): void {
    if (this.orderFree) {
      this.hasher.reset();
      this.current = 0;
      this.rows += 1;
      return;
    }
    if (range !== this.current) {
      if (range < this.current) throw new Error(`rows out of key order (range ${range} after ${this.current})`);
      this.close();
      this.current = range;
      this.hasher.reset();
    }
    this.rows += 1;
  }

  endRow(): void {
    if (!this.orderFree) return;
    const h = Buffer.from(this.hasher.digest(), 'hex');
    this.sum = (this.sum + h.readBigUInt64BE(0) * 18446744073709551616n + h.readBigUInt64BE(8)) & ((1n << 128n) - 1n);
  }

  private close(): void {
    if (this.current < 0) return;
    this.ranges.set(this.current, {
      rows: this.rows,
      digest: this.orderFree ? this.sum.toString(16) : this.hasher.digest(),
    });
    this.rows = 0;
  }

  /** Every range's rows and digest. */
  finish(): Map<number, RangeDigest> {
    this.close();
    this.current = -1;
    return this.ranges;
  }
}
