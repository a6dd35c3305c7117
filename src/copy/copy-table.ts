import type { DataSource } from 'typeorm';
import { prepareSourceSession, withMysqlConnection, type SourceValue } from '../dialect/mysql/connection.js';
import { decodeRawRow, queryRawRows, type RawRowQuery } from '../dialect/mysql/raw-rows.js';
import { withPgClient, type PoolClient } from '../dialect/postgres/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import { My2pgError, PermanentError, RowRefused, TransientError } from '../core/errors.js';
import { isPermanentError, isRowRefusal } from '../dialect/driver-errors.js';
import { mysqlKeyRangeConditions } from '../dialect/mysql/key-range.js';
import { selectExpression, type SourceColumn, type SourceTable } from '../dialect/mysql/catalog.js';
import type { TargetTable } from '../dialect/postgres/catalog.js';
import { buildConverter, copyByteRuleFor, type ConvertOptions, type Converter } from './convert.js';
import type { NulPolicy } from '../schema/nul-columns.js';
import { BINARY_HEADER, BINARY_TRAILER, binaryKindFor } from './copy-binary.js';
import { CopyRowEncoder, type RowRefusal } from './copy-encoder.js';
import { BinaryUnfit } from './binary-row.js';
import { copyRowsCareful, copyRowsFast, type BatchLimits, type StartRawQuery } from './copy-writers.js';
import { STATE_SCHEMA } from '../state/entities.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { canonicalMysqlRow, rowCanonicalizerFor, rowKeyText } from '../vocabulary/canonical.js';
import { describeAdjustments, emptyAdjustments, hasAdjustments, type ColumnAdjustments, type TableAdjustments } from '../vocabulary/adjustments.js';
import { matchColumns, type ColumnMatch } from '../vocabulary/column-pairs.js';
import { loadTablePair } from '../state/run-catalog.js';

/** What to copy. */
export interface CopyTableInput {
  /** The run, so that rejected rows are recorded under it; without one they are only counted. */
  runId?: string | undefined;
  /** Which part of the table this copy is ('' or absent: the whole table). */
  part?: string | undefined;
  /** Source table name. */
  table: string;
  targetSchema: string;
  targetTable: string;
  /** Source columns to copy; undefined = all. */
  columns?: string[] | undefined;
  /** Rows per COPY batch. */
  batchSize: number;
  /** Bytes of COPY text per batch; default DEFAULT_BATCH_BYTES. */
  batchBytes?: number | undefined;
  /** One primary-key range (`from <= key < to`, null = unbounded) of a split table; absent = whole table. */
  range?: { column: string; from: string | null; to: string | null; count?: number } | undefined;
  /** `--nul` of the run: what a NUL character in text does. Default reject. */
  nul?: NulPolicy | undefined;
}

/** Callbacks through which a copy reports to its job. */
export interface CopyTableHooks {
  onProgress?(progress: { rows: number; total: number; rowsPerSecond: number }): void | Promise<void>;
  onLog?(line: string): void | Promise<void>;
  /** How often onProgress runs, ms. Default 1000. */
  progressIntervalMs?: number;
  /**
   * Aborted when the copy must stop (its run was cancelled): the source stream is destroyed
   * with the signal's reason, so the copy fails with it and its transaction rolls back.
   */
  signal?: AbortSignal | undefined;
  /** The run's table definitions, read once per run (absent: read this table's from both databases). */
  catalog?: RunCatalog | undefined;
}

/** One source column matched to its target column, with the converter the copy writes it through. */
export interface ColumnPair extends ColumnMatch {
  convert: Converter;
  /** What the converter had to change in this column's values. */
  adjustments: ColumnAdjustments;
}

/** The matched columns of a table, each with its converter. */
export function pairColumns(source: SourceTable, target: TargetTable, only?: readonly string[], convertOptions: ConvertOptions = {}): ColumnPair[] {
  return matchColumns(source, target, only).map((match) => {
    const adjustments = emptyAdjustments();
    return { ...match, convert: buildConverter(match.source, match.target, adjustments, convertOptions), adjustments };
  });
}

/** The label of a key range in `my2pg.rejected_rows.part` ('' is the whole table). */
export function copyPartLabel(range: { from: string | null; to: string | null }): string {
  return `${range.from ?? ''}..${range.to ?? ''}`;
}

/** The SELECT that streams a table in primary-key order (no order for a table without a key). */
export function buildSelect(table: SourceTable, columns: readonly SourceColumn[], range?: CopyTableInput['range']): string {
  const list = columns.map(selectExpression).join(', ');
  const order = table.primaryKey.length > 0 ? ` ORDER BY ${table.primaryKey.map(quoteMysql).join(', ')}` : '';
  return `SELECT ${list} FROM ${quoteMysql(table.name)}${buildRangeFilter(table, range).sql}${order}`;
}

/**
 * The WHERE of a key range on the MySQL side, with its bound values. Bounds are bound as text
 * and cast to the key's signedness, so BIGINT UNSIGNED keys compare exactly (not as doubles).
 */
export function buildRangeFilter(table: SourceTable, range: CopyTableInput['range']): { sql: string; values: string[] } {
  if (!range || (range.from === null && range.to === null)) return { sql: '', values: [] };
  const column = table.columns.find((c) => c.name === range.column);
  const { conditions, values } = mysqlKeyRangeConditions({ name: range.column, unsigned: column?.unsigned ?? false }, range);
  return { sql: ` WHERE ${conditions.join(' AND ')}`, values };
}

/** The COPY statement for the paired columns. */
export function buildCopy(schema: string, table: string, pairs: readonly ColumnPair[]): string {
  return `COPY ${qualifyPg(schema, table)} (${pairs.map((p) => quotePg(p.target.name)).join(', ')}) FROM STDIN`;
}

function describeKey(table: SourceTable, pairs: readonly ColumnPair[], row: readonly SourceValue[]): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  const names = table.primaryKey.length > 0 ? table.primaryKey : pairs.slice(0, 3).map((p) => p.source.name);
  for (const name of names) {
    const index = pairs.findIndex((p) => p.source.name === name);
    const value = index >= 0 ? row[index] : undefined;
    key[name] = value === undefined ? undefined : jsonSafe(value);
  }
  return key;
}



/** A source row the target refused, as recorded in `my2pg.rejected_rows`. */
export interface RejectedRow {
  key: Record<string, unknown>;
  keyText: string;
  column: string | null;
  reason: string;
  sqlstate: string | null;
  row: Record<string, unknown>;
}

/** What a table copy did. */
export interface CopyTableOutcome {
  /** Rows written to the target. */
  rows: number;
  /** Rows the target refused (listed in `my2pg.rejected_rows`). */
  rejected: number;
  durationMs: number;
  adjustments: TableAdjustments;
}

/**
 * Bytes of COPY text a copy holds at once (and hands to the socket at a time), besides the
 * row being read: batches are bounded by this as well as by rows, so wide rows cannot add up.
 */
export const DEFAULT_BATCH_BYTES = 2 * 1024 * 1024;

/** More rejected rows than this in one table means a wrong mapping, not bad rows: the table fails. */
export const MAX_REJECTED_ROWS = 100_000;

/** Longest text kept of one value of a rejected row (the record is for people; the source keeps the value). */
const MAX_REJECTED_VALUE_CHARS = 4096;
/** Rejected rows a fast copy holds until it commits; beyond, it starts over careful, which saves them batch by batch. */
const MAX_HELD_REJECTED_BYTES = 8 * 1024 * 1024;

function jsonSafe(value: SourceValue): unknown {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) {
    const shown = value.subarray(0, MAX_REJECTED_VALUE_CHARS >>> 1);
    return `0x${shown.toString('hex')}${shown.length < value.length ? `… (${value.length} bytes in all)` : ''}`;
  }
  if (typeof value !== 'string') return value;
  const shown = value.length > MAX_REJECTED_VALUE_CHARS ? `${value.slice(0, MAX_REJECTED_VALUE_CHARS)}… (${value.length} characters in all)` : value;
  // jsonb cannot hold NUL.
  return shown.includes('\u0000') ? shown.replace(/\u0000/g, '\\0') : shown;
}

function rejectedColumn(error: { column?: unknown; where?: unknown }): string | null {
  if (typeof error.column === 'string') return error.column;
  const where = typeof error.where === 'string' ? /, column (.+?)(?::|$)/m.exec(error.where) : null;
  return where?.[1] ?? null;
}

/** Approximate bytes of a rejected row's record, to bound what is held. */
function rejectedRowBytes(row: RejectedRow): number {
  let n = row.keyText.length + row.reason.length + 64;
  for (const v of Object.values(row.row)) n += typeof v === 'string' ? v.length : 16;
  return n;
}

async function saveRejectedRows(pg: PoolClient, runId: string, table: string, part: string, rows: readonly RejectedRow[]): Promise<void> {
  const columns = 8;
  let offset = 0;
  while (offset < rows.length) {
    // At most 500 rows and about 4 MB per INSERT.
    const slice: RejectedRow[] = [];
    let bytes = 0;
    while (offset < rows.length && slice.length < 500 && (slice.length === 0 || bytes < 4 * 1024 * 1024)) {
      bytes += rejectedRowBytes(rows[offset]!);
      slice.push(rows[offset]!);
      offset += 1;
    }
    const values: unknown[] = [];
    const tuples = slice.map((r, i) => {
      values.push(runId, table, part, JSON.stringify(r.key), r.keyText, r.column, r.reason, r.sqlstate, JSON.stringify(r.row));
      const b = i * (columns + 1);
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}::jsonb, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}::jsonb)`;
    });
    await pg.query(
      `INSERT INTO ${qualifyPg(STATE_SCHEMA, 'rejected_rows')} (run_id, table_name, part, key, key_text, column_name, reason, sqlstate, "row") VALUES ${tuples.join(', ')}`,
      values,
    );
  }
}

/**
 * A raw query that also ends when `signal` aborts (the run was cancelled, the worker is
 * stopping): the copy then fails with the signal's reason, and its transaction rolls back.
 */
function abortable(query: RawRowQuery, signal: AbortSignal | undefined): RawRowQuery {
  if (!signal) return query;
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('copy aborted'));
  });
  // Whoever awaits `done` hears it; this keeps an abort after the end from going unhandled.
  aborted.catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const done = Promise.race([query.done, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
  return { ...query, done };
}

/**
 * Copies one table: streams the source rows in key order inside a consistent snapshot,
 * converts each value for its target column, and writes them with COPY FROM STDIN. TRUNCATE
 * and COPY run in one PostgreSQL transaction, so a failure leaves the target as it was and a
 * rerun ends with exactly the source rows.
 *
 * A value the target column cannot hold rejects its row, never the table: a value my2pg
 * refuses is set aside at once; a row PostgreSQL refuses makes the copy start over in
 * batches under savepoints, and a refused batch is halved until the bad rows are found. The
 * good rows land, the bad ones go to `my2pg.rejected_rows` in the same transaction.
 */
export async function copyTable(source: DataSource, target: DataSource, input: CopyTableInput, hooks: CopyTableHooks = {}): Promise<CopyTableOutcome> {
  const started = Date.now();
  const { sourceTable, targetTable } = await loadTablePair(source, target, input, hooks.catalog);
  // Generated on both sides: PostgreSQL computes the value, so it is not copied.
  const pairs = pairColumns(sourceTable, targetTable, input.columns, { nul: input.nul }).filter((p) => !p.computed);
  const canon = rowCanonicalizerFor(pairs, sourceTable.primaryKey);
  const names = pairs.map((p) => p.source.name);
  const width = pairs.length;
  const selectSql = buildSelect(sourceTable, pairs.map((p) => p.source), input.range);
  const selectValues = buildRangeFilter(sourceTable, input.range).values;
  const rangeKey = input.range ? pairs.find((p) => p.source.name === input.range!.column)?.target.name : undefined;
  if (input.range && rangeKey === undefined) {
    throw new PermanentError(`table ${input.table}: the key column ${JSON.stringify(input.range.column)} of a range job is not copied; start a new run`, { table: input.table });
  }
  const copySql = buildCopy(input.targetSchema, targetTable.name, pairs);
  const limits: BatchLimits = { batchRows: Math.max(1, input.batchSize), batchBytes: Math.max(64 * 1024, input.batchBytes ?? DEFAULT_BATCH_BYTES) };
  // Rejected rows are replaced per part: a range job replaces only its own.
  const part = input.part ?? (input.range ? copyPartLabel(input.range) : '');

  let streamed = 0;
  /** Rejected rows not saved yet, and how many were rejected in all. */
  let held: RejectedRow[] = [];
  let heldBytes = 0;
  let rejectedCount = 0;
  let firstRejected: RejectedRow | undefined;
  let total = Math.max(0, Math.round(sourceTable.estimatedRows / Math.max(1, input.range?.count ?? 1)));
  let lastLogged = 0;
  const report = async (): Promise<void> => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    total = Math.max(total, streamed);
    await hooks.onProgress?.({ rows: streamed, total, rowsPerSecond: Math.round(streamed / seconds) });
  };
  const timer = setInterval(() => {
    report().catch(() => undefined);
  }, hooks.progressIntervalMs ?? 1000);

  const reject = (row: readonly SourceValue[], column: string | null, reason: string, sqlstate: string | null): void => {
    if (rejectedCount >= MAX_REJECTED_ROWS) {
      throw new PermanentError(
        `table ${input.table}: more than ${MAX_REJECTED_ROWS} rows refused (last: ${reason}); the mapping of column ${column ?? '?'} is probably wrong — fix the target column type, then retry the table`,
        { table: input.table });
    }
    const rowJson: Record<string, unknown> = {};
    for (let i = 0; i < width; i += 1) rowJson[names[i]!] = jsonSafe(row[i] ?? null);
    const record: RejectedRow = {
      key: describeKey(sourceTable, pairs, row),
      keyText: rowKeyText(canon, canonicalMysqlRow(canon, row)),
      column,
      reason,
      sqlstate,
      row: rowJson,
    };
    rejectedCount += 1;
    firstRejected ??= record;
    held.push(record);
    heldBytes += rejectedRowBytes(record);
  };
  const encoder = new CopyRowEncoder(
    pairs.map((p) => ({ name: p.source.name, rule: copyByteRuleFor(p.source, p.target), convert: p.convert, binary: binaryKindFor(p.source, p.target) })),
    input.table,
  );
  const logStreamed = (): void => {
    if (streamed - lastLogged >= limits.batchRows * 10) {
      lastLogged = streamed;
      Promise.resolve(hooks.onLog?.(`${streamed} rows streamed`)).catch(() => undefined);
    }
  };
  /** Counts each source row and sets aside the ones a converter refused. */
  const onRow = (careful: boolean) => (buffer: Buffer, start: number, _end: number, refusal: RowRefusal | null): void => {
    streamed += 1;
    if (refusal === null) return;
    reject(decodeRawRow(buffer, start, encoder.rawFields), refusal.column, refusal.reason, null);
    // A fast copy cannot save them before it commits; past this much it starts over careful.
    if (!careful && heldBytes > MAX_HELD_REJECTED_BYTES) throw new RowRefused(`more than ${MAX_HELD_REJECTED_BYTES >>> 20} MB of rejected rows`);
  };

  /** `binary` and `text`: one COPY for every row; `careful`: a COPY per batch, refused rows found by halving. */
  const attempt = async (mode: 'binary' | 'text' | 'careful'): Promise<void> => {
    const careful = mode === 'careful';
    encoder.useBinary(mode === 'binary');
    streamed = 0;
    lastLogged = 0;
    held = [];
    heldBytes = 0;
    rejectedCount = 0;
    firstRejected = undefined;
    for (const pair of pairs) Object.assign(pair.adjustments, emptyAdjustments());
    await withMysqlConnection(source, async (mysql) => {
      // The rows are read by one SELECT: InnoDB reads it from one consistent snapshot.
      await prepareSourceSession(mysql);
      await withPgClient(target, async (pg) => {
        const table = qualifyPg(input.targetSchema, targetTable.name);
        const begin = "BEGIN; SET LOCAL timezone = 'UTC'; SET LOCAL lock_timeout = '60s'";
        if (input.range && rangeKey !== undefined) {
          await pg.query(begin);
          // A range job owns only its keys: it deletes them (the table was emptied once by
          // prepare) so that a retry or rerun of this range alone ends exact.
          const bounds: string[] = [];
          const values: string[] = [];
          if (input.range.from !== null) bounds.push(`${quotePg(rangeKey)} >= $${values.push(input.range.from)}`);
          if (input.range.to !== null) bounds.push(`${quotePg(rangeKey)} < $${values.push(input.range.to)}`);
          await pg.query(`DELETE FROM ONLY ${table}${bounds.length > 0 ? ` WHERE ${bounds.join(' AND ')}` : ''}`, values);
        } else {
          await pg.query(`${begin}; TRUNCATE TABLE ONLY ${table}`);
        }
        if (input.runId) {
          await pg.query(`DELETE FROM ${qualifyPg(STATE_SCHEMA, 'rejected_rows')} WHERE run_id = $1 AND table_name = $2 AND part = $3`, [input.runId, input.table, part]);
        }
        const saveHeld = async (): Promise<void> => {
          if (input.runId && held.length > 0) await saveRejectedRows(pg, input.runId, input.table, part, held);
          held = [];
          heldBytes = 0;
        };
        const startQuery: StartRawQuery = (handlers) => abortable(queryRawRows(mysql, selectSql, selectValues, handlers), hooks.signal);
        hooks.signal?.throwIfAborted();
        if (careful) {
          await copyRowsCareful(pg, copySql, startQuery, encoder, limits, onRow(true), {
            isRowRejection: isRowRefusal,
            onRefused: (row, error) => {
              const e = error as Error & { code?: string; column?: string; where?: string };
              reject(decodeRawRow(row, 0, encoder.rawFields), rejectedColumn(e), e.message, e.code ?? null);
            },
            afterBatch: async () => {
              await saveHeld();
              logStreamed();
            },
          });
        } else {
          try {
            if (mode === 'binary') {
              await copyRowsFast(pg, `${copySql} WITH (FORMAT binary)`, startQuery, encoder, limits, onRow(false), logStreamed, { header: BINARY_HEADER, trailer: BINARY_TRAILER });
            } else {
              await copyRowsFast(pg, copySql, startQuery, encoder, limits, onRow(false), logStreamed);
            }
          } catch (error) {
            if (isRowRefusal(error)) throw new RowRefused((error as Error).message, { cause: error });
            throw error;
          }
        }
        await saveHeld();
        // Cancelled while the last rows went in: roll back rather than commit.
        hooks.signal?.throwIfAborted();
        await pg.query('COMMIT');
      });
    });
  };

  try {
    let mode: 'binary' | 'text' | 'careful' = encoder.canWriteBinary ? 'binary' : 'text';
    for (;;) {
      try {
        await attempt(mode);
        break;
      } catch (error) {
        if (error instanceof BinaryUnfit && mode === 'binary') {
          await hooks.onLog?.(`${error.message}; copying again in text format`);
          mode = 'text';
        } else if (error instanceof RowRefused && mode !== 'careful') {
          await hooks.onLog?.(`PostgreSQL refused a row (${error.message}); copying again in batches to find the refused rows`);
          mode = 'careful';
        } else {
          throw error;
        }
      }
    }
  } catch (error) {
    if (error instanceof My2pgError) throw error;
    throw (isPermanentError(error) ? new PermanentError(`table ${input.table}: ${(error as Error).message}`, { table: input.table, cause: error }) : new TransientError(`table ${input.table}: ${(error as Error).message}`, { table: input.table, cause: error }));
  } finally {
    clearInterval(timer);
  }
  await report();
  const adjustments: TableAdjustments = {};
  for (const pair of pairs) {
    if (hasAdjustments(pair.adjustments)) adjustments[pair.source.name] = pair.adjustments;
  }
  const rows = streamed - rejectedCount;
  await hooks.onLog?.(`copied ${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const line of describeAdjustments(adjustments)) await hooks.onLog?.(`adjusted: ${line}`);
  if (firstRejected) {
    await hooks.onLog?.(`rejected ${rejectedCount} rows (listed in my2pg.rejected_rows), e.g. ${JSON.stringify(firstRejected.key)}: ${firstRejected.column ?? ''} ${firstRejected.reason}`);
  }
  return { rows, rejected: rejectedCount, durationMs: Date.now() - started, adjustments };
}
