/** Canonical spellings of numbers: decimals as text, floats by their IEEE bits. */

/** An unsigned big-endian integer (MySQL's BIT value as bytes). */
export function bufferToBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

/**
 * A decimal number in one spelling: no exponent, no leading or trailing zeros, `-0` is `0`.
 * `1.50`, `1.5e0` and `001.5` are all `1.5`. Text that is not a number comes back as it is.
 */
export function normalizeDecimal(text: string): string {
  if (/^(0|-?[1-9]\d*)$/.test(text)) return text;
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return text.trim();
  const exponent = Number(m[4] ?? '0');
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 100_000) return text.trim().toLowerCase();
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let point = (m[2] ?? '').length + exponent;
  const lead = /^0*/.exec(digits)![0].length;
  digits = digits.slice(lead);
  point -= lead;
  digits = digits.replace(/0+$/, '');
  if (digits === '') return '0';
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return m[1] === '-' ? `-${out}` : out;
}

const float64 = new DataView(new ArrayBuffer(8));

/** The IEEE bits of a float8 value, so that -0, NaN and every last digit count. */
export function float64Bits(value: number): string {
  float64.setFloat64(0, value);
  return float64.getBigUint64(0).toString(16);
}

/** A float's text as either database prints it, `inf`/`infinity` included (NaN when not a number). */
export function parseFloatText(text: string): number {
  const n = Number(text);
  if (!Number.isNaN(n)) return n;
  const t = text.trim();
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return NaN;
}
