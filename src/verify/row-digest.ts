import { createHash, type Hash } from 'node:crypto';

/**
 * Canonical rows fed to a hash with a framing in which no two different sequences of values
 * give the same bytes: each value's UTF-8 bytes, then its length (4 bytes, big-endian); NULL is
 * 0xFFFFFFFF alone. The length comes after the bytes, so a value can be hashed as it arrives
 * without knowing its length first. Small values are gathered in a staging buffer (one hash
 * call per 64 kB); a big one goes to the hash where it lies, never copied.
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

  private length(n: number): void {
    if (this.pos + 4 > this.staging.length) this.flushStaging();
    this.staging.writeUInt32BE(n, this.pos);
    this.pos += 4;
  }

  /** A value's bytes. */
  bytes(source: Buffer, start: number, end: number): void {
    const n = end - start;
    const out = this.staging;
    if (n > out.length - this.pos - 4) {
      this.flushStaging();
      if (n > out.length - 4) {
        this.hash.update(source.subarray(start, end));
        this.length(n);
        return;
      }
    }
    let p = this.pos;
    if (n < 64) {
      for (let i = start; i < end; i += 1) out[p++] = source[i]!;
    } else {
      source.copy(out, p, start, end);
      p += n;
    }
    // The length, big-endian, by hand: this runs for every value.
    out[p] = n >>> 24;
    out[p + 1] = (n >>> 16) & 255;
    out[p + 2] = (n >>> 8) & 255;
    out[p + 3] = n & 255;
    this.pos = p + 4;
  }

  /** A value's canonical text (null: NULL). */
  text(value: string | null): void {
    if (value === null) {
      this.length(0xffffffff);
      return;
    }
    if (value.length * 3 <= this.staging.length - this.pos - 4) {
      const n = this.staging.write(value, this.pos, 'utf8');
      this.pos += n;
      this.length(n);
      return;
    }
    this.flushStaging();
    const bytes = Buffer.from(value, 'utf8');
    this.hash.update(bytes);
    this.length(bytes.length);
  }

  null(): void {
    this.length(0xffffffff);
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
    this.ranges.set(this.current, { rows: this.rows, digest: this.orderFree ? this.sum.toString(16) : this.hasher.digest() });
    this.rows = 0;
  }

  /** Every range's rows and digest. */
  finish(): Map<number, RangeDigest> {
    this.close();
    this.current = -1;
    return this.ranges;
  }
}
