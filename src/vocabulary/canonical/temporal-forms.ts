import { isZeroDate } from '../type-families.js';
import { normalizeDecimal } from './number-forms.js';

/**
 * One spelling of a date or timestamp: fraction without trailing zeros, no `+00` offset (both
 * sides are read in UTC), no ` 00:00:00` on a bare date. MySQL's zero dates are NULL.
 */
export function normalizeTemporal(text: string): string | null {
  // The common shapes ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.ffffff][+00]') without regular expressions: this runs per value.
  const n = text.length;
  if (n >= 10 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45) {
    if (
      text.startsWith('0000') ||
      (text.charCodeAt(5) === 48 && text.charCodeAt(6) === 48) ||
      (text.charCodeAt(8) === 48 && text.charCodeAt(9) === 48)
    )
      return null;
    if (n === 10) return text;
    if (n >= 19 && text.charCodeAt(10) === 32 && text.charCodeAt(13) === 58) {
      let end = n;
      if (text.endsWith('+00')) end -= 3;
      else if (text.endsWith('+00:00')) end -= 6;
      if (end > 19 && text.charCodeAt(19) === 46) {
        while (end > 20 && text.charCodeAt(end - 1) === 48) end -= 1;
        if (end === 20) end = 19;
      }
      if (end === 19) {
        if (text.startsWith(' 00:00:00', 10)) return text.slice(0, 10);
        return n === 19 ? text : text.slice(0, 19);
      }
      if (end > 19 && text.charCodeAt(19) === 46 && /^\d+$/.test(text.slice(20, end)))
        return end === n ? text : text.slice(0, end);
    }
  }
  let t = text.trim();
  if (isZeroDate(t)) return null;
  t = t.replace(/([+-]00)(:00(:00)?)?$/, '');
  t = t.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
  t = t.replace(/ 00:00:00$/, '');
  return t;
}

/** One spelling of a time of day: fraction without trailing zeros. */
export function normalizeTime(text: string): string {
  return text
    .trim()
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

/** A MySQL TIME ('-838:59:59.5') as seconds, in normalizeDecimal's spelling. */
export function mysqlTimeToSeconds(text: string): string {
  const m = /^\s*(-?)(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d+))?\s*$/.exec(text);
  if (!m) return text;
  const whole = BigInt(m[2]!) * 3600n + BigInt(m[3]!) * 60n + BigInt(m[4]!);
  return normalizeDecimal(`${m[1]}${whole}.${m[5] ?? '0'}`);
}
