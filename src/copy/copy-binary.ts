import type { BinaryKind } from './binary-format.js';

/**
 * Values in PostgreSQL's binary COPY format, written from their text bytes (MySQL's as sent,
 * or a converter's output): each encoder writes the value exactly or writes nothing (see
 * binary-format.ts for which columns are copied so).
 */

/** Where a binary value is written: room is reserved first, then bytes set at `pos`. */
export interface BinaryOut {
  buffer: Buffer;
  pos: number;
  reserve(n: number): void;
}

/** Big-endian stores by hand: Buffer's write methods check their arguments, and this runs for every value. */
function put32(b: Buffer, p: number, n: number): void {
  b[p] = n >>> 24;
  b[p + 1] = (n >>> 16) & 255;
  b[p + 2] = (n >>> 8) & 255;
  b[p + 3] = n & 255;
}

function put16(b: Buffer, p: number, n: number): void {
  b[p] = (n >>> 8) & 255;
  b[p + 1] = n & 255;
}

/** An integer written in ASCII (an optional minus, digits), or null. Exact up to 2^53. */
function asciiInteger(src: Buffer, s: number, e: number): number | null {
  if (e - s > 16 || e <= s) return null;
  let i = s;
  const negative = src[i] === 0x2d;
  if (negative && ++i === e) return null;
  let n = 0;
  for (; i < e; i += 1) {
    const d = src[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return Number.isSafeInteger(n) ? (negative ? -n : n) : null;
}

function writeInt64(out: BinaryOut, n: number | bigint): void {
  out.reserve(12);
  const b = out.buffer;
  const p = out.pos;
  put32(b, p, 8);
  if (typeof n === 'bigint') {
    b.writeBigInt64BE(n, p + 4);
  } else {
    const hi = Math.floor(n / 4294967296);
    put32(b, p + 4, hi);
    put32(b, p + 8, n - hi * 4294967296);
  }
  out.pos = p + 12;
}

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** The base-10000 digit ending at position `end` of a digit run starting at `from` (4 decimal digits, fewer at the start). */
function group(src: Buffer, from: number, end: number): number {
  let g = 0;
  for (let j = Math.max(from, end - 4); j < end; j += 1) g = g * 10 + (src[j]! - 0x30);
  return g;
}

/** A numeric in PostgreSQL's binary form, from plain decimal text (digits, one point, a sign). */
function writeNumeric(out: BinaryOut, src: Buffer, s: number, e: number): boolean {
  let i = s;
  let negative = false;
  if (src[i] === 0x2d || src[i] === 0x2b) {
    negative = src[i] === 0x2d;
    i += 1;
  }
  let point = -1;
  for (let j = i; j < e; j += 1) {
    const b = src[j]!;
    if (b === 0x2e) {
      if (point >= 0) return false;
      point = j;
    } else if (b < 0x30 || b > 0x39) {
      return false;
    }
  }
  const intEnd = point >= 0 ? point : e;
  if (intEnd === i && (point < 0 || point + 1 === e)) return false;
  const fracStart = point >= 0 ? point + 1 : e;
  const dscale = e - fracStart;
  if (dscale > 0x3fff) return false;
  // Leading zeros of the integer part and trailing zeros of the fraction carry no digit.
  let first = i;
  while (first < intEnd && src[first] === 0x30) first += 1;
  let last = e;
  while (last > fracStart && src[last - 1] === 0x30) last -= 1;
  const intGroups = Math.ceil((intEnd - first) / 4);
  const fracDigits = Math.max(0, last - fracStart);
  let fracGroups = Math.ceil(fracDigits / 4);
  // Groups of the fraction that are all zeros before its first digit (0.00001234).
  let fracLead = 0;
  if (intGroups === 0) {
    let z = fracStart;
    while (z < last && src[z] === 0x30) z += 1;
    fracLead = Math.floor((z - fracStart) / 4);
    fracGroups -= fracLead;
  }
  let n = intGroups + fracGroups;
  // Trailing groups of the integer part that are zero, when there is no fraction (12340000 → 1234 at weight 1).
  let intTrailingZero = 0;
  if (fracGroups === 0) {
    while (intTrailingZero < intGroups && group(src, first, intEnd - 4 * intTrailingZero) === 0) intTrailingZero += 1;
    n -= intTrailingZero;
  }
  const weight = n === 0 ? 0 : intGroups > 0 ? intGroups - 1 : -1 - fracLead;
  out.reserve(12 + 2 * n);
  const b = out.buffer;
  let p = out.pos;
  put32(b, p, 8 + 2 * n);
  put16(b, p + 4, n);
  put16(b, p + 6, weight);
  put16(b, p + 8, negative && n > 0 ? 0x4000 : 0);
  put16(b, p + 10, dscale);
  p += 12;
  for (let k = 0; k < intGroups - intTrailingZero; k += 1) {
    put16(b, p, group(src, first, intEnd - 4 * (intGroups - 1 - k)));
    p += 2;
  }
  for (let k = fracLead; k < fracLead + fracGroups; k += 1) {
    let g = 0;
    for (let j = 0; j < 4; j += 1) {
      const at = fracStart + 4 * k + j;
      g = g * 10 + (at < last ? src[at]! - 0x30 : 0);
    }
    put16(b, p, g);
    p += 2;
  }
  out.pos = p;
  return true;
}

function twoDigits(src: Buffer, at: number): number {
  const a = src[at]! - 0x30;
  const b = src[at + 1]! - 0x30;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 2000-01-01 to a date (proleptic Gregorian), or null when the text is not a valid YYYY-MM-DD. */
function daysOf(src: Buffer, s: number): number | null {
  const hi = twoDigits(src, s);
  const lo = twoDigits(src, s + 2);
  const month = twoDigits(src, s + 5);
  const day = twoDigits(src, s + 8);
  if (hi < 0 || lo < 0 || src[s + 4] !== 0x2d || src[s + 7] !== 0x2d || month < 1 || month > 12 || day < 1) return null;
  const year = hi * 100 + lo;
  if (year < 1 || day > daysInMonth(year, month)) return null;
  // Days from civil (Howard Hinnant), relative to 1970-01-01, then to 2000-01-01.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468 - 10957;
}

/** Microseconds from 2000-01-01 00:00:00 for 'YYYY-MM-DD[ HH:MM:SS[.ffffff]]', or null. */
function writeTimestamp(out: BinaryOut, src: Buffer, s: number, e: number): boolean {
  const length = e - s;
  if (length !== 10 && length < 19) return false;
  const days = daysOf(src, s);
  if (days === null) return false;
  let seconds = days * 86400;
  let micros = 0;
  if (length > 10) {
    const hour = twoDigits(src, s + 11);
    const minute = twoDigits(src, s + 14);
    const second = twoDigits(src, s + 17);
    if (
      src[s + 10] !== 0x20 ||
      src[s + 13] !== 0x3a ||
      src[s + 16] !== 0x3a ||
      hour < 0 ||
      hour > 23 ||
      minute < 0 ||
      minute > 59 ||
      second < 0 ||
      second > 59
    )
      return false;
    seconds += hour * 3600 + minute * 60 + second;
    if (length > 19) {
      if (src[s + 19] !== 0x2e || length > 26 || length === 20) return false;
      for (let i = s + 20; i < s + 26; i += 1) {
        const d = i < e ? src[i]! - 0x30 : 0;
        if (d < 0 || d > 9) return false;
        micros = micros * 10 + d;
      }
    }
  }
  // Within about 285 years of 2000 the microseconds are a safe integer; beyond, count in BigInt.
  if (Math.abs(seconds) < 9e9) writeInt64(out, seconds * 1_000_000 + micros);
  else writeInt64(out, BigInt(seconds) * 1_000_000n + BigInt(micros));
  return true;
}

/**
 * Writes one non-NULL value (its length, then its bytes) from text bytes: MySQL's as sent, or
 * a converter's output as UTF-8. Returns false, having written nothing, when the value cannot
 * be carried exactly in binary form.
 */
export function writeBinaryValue(out: BinaryOut, kind: BinaryKind, src: Buffer, s: number, e: number): boolean {
  switch (kind) {
    case 'bool': {
      if (e - s !== 1) return false;
      const b = src[s];
      const value = b === 0x31 || b === 0x74 ? 1 : b === 0x30 || b === 0x66 ? 0 : -1;
      if (value < 0) return false;
      out.reserve(5);
      put32(out.buffer, out.pos, 1);
      out.buffer[out.pos + 4] = value;
      out.pos += 5;
      return true;
    }
    case 'int2':
    case 'int4': {
      const n = asciiInteger(src, s, e);
      const limit = kind === 'int2' ? 32768 : 2147483648;
      if (n === null || n < -limit || n >= limit) return false;
      out.reserve(8);
      if (kind === 'int2') {
        put32(out.buffer, out.pos, 2);
        put16(out.buffer, out.pos + 4, n);
        out.pos += 6;
      } else {
        put32(out.buffer, out.pos, 4);
        put32(out.buffer, out.pos + 4, n);
        out.pos += 8;
      }
      return true;
    }
    case 'int8': {
      const n = asciiInteger(src, s, e);
      if (n !== null) {
        writeInt64(out, n);
        return true;
      }
      const text = src.toString('latin1', s, e);
      if (!/^-?\d{1,19}$/.test(text)) return false;
      const big = BigInt(text);
      if (big < INT8_MIN || big > INT8_MAX) return false;
      writeInt64(out, big);
      return true;
    }
    case 'numeric':
      return writeNumeric(out, src, s, e);
    case 'float4':
    case 'float8': {
      const text = src.toString('latin1', s, e);
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n) || !Number.isFinite(n)) return false;
      out.reserve(12);
      if (kind === 'float4') {
        if (Math.fround(n) !== n) return false;
        out.buffer.writeInt32BE(4, out.pos);
        out.buffer.writeFloatBE(n, out.pos + 4);
        out.pos += 8;
      } else {
        out.buffer.writeInt32BE(8, out.pos);
        out.buffer.writeDoubleBE(n, out.pos + 4);
        out.pos += 12;
      }
      return true;
    }
    case 'date': {
      const days = e - s === 10 ? daysOf(src, s) : null;
      if (days === null) return false;
      out.reserve(8);
      put32(out.buffer, out.pos, 4);
      put32(out.buffer, out.pos + 4, days);
      out.pos += 8;
      return true;
    }
    case 'timestamp':
      return writeTimestamp(out, src, s, e);
    case 'jsonb':
    case 'bytes':
      // Written by the caller (length, then the bytes in pieces: a value may be any size).
      return false;
  }
}
