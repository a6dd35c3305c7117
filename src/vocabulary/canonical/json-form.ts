import { parse as parseLosslessJson } from 'lossless-json';
import { normalizeDecimal } from './number-forms.js';

/** A JSON number already in canonical spelling, printed as it is. */
class CanonicalNumber {
  constructor(readonly text: string) {}
}

function stringifyCanonical(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof CanonicalNumber) return value.text;
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stringifyCanonical).join(',')}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stringifyCanonical(object[k])}`).join(',')}}`;
}

/**
 * One spelling of a JSON document, as jsonb would keep it: keys sorted, the last of duplicate
 * keys wins, no whitespace, numbers exact in normalizeDecimal's spelling (never through a JS
 * number), strings with one escaping. Text that is not JSON comes back as it is.
 */
export function canonicalJson(text: string): string {
  try {
    const parsed: unknown = parseLosslessJson(text, null, {
      parseNumber: (n: string) => new CanonicalNumber(normalizeDecimal(n)),
      onDuplicateKey: ({ newValue }: { newValue: unknown }) => newValue,
    });
    return stringifyCanonical(parsed);
  } catch {
    // Text that is not JSON has no other spelling: it is compared as it is.
    return text;
  }
}
