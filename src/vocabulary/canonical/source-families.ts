import { BINARY_TYPES, INTEGER_TYPES, TEXT_TYPES } from '../type-families.js';

/**
 * The MySQL type families that both databases can print alike (see digest-forms.ts):
 * integers with YEAR, text with ENUM, byte strings.
 */
export const INTEGER_SOURCE: ReadonlySet<string> = new Set([...INTEGER_TYPES, 'year']);
export const TEXT_SOURCE: ReadonlySet<string> = new Set([...TEXT_TYPES, 'enum']);
export const BINARY_SOURCE = BINARY_TYPES;
