import { createHash } from 'node:crypto';
import type { NamingRules } from '../vocabulary/naming.js';
import type { RangeDigests } from './checksum-types.js';

/** What the `format` field of every receipt says: a file without it is not a receipt. */
export const RECEIPT_FORMAT = 'my2pg-receipt';
/** The receipt layout this version writes and reads. */
export const RECEIPT_VERSION = 1;

/** Where a database is: never a user or a password. */
export interface DatabaseIdentity {
  host: string;
  port: number;
  database: string;
  /** The target schema (PostgreSQL only). */
  schema?: string;
}

/** The source's binary-log position the receipt holds for. */
export interface ReceiptPosition {
  file: string;
  position: number;
  gtid: string | null;
}

/** One table of a receipt: what was hashed, in which ranges, and both sides' figures per range. */
export interface ReceiptTable {
  table: string;
  targetTable: string;
  /** Source columns compared (null: every column). */
  columns: string[] | null;
  /** The run's `where` condition of the table (null: every row). */
  where: string | null;
  /** How the key space was cut (splitKeySpace of these); null: one range. */
  split: { min: string; max: string; count: number } | null;
  /** Every range either side held rows in, in key order. */
  ranges: RangeDigests[];
  totals: { sourceRows: number; targetRows: number; ranges: number; equal: boolean };
}

/** A receipt: per table and range, both sides' rows and digests, at a binary-log position, sealed. */
export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  version: number;
  /** `verify` (a verification of a settled run) or `cutover` (the frozen position of a go). */
  kind: 'verify' | 'cutover';
  runId: string;
  createdAt: string;
  source: DatabaseIdentity;
  target: DatabaseIdentity;
  /** null when the source writes no binary log, or when it moved during the verification (see positionNote). */
  position: ReceiptPosition | null;
  positionNote: string;
  method: 'checksum';
  /** The run's renames and case (which target column each source column was compared with). */
  naming: NamingRules | null;
  tables: ReceiptTable[];
  /** Tables dropped from a following run (`resume --skip-table`), not in `tables`: which, when, why. Absent: none. */
  skippedTables?: { table: string; at: string; reason: string }[];
  seal: { algorithm: 'sha256'; digest: string };
}

/** JSON with every object's keys sorted and no white space: the form the seal is computed over. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 (hex) of the canonical JSON of everything in the receipt but its seal. */
export function sealOf(receipt: Omit<Receipt, 'seal'> | Receipt): string {
  const { seal: _seal, ...rest } = receipt as Receipt;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/** The receipt with its seal computed. */
export function sealReceipt(unsealed: Omit<Receipt, 'seal'>): Receipt {
  return { ...unsealed, seal: { algorithm: 'sha256', digest: sealOf(unsealed) } };
}

/** What reading a receipt file found. */
export type ReadReceipt =
  | { kind: 'receipt'; receipt: Receipt; sealed: true }
  | { kind: 'broken-seal'; receipt: Receipt; expected: string; found: string }
  | { kind: 'not-a-receipt'; why: string };

/**
 * Reads a receipt's text: JSON whose `format` is my2pg's is a receipt (an unknown version, a
 * missing seal or a malformed table make it not one); its seal is checked before anything
 * else is believed.
 */
export function parseReceipt(text: string): ReadReceipt {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'not-a-receipt', why: `it is not JSON (${(error as Error).message})` };
  }
  const r = value as Partial<Receipt> | null;
  if (!r || typeof r !== 'object' || r.format !== RECEIPT_FORMAT)
    return { kind: 'not-a-receipt', why: `it has no "format": "${RECEIPT_FORMAT}"` };
  if (r.version !== RECEIPT_VERSION)
    return {
      kind: 'not-a-receipt',
      why: `it is version ${String(r.version)}, this my2pg reads version ${RECEIPT_VERSION}`,
    };
  if (!r.seal || typeof r.seal.digest !== 'string' || r.seal.algorithm !== 'sha256')
    return { kind: 'not-a-receipt', why: 'it has no sha256 seal' };
  const receipt = r as Receipt;
  const expected = sealOf(receipt);
  if (expected !== receipt.seal.digest)
    return { kind: 'broken-seal', receipt, expected: receipt.seal.digest, found: expected };
  if (!Array.isArray(receipt.tables) || typeof receipt.runId !== 'string')
    return { kind: 'not-a-receipt', why: 'its tables or run id are missing' };
  return { kind: 'receipt', receipt, sealed: true };
}

/** A range's label as printed and selected: `from..to`, an open end as `…`. */
export function rangeLabel(range: { from: string | null; to: string | null }): string {
  return `${range.from ?? '…'}..${range.to ?? '…'}`;
}

/** The host, port and database of a URL, without its user or password. */
export function identityOfUrl(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : defaultPort };
}
