import type { DataSource } from 'typeorm';
import type { KeyRange } from '../core/key-range.js';
import { describeError } from '../core/errors.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import { readRejectedKeys } from '../state/rejected-rows.js';
import { recordVerifications } from '../state/run-tables.js';
import { checksumTable, type RangeMismatch, type RowDifference } from './checksum.js';
import type { DigestsHandler } from './checksum-types.js';
import { countBothSides } from './count-rows.js';
import type { VerifyMethod } from './verify-method.js';
import type { RunCatalog } from '../state/run-catalog.js';

export type { VerifyMethod } from './verify-method.js';

/** Verification of one table, as recorded in `my2pg.run_tables.verification` and returned by finalize. */
export interface TableVerification {
  table: string;
  method: VerifyMethod;
  /**
   * `verified` equal on both sides; `rejected` equal but for the rows the copy rejected;
   * `mismatch` different (or not checkable); `unverified` not checked (`--verify none`).
   */
  status: 'verified' | 'rejected' | 'mismatch' | 'unverified';
  sourceRows: number;
  targetRows: number;
  /** Rows the copy rejected (my2pg.rejected_rows). */
  rejected: number;
  /** The run's `where` condition of the table: sourceRows are the MySQL rows matching it. */
  where?: string;
  mismatchedRanges?: RangeMismatch[];
  differences?: RowDifference[];
  differenceCount?: number;
  note?: string;
  error?: string;
  durationMs: number;
  at: string;
}

/** Options of a verification. */
export interface VerifyOptions {
  method: VerifyMethod;
  /** Tables verified at once. Default 2. */
  concurrency?: number;
  log?: (line: string) => void | Promise<void>;
  /** After each table: its result and how many of `total` tables are done. */
  onTable?: (verification: TableVerification, done: number, total: number) => void | Promise<void>;
  /** Each checksummed table's ranges and digests of both sides, as a receipt keeps them. */
  onDigests?: DigestsHandler;
}

function describeDifference(d: RowDifference): string {
  const key = Object.entries(d.key)
    .map(([k, v]) => `${k}=${v === null ? 'NULL' : v}`)
    .join(', ');
  return d.kind === 'changed'
    ? `row ${key} differs in ${d.columns?.join(', ')}`
    : `row ${key} ${d.kind === 'missing' ? 'is missing from PostgreSQL' : 'is only in PostgreSQL'}`;
}

/** One sentence for a table that is not verified, naming ranges and rows. */
export function describeVerificationProblem(v: TableVerification): string {
  if (v.error) return `table ${v.table}: verification failed: ${v.error}`;
  if (v.status === 'rejected')
    return `table ${v.table}: ${v.rejected} rows rejected (see npx my2pg status); the other rows are equal`;
  const parts = [
    v.where === undefined
      ? `table ${v.table}: ${v.sourceRows} rows in MySQL, ${v.targetRows} in PostgreSQL`
      : `table ${v.table} (where: ${v.where}): ${v.sourceRows} rows in MySQL match the condition, ${v.targetRows} in PostgreSQL`,
  ];
  if (v.method === 'checksum') {
    parts.push(`${v.differenceCount ?? 0} rows differ`);
    // Shown by first and last key (a range's `to` is its first key past the end).
    const ranges = (v.mismatchedRanges ?? [])
      .slice(0, 3)
      .map(
        (r) =>
          `${r.from ?? '…'}..${r.to === null ? '…' : /^-?\d+$/.test(r.to) ? (BigInt(r.to) - 1n).toString() : `<${r.to}`}`,
      );
    if (ranges.length > 0)
      parts.push(`in key ranges ${ranges.join(', ')}${(v.mismatchedRanges?.length ?? 0) > 3 ? ' and more' : ''}`);
    const rows = (v.differences ?? []).slice(0, 5).map(describeDifference);
    if (rows.length > 0) parts.push(rows.join('; '));
    if (v.note) parts.push(v.note);
  }
  return parts.join(': ');
}

/** The part of a table one range job copied: its key range and its label in `my2pg.rejected_rows`. */
export interface TablePart {
  range: { column: string } & KeyRange;
  part: string;
}

/**
 * Verifies one table, or one key range of it (a range job's part), by the method; never
 * throws: a failure is a `mismatch` carrying the error.
 */
export async function verifyTable(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  table: Pick<RunTableRow, 'tableName' | 'targetTable' | 'rejectedRows'>,
  method: VerifyMethod,
  part?: TablePart,
  catalog?: RunCatalog,
  onDigests?: DigestsHandler,
): Promise<TableVerification> {
  const started = Date.now();
  const at = (): string => new Date().toISOString();
  let rejected = part ? 0 : (table.rejectedRows ?? 0);
  // A table copied under a `where`: MySQL's side is the rows matching it, the target's every row.
  const where = run.options.where?.[table.tableName];
  const base = { table: table.tableName, method, ...(where === undefined ? {} : { where }) };
  if (method === 'none') {
    return { ...base, rejected, status: 'unverified', sourceRows: -1, targetRows: -1, durationMs: 0, at: at() };
  }
  try {
    if (method === 'count') {
      if (part) throw new Error('a key range is verified by checksum only');
      const check = await countBothSides(source, target, run.targetSchema, table.tableName, table.targetTable, where);
      const status = check.equal
        ? 'verified'
        : rejected > 0 && check.sourceRows - check.targetRows === rejected
          ? 'rejected'
          : 'mismatch';
      return {
        ...base,
        rejected,
        status,
        sourceRows: check.sourceRows,
        targetRows: check.targetRows,
        durationMs: Date.now() - started,
        at: at(),
      };
    }
    const rejectedKeys =
      part || rejected > 0 ? await readRejectedKeys(target, run.id, table.tableName, part?.part) : undefined;
    if (part) for (const n of rejectedKeys?.values() ?? []) rejected += n;
    const columns = Array.isArray(run.options.columns?.[table.tableName])
      ? (run.options.columns[table.tableName] as string[])
      : undefined;
    const check = await checksumTable(source, target, {
      table: table.tableName,
      targetSchema: run.targetSchema,
      targetTable: table.targetTable,
      columns,
      rejectedKeys: rejectedKeys && rejectedKeys.size > 0 ? rejectedKeys : undefined,
      range: part?.range,
      where,
      naming: run.options.naming,
      catalog,
    });
    onDigests?.(table.tableName, check.digests);
    return {
      ...base,
      rejected,
      status: check.status,
      sourceRows: check.sourceRows,
      targetRows: check.targetRows,
      mismatchedRanges: check.mismatchedRanges,
      differences: check.differences,
      differenceCount: check.differenceCount,
      ...(check.note ? { note: check.note } : {}),
      durationMs: check.durationMs,
      at: at(),
    };
  } catch (error) {
    return {
      ...base,
      rejected,
      status: 'mismatch',
      sourceRows: -1,
      targetRows: -1,
      error: describeError(error),
      durationMs: Date.now() - started,
      at: at(),
    };
  }
}

const STATUS_RANK: Record<TableVerification['status'], number> = {
  unverified: 0,
  verified: 1,
  rejected: 2,
  mismatch: 3,
};

/** One table's verification from its parts' (the key ranges its jobs verified). */
export function mergeVerifications(parts: readonly TableVerification[]): TableVerification {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const status = parts.map((p) => p.status).reduce((a, b) => (STATUS_RANK[b] > STATUS_RANK[a] ? b : a));
  const unknown = parts.some((p) => p.sourceRows < 0);
  const sum = (pick: (p: TableVerification) => number): number => parts.reduce((n, p) => n + pick(p), 0);
  const errors = parts.filter((p) => p.error).map((p) => p.error!);
  const notes = parts.filter((p) => p.note).map((p) => p.note!);
  const merged: TableVerification = {
    table: first.table,
    method: first.method,
    ...(first.where === undefined ? {} : { where: first.where }),
    status,
    sourceRows: unknown ? -1 : sum((p) => p.sourceRows),
    targetRows: unknown ? -1 : sum((p) => p.targetRows),
    rejected: sum((p) => p.rejected),
    durationMs: sum((p) => p.durationMs),
    at: parts
      .map((p) => p.at)
      .sort()
      .at(-1)!,
  };
  if (first.method === 'checksum') {
    merged.mismatchedRanges = parts.flatMap((p) => p.mismatchedRanges ?? []);
    merged.differences = parts.flatMap((p) => p.differences ?? []).slice(0, 100);
    merged.differenceCount = sum((p) => p.differenceCount ?? 0);
  }
  if (notes.length > 0) merged.note = notes.join('; ');
  if (errors.length > 0) merged.error = errors.join('; ');
  return merged;
}

/** Records a table's verification in `my2pg.run_tables` and logs one line for it. */
async function recordTableVerification(
  target: DataSource,
  run: RunRow,
  v: TableVerification,
  log: VerifyOptions['log'],
): Promise<void> {
  await recordVerifications(target, run.id, [
    {
      table: v.table,
      sourceRows: v.sourceRows,
      targetRows: v.targetRows,
      verification: v as unknown as Record<string, unknown>,
    },
  ]);
  await log?.(
    v.status === 'verified' || v.status === 'unverified'
      ? `table ${v.table}: ${v.status} (${v.method}, ${v.sourceRows} rows, ${(v.durationMs / 1000).toFixed(1)} s)`
      : describeVerificationProblem(v),
  );
}

/**
 * Verifies every table of a run by the chosen method, a few tables at once, and records each
 * result in `my2pg.run_tables`. A table whose copy jobs already verified it (`done`, every part
 * of it) is recorded as they found it, not read again.
 */
export async function verifyRunTables(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  tables: readonly RunTableRow[],
  options: VerifyOptions & { done?: ReadonlyMap<string, TableVerification>; catalog?: RunCatalog },
): Promise<TableVerification[]> {
  const results: TableVerification[] = new Array(tables.length);
  // What the copy jobs verified is recorded in one statement, problems named one line each.
  const todo: number[] = [];
  const done: TableVerification[] = [];
  tables.forEach((table, index) => {
    const found = options.done?.get(table.tableName);
    if (found && found.method === options.method) {
      results[index] = found;
      done.push(found);
    } else {
      todo.push(index);
    }
  });
  await recordVerifications(
    target,
    run.id,
    done.map((v) => ({
      table: v.table,
      sourceRows: v.sourceRows,
      targetRows: v.targetRows,
      verification: v as unknown as Record<string, unknown>,
    })),
  );
  if (done.length > 0) {
    const equal = done.filter((v) => v.status === 'verified').length;
    await options.log?.(
      `${done.length} tables verified by their copy jobs: ${equal} equal${done.length > equal ? `, ${done.length - equal} not` : ''}`,
    );
    for (const v of done)
      if (v.status !== 'verified' && v.status !== 'unverified') await options.log?.(describeVerificationProblem(v));
    for (const [i, v] of done.entries()) await options.onTable?.(v, i + 1, tables.length);
  }
  let next = 0;
  let finished = 0;
  const { method, catalog, onDigests } = options;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const index = todo[next]!;
      next += 1;
      const v = await verifyTable(source, target, run, tables[index]!, method, undefined, catalog, onDigests);
      results[index] = v;
      await recordTableVerification(target, run, v, options.log);
      finished += 1;
      await options.onTable?.(v, done.length + finished, tables.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, todo.length)) }, worker));
  return results;
}
