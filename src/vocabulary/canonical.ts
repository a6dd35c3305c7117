import { hash as hashOnce } from 'node:crypto';
import type { SourceValue } from '../dialect/mysql/connection.js';
import type { ColumnMatch } from './column-pairs.js';
import { canonicalForColumn, type ColumnCanonical } from './canonical/column-forms.js';

/*
 * Canonical rows: how a table's rows become canonical keys and row texts, the identity of a row
 * in verification and in my2pg.rejected_rows. The value forms they are made of live in
 * canonical/: numbers, dates, JSON, spatial values, one column's forms per side
 * (column-forms.ts), and the forms both databases print alike (digest-forms.ts).
 */

/** A row's canonical values as one text in which no two rows collide (length-prefixed). */
export function canonicalRowText(values: readonly (string | null)[]): string {
  let out = '';
  for (const v of values) out += v === null ? '-|' : `${v.length}|${v}`;
  return out;
}

/** How a table's rows are turned into canonical keys and row texts, per side. */
export interface RowCanonicalizer {
  canonicals: ColumnCanonical[];
  /** Indexes (into the paired columns) of the primary key; empty when the table has none. */
  keyIndexes: number[];
  keyNames: string[];
}

export function rowCanonicalizerFor(pairs: readonly ColumnMatch[], primaryKey: readonly string[]): RowCanonicalizer {
  const canonicals = pairs.map((p) => canonicalForColumn(p.source, p.target));
  const keyIndexes = primaryKey.map((name) => pairs.findIndex((p) => p.source.name === name));
  const keyed = keyIndexes.length > 0 && keyIndexes.every((i) => i >= 0);
  return { canonicals, keyIndexes: keyed ? keyIndexes : [], keyNames: keyed ? [...primaryKey] : [] };
}

/** The canonical values of a MySQL row. */
export function canonicalMysqlRow(c: RowCanonicalizer, row: readonly SourceValue[]): (string | null)[] {
  const out = new Array<string | null>(c.canonicals.length);
  for (let i = 0; i < out.length; i += 1) out[i] = c.canonicals[i]!.fromMysql(row[i] ?? null);
  return out;
}

/**
 * The identity of a row in verification and in `my2pg.rejected_rows`: its canonical primary
 * key, or for a table without one the hash of its whole canonical row.
 */
export function rowKeyText(c: RowCanonicalizer, values: readonly (string | null)[]): string {
  // A whole row can be megabytes: a keyless row is known by the hash of its canonical text.
  if (c.keyIndexes.length === 0) return `row ${hashOnce('sha1', canonicalRowText(values), 'hex')}`;
  return canonicalRowText(c.keyIndexes.map((i) => values[i] ?? null));
}
