import { asServerWork, waitingAt } from '../core/watchdog.js';
import { hash as hashOnce } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { queryMysql, withMysqlConnection, type SourceValue } from '../dialect/mysql/connection.js';
import { withPgClient } from '../dialect/postgres/connection.js';
import { beginTransaction, READING_SETTINGS } from '../dialect/postgres/transaction.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { describeError } from '../core/errors.js';
import { selectExpression, type SourceColumn } from '../dialect/mysql/catalog.js';
import { readTargetTables } from '../dialect/postgres/catalog.js';
import type { SourceViewColumn } from '../schema/translate/source-objects.js';
import { canonicalRowText } from '../vocabulary/canonical.js';
import { canonicalForColumn, type ColumnCanonical } from '../vocabulary/canonical/column-forms.js';
import { readPgRows } from '../dialect/postgres/read-copy-text.js';

/** A view to verify: its source columns and the columns whose list order MySQL leaves open. */
export interface ViewToVerify {
  name: string;
  columns: SourceViewColumn[];
  /** The view's name in the target, when the run's case rule changed it. */
  targetName?: string;
  /** The target's column names, in the order of `columns`, when the run's case rule changed them. */
  targetColumns?: string[];
  /** Column → separator of a GROUP_CONCAT without ORDER BY: its items are compared in any order. */
  unorderedLists?: Record<string, string>;
}

/** The outcome of comparing a view's rows on both sides. */
export interface ViewVerification {
  status: 'verified' | 'mismatch';
  sourceRows: number;
  targetRows: number;
  /** Rows in one side and not the other (as a multiset), counted. */
  differenceCount: number;
  /** The first differing rows, canonical values by column. */
  differences: { kind: 'missing' | 'extra'; row: Record<string, string | null> }[];
  note?: string;
  error?: string;
  durationMs: number;
}

/** Options of a view verification. */
export interface ViewVerifyOptions {
  /** Rows of a view held in memory to list differences; beyond, only the digests are compared. Default 200,000. */
  maxHeldRows?: number;
  /** Differences listed. Default 20. */
  maxListed?: number;
}

/** The SourceColumn shape canonicalForColumn reads, for a view's column. */
function sourceColumnOf(column: SourceViewColumn): SourceColumn {
  return {
    name: column.name,
    dataType: column.dataType,
    columnType: column.columnType,
    unsigned: /\bunsigned\b/.test(column.columnType),
    nullable: true,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    charset: column.charset,
    maxLength: null,
    numericPrecision: column.numericPrecision,
    numericScale: column.numericScale,
    datetimePrecision: column.datetimePrecision,
    enumValues: null,
    comment: '',
  };
}

/** Order-free digest of a multiset of row texts: the sum of their SHA-1s, mod 2^128. */
class MultisetDigest {
  rows = 0;
  private sum = 0n;
  add(text: string): void {
    const h = hashOnce('sha1', text, 'buffer');
    this.sum = (this.sum + h.readBigUInt64BE(0) * 18446744073709551616n + h.readBigUInt64BE(8)) & ((1n << 128n) - 1n);
    this.rows += 1;
  }
  get value(): string {
    return `${this.rows}:${this.sum.toString(16)}`;
  }
}

/**
 * Verifies a created view like a table: reads its rows on both sides, each with its own
 * driver, puts every value in the canonical form table verification uses (canonical.ts), and
 * compares the rows as a multiset (a view has no key): an order-free digest first, then, for
 * views small enough to hold, the rows that differ.
 */
export async function verifyView(
  source: DataSource,
  target: DataSource,
  schema: string,
  view: ViewToVerify,
  options: ViewVerifyOptions = {},
): Promise<ViewVerification> {
  const started = Date.now();
  const maxHeld = options.maxHeldRows ?? 200_000;
  const maxListed = options.maxListed ?? 20;
  try {
    const targetView = view.targetName ?? view.name;
    const pgNames = view.columns.map((c, i) => view.targetColumns?.[i] ?? c.name);
    const targetColumns =
      (await withPgClient(target, (client) => readTargetTables(client, schema, [targetView], ['v']))).get(targetView)
        ?.columns ?? [];
    const canonicals: ColumnCanonical[] = view.columns.map((column, i) => {
      const targetColumn = targetColumns.find((c) => c.name === pgNames[i]);
      if (!targetColumn)
        throw new Error(`the PostgreSQL view ${schema}.${targetView} has no column ${JSON.stringify(pgNames[i])}`);
      return canonicalForColumn(sourceColumnOf(column), targetColumn);
    });
    const separators = view.columns.map((c) => view.unorderedLists?.[c.name]);
    const rowText = (values: (string | null)[]): string => {
      separators.forEach((separator, i) => {
        const v = values[i];
        if (separator !== undefined && v !== null && v !== undefined)
          values[i] = v.split(separator).sort().join(separator);
      });
      return canonicalRowText(values);
    };
    const names = view.columns.map((c) => c.name);

    const sourceDigest = new MultisetDigest();
    let held: Map<string, number> | null = new Map();
    await withMysqlConnection(source, async (m) => {
      await queryMysql(m, "SET SESSION time_zone = '+00:00'");
      await queryMysql(m, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const sql = `SELECT ${view.columns.map((c) => selectExpression(sourceColumnOf(c))).join(', ')} FROM ${quoteMysql(view.name)}`;
      // A view may compute for a while before its first row: server work for the watchdog.
      await asServerWork(
        `reading view ${view.name} from MySQL`,
        () =>
          new Promise<void>((resolve, reject) => {
            let failure: unknown;
            const query = m.query({ sql, rowsAsArray: true });
            query.on('result', (row: unknown) => {
              if (failure !== undefined) return;
              try {
                const raw = row as SourceValue[];
                const text = rowText(canonicals.map((c, i) => c.fromMysql(raw[i] ?? null)));
                sourceDigest.add(text);
                if (held) {
                  held.set(text, (held.get(text) ?? 0) + 1);
                  if (sourceDigest.rows > maxHeld) held = null;
                }
              } catch (error) {
                failure = error;
              }
            });
            query.on('error', reject);
            query.on('end', () => (failure ? reject(failure) : resolve()));
          }),
      );
      await queryMysql(m, 'COMMIT');
    });

    const targetDigest = new MultisetDigest();
    const extra: string[] = [];
    let extraCount = 0;
    await withPgClient(target, async (client) => {
      await beginTransaction(client, { repeatableRead: true, readOnly: true, settings: READING_SETTINGS });
      const sql = `SELECT ${view.columns.map((_c, i) => canonicals[i]!.pgExpression(quotePg(pgNames[i]!))).join(', ')} FROM ${qualifyPg(schema, targetView)}`;
      for await (const batch of readPgRows(client, sql)) {
        waitingAt(`reading view ${targetView} from PostgreSQL`);
        for (const raw of batch) {
          const text = rowText(canonicals.map((c, i) => c.fromPg(raw[i] ?? null)));
          targetDigest.add(text);
          if (!held) continue;
          const left = held.get(text) ?? 0;
          if (left > 1) held.set(text, left - 1);
          else if (left === 1) held.delete(text);
          else {
            extraCount += 1;
            if (extra.length < maxListed) extra.push(text);
          }
        }
      }
      await client.query('COMMIT');
    });

    const equal = sourceDigest.value === targetDigest.value;
    const base = { sourceRows: sourceDigest.rows, targetRows: targetDigest.rows, durationMs: Date.now() - started };
    if (equal) return { status: 'verified', ...base, differenceCount: 0, differences: [] };
    if (!held)
      return {
        status: 'mismatch',
        ...base,
        differenceCount: Math.abs(sourceDigest.rows - targetDigest.rows),
        differences: [],
        note: `more than ${maxHeld} rows: the differing rows are not listed`,
      };
    const missing = [...held.entries()];
    const differences: ViewVerification['differences'] = [];
    const decode = (text: string): Record<string, string | null> => {
      const values: (string | null)[] = [];
      let i = 0;
      while (i < text.length) {
        if (text.startsWith('-|', i)) {
          values.push(null);
          i += 2;
          continue;
        }
        const bar = text.indexOf('|', i);
        const length = Number(text.slice(i, bar));
        values.push(text.slice(bar + 1, bar + 1 + length));
        i = bar + 1 + length;
      }
      return Object.fromEntries(names.map((n, k) => [n, values[k] ?? null]));
    };
    for (const [text] of missing)
      if (differences.length < maxListed) differences.push({ kind: 'missing', row: decode(text) });
    for (const text of extra)
      if (differences.length < maxListed) differences.push({ kind: 'extra', row: decode(text) });
    return {
      status: 'mismatch',
      ...base,
      differenceCount: missing.reduce((n, [, c]) => n + c, 0) + extraCount,
      differences,
    };
  } catch (error) {
    return {
      status: 'mismatch',
      sourceRows: -1,
      targetRows: -1,
      differenceCount: 0,
      differences: [],
      error: describeError(error),
      durationMs: Date.now() - started,
    };
  }
}
