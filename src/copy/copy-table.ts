import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pgCopyStreams from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import { queryMysql, streamMysqlRows, withMysqlConnection, type SourceValue } from '../db/mysql.js';
import { withPgClient, type PoolClient } from '../db/postgres.js';
import { qualifyPg, quoteMysql, quotePg } from '../db/quote.js';
import { isPermanentError, MigrationError } from '../errors.js';
import { readSourceCatalog, selectExpression, type SourceColumn, type SourceTable } from '../schema/source-catalog.js';
import { readTargetTables, type TargetColumn, type TargetTable } from '../schema/target-catalog.js';
import { buildConverter, emptyAdjustments, hasAdjustments, ValueError, type ColumnAdjustments, type ConvertOptions, type Converter } from './convert.js';
import { targetIdentifier } from '../schema/identifiers.js';
import type { NulPolicy } from '../schema/nul-columns.js';
import { encodeCopyRow } from './copy-text.js';
import { STATE_SCHEMA } from '../state/entities.js';
import { canonicalMysqlRow, rowCanonicalizerFor, rowKeyText } from '../verify/canonical.js';

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
  /** Rows per COPY write. */
  batchSize: number;
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
}

/** One source column matched to its target column. */
export interface ColumnPair {
  source: SourceColumn;
  target: TargetColumn;
  convert: Converter;
  /** What the converter had to change in this column's values. */
  adjustments: ColumnAdjustments;
  /**
   * A generated column on both sides: PostgreSQL computes it, so the copy leaves it out,
   * while verification still compares its values (a wrong translation shows as a mismatch).
   */
  computed?: boolean;
}

/**
 * Finds the target column for a source column: same name, else the name my2pg gives a column
 * longer than 63 bytes, else the one same name ignoring case.
 */
export function findTargetColumn(target: TargetTable, name: string): TargetColumn | undefined {
  const exact = target.columns.find((c) => c.name === name) ?? target.columns.find((c) => c.name === targetIdentifier(name));
  if (exact) return exact;
  const folded = target.columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/**
 * Pairs source columns with target columns. A source column the target lacks is a permanent
 * error naming it; so is a target column PostgreSQL computes itself, unless the source column
 * is generated too (then the pair is marked `computed`).
 */
export function pairColumns(source: SourceTable, target: TargetTable, only?: readonly string[], convertOptions: ConvertOptions = {}): ColumnPair[] {
  const wanted = only ? source.columns.filter((c) => only.includes(c.name)) : source.columns;
  if (only) {
    const missing = only.filter((name) => !source.columns.some((c) => c.name === name));
    if (missing.length > 0) {
      throw new MigrationError(
        `table ${source.name}: the source has no column ${missing.map((m) => JSON.stringify(m)).join(', ')}; fix the entity definition`,
        { table: source.name },
        true,
      );
    }
  }
  const missing: string[] = [];
  const pairs: ColumnPair[] = [];
  for (const column of wanted) {
    const targetColumn = findTargetColumn(target, column.name);
    if (!targetColumn) {
      missing.push(column.name);
      continue;
    }
    if (targetColumn.generated && !column.generated) {
      throw new MigrationError(
        `table ${source.name}: target column ${JSON.stringify(targetColumn.name)} is GENERATED ALWAYS in PostgreSQL and cannot be filled; exclude the column or make it a plain column`,
        { table: source.name },
        true,
      );
    }
    const adjustments = emptyAdjustments();
    pairs.push({ source: column, target: targetColumn, convert: buildConverter(column, targetColumn, adjustments, convertOptions), adjustments, ...(targetColumn.generated ? { computed: true } : {}) });
  }
  if (missing.length > 0) {
    throw new MigrationError(
      `table ${source.name}: the target table ${JSON.stringify(target.name)} has no column ${missing.map((m) => JSON.stringify(m)).join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} to the target (or drop the table so my2pg creates it), then retry the table`,
      { table: source.name },
      true,
    );
  }
  return pairs;
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
  const cast = column?.unsigned ? 'UNSIGNED' : 'SIGNED';
  const parts: string[] = [];
  const values: string[] = [];
  if (range.from !== null) {
    parts.push(`${quoteMysql(range.column)} >= CAST(? AS ${cast})`);
    values.push(range.from);
  }
  if (range.to !== null) {
    parts.push(`${quoteMysql(range.column)} < CAST(? AS ${cast})`);
    values.push(range.to);
  }
  return { sql: ` WHERE ${parts.join(' AND ')}`, values };
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

/** Loads the source and target definitions of one table. */
export async function loadTablePair(source: DataSource, target: DataSource, input: CopyTableInput): Promise<{ sourceTable: SourceTable; targetTable: TargetTable }> {
  const catalog = await readSourceCatalog(source, [input.table]);
  const sourceTable = catalog.tables.find((t) => t.name === input.table);
  if (!sourceTable) {
    throw new MigrationError(`table ${input.table}: it no longer exists in the MySQL source database ${catalog.database}`, { table: input.table }, true);
  }
  const targetTables = await withPgClient(target, (client) => readTargetTables(client, input.targetSchema, [input.targetTable]));
  const targetTable = targetTables.get(input.targetTable);
  if (!targetTable) {
    throw new MigrationError(
      `table ${input.table}: the target table ${input.targetSchema}.${input.targetTable} does not exist; start a new run so my2pg creates it`,
      { table: input.table },
      true,
    );
  }
  return { sourceTable, targetTable };
}


/** Columns whose values had to be changed to fit PostgreSQL, with the counts; absent when none. */
export type TableAdjustments = Record<string, ColumnAdjustments>;

/** Sentences for a table's adjustments, for logs and reports. */
export function describeAdjustments(adjustments: TableAdjustments): string[] {
  const out: string[] = [];
  for (const [column, a] of Object.entries(adjustments)) {
    if (a.zeroDatesToNull > 0) out.push(`column ${column}: ${a.zeroDatesToNull} zero dates written as NULL`);
    if (a.nulCharactersRemoved > 0) out.push(`column ${column}: NUL characters removed from ${a.nulCharactersRemoved} values (--nul strip)`);
    if (a.sridsDropped > 0) out.push(`column ${column}: the SRID of ${a.sridsDropped} geometry values not kept (the column holds no SRID)`);
  }
  return out;
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

/** More rejected rows than this in one table means a wrong mapping, not bad rows: the table fails. */
export const MAX_REJECTED_ROWS = 100_000;

/**
 * SQLSTATE classes in which PostgreSQL refuses a value or a row (data exception, integrity
 * violation, program limit such as an oversized index row): the row is rejected, not retried.
 */
export function isRowRejection(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/** Thrown inside a fast copy that met a refused row: the copy starts over row-careful. */
class RowRefused extends Error {}

function jsonSafe(value: SourceValue): unknown {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  // jsonb cannot hold NUL.
  return typeof value === 'string' && value.includes('\u0000') ? value.replace(/\u0000/g, '\\0') : value;
}

function rejectedColumn(error: { column?: unknown; where?: unknown }): string | null {
  if (typeof error.column === 'string') return error.column;
  const where = typeof error.where === 'string' ? /, column (.+?)(?::|$)/m.exec(error.where) : null;
  return where?.[1] ?? null;
}

async function copyLines(pg: PoolClient, copySql: string, lines: readonly string[]): Promise<void> {
  await pipeline(Readable.from([Buffer.from(lines.join(''), 'utf8')]), pg.query(pgCopyStreams.from(copySql)));
}

async function saveRejectedRows(pg: PoolClient, runId: string, table: string, part: string, rows: readonly RejectedRow[]): Promise<void> {
  const columns = 8;
  for (let offset = 0; offset < rows.length; offset += 500) {
    const slice = rows.slice(offset, offset + 500);
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
  const { sourceTable, targetTable } = await loadTablePair(source, target, input);
  // Generated on both sides: PostgreSQL computes the value, so it is not copied.
  const pairs = pairColumns(sourceTable, targetTable, input.columns, { nul: input.nul }).filter((p) => !p.computed);
  const canon = rowCanonicalizerFor(pairs, sourceTable.primaryKey);
  const converters = pairs.map((p) => p.convert);
  const names = pairs.map((p) => p.source.name);
  const width = converters.length;
  const selectSql = buildSelect(sourceTable, pairs.map((p) => p.source), input.range);
  const selectValues = buildRangeFilter(sourceTable, input.range).values;
  const rangeKey = input.range ? pairs.find((p) => p.source.name === input.range!.column)?.target.name : undefined;
  if (input.range && rangeKey === undefined) {
    throw new MigrationError(`table ${input.table}: the key column ${JSON.stringify(input.range.column)} of a range job is not copied; start a new run`, { table: input.table }, true);
  }
  const copySql = buildCopy(input.targetSchema, targetTable.name, pairs);
  const batchSize = Math.max(1, input.batchSize);
  // Rejected rows are replaced per part: a range job replaces only its own.
  const part = input.part ?? (input.range ? `${input.range.from ?? ''}..${input.range.to ?? ''}` : '');

  let streamed = 0;
  let rejected: RejectedRow[] = [];
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
    if (rejected.length >= MAX_REJECTED_ROWS) {
      throw new MigrationError(
        `table ${input.table}: more than ${MAX_REJECTED_ROWS} rows refused (last: ${reason}); the mapping of column ${column ?? '?'} is probably wrong — fix the target column type, then retry the table`,
        { table: input.table },
        true,
      );
    }
    const rowJson: Record<string, unknown> = {};
    for (let i = 0; i < width; i += 1) rowJson[names[i]!] = jsonSafe(row[i] ?? null);
    rejected.push({
      key: describeKey(sourceTable, pairs, row),
      keyText: rowKeyText(canon, canonicalMysqlRow(canon, row)),
      column,
      reason,
      sqlstate,
      row: rowJson,
    });
  };
  /** Converts one row to its COPY line, or rejects it (null). */
  const values: (string | null)[] = new Array<string | null>(width);
  const encode = (row: SourceValue[]): string | null => {
    try {
      for (let i = 0; i < width; i += 1) values[i] = converters[i]!(row[i] ?? null);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      reject(row, error.column, error.reason, null);
      return null;
    }
    return encodeCopyRow(values);
  };
  const logStreamed = (): void => {
    if (streamed - lastLogged >= batchSize * 10) {
      lastLogged = streamed;
      Promise.resolve(hooks.onLog?.(`${streamed} rows streamed`)).catch(() => undefined);
    }
  };

  /** Fast: one COPY for the whole table. */
  const copyFast = async (pg: PoolClient, sourceRows: Readable): Promise<void> => {
    let chunk: string[] = [];
    const encoder = new Transform({
      writableObjectMode: true,
      readableObjectMode: false,
      transform(row: SourceValue[], _encoding, done) {
        let line: string | null;
        try {
          line = encode(row);
        } catch (error) {
          done(error as Error);
          return;
        }
        streamed += 1;
        if (line !== null) chunk.push(line);
        if (chunk.length >= batchSize) {
          const out = Buffer.from(chunk.join(''), 'utf8');
          chunk = [];
          logStreamed();
          done(null, out);
          return;
        }
        done();
      },
      flush(done) {
        if (chunk.length > 0) this.push(Buffer.from(chunk.join(''), 'utf8'));
        chunk = [];
        done();
      },
    });
    try {
      await pipeline(sourceRows, encoder, pg.query(pgCopyStreams.from(copySql)));
    } catch (error) {
      if (isRowRejection(error)) throw new RowRefused((error as Error).message, { cause: error });
      throw error;
    }
  };

  /** Careful: a COPY per batch under a savepoint; a refused batch is halved down to its bad rows. */
  const copyCareful = async (pg: PoolClient, sourceRows: Readable): Promise<void> => {
    const write = async (batch: { line: string; row: SourceValue[] }[]): Promise<void> => {
      if (batch.length === 0) return;
      await pg.query('SAVEPOINT my2pg_batch');
      try {
        await copyLines(pg, copySql, batch.map((b) => b.line));
        await pg.query('RELEASE SAVEPOINT my2pg_batch');
        return;
      } catch (error) {
        if (!isRowRejection(error)) throw error;
        await pg.query('ROLLBACK TO SAVEPOINT my2pg_batch');
        await pg.query('RELEASE SAVEPOINT my2pg_batch');
        if (batch.length === 1) {
          const e = error as Error & { code?: string; column?: string; where?: string };
          reject(batch[0]!.row, rejectedColumn(e), e.message, e.code ?? null);
          return;
        }
      }
      const middle = batch.length >>> 1;
      await write(batch.slice(0, middle));
      await write(batch.slice(middle));
    };
    let batch: { line: string; row: SourceValue[] }[] = [];
    for await (const row of sourceRows as AsyncIterable<SourceValue[]>) {
      const line = encode(row);
      streamed += 1;
      if (line !== null) batch.push({ line, row });
      if (batch.length >= batchSize) {
        await write(batch);
        batch = [];
        logStreamed();
      }
    }
    await write(batch);
  };

  const attempt = async (careful: boolean): Promise<void> => {
    streamed = 0;
    lastLogged = 0;
    rejected = [];
    for (const pair of pairs) Object.assign(pair.adjustments, emptyAdjustments());
    await withMysqlConnection(source, async (mysql) => {
      await queryMysql(mysql, "SET SESSION time_zone = '+00:00'");
      // A slow target must not make the server drop a paused stream.
      await queryMysql(mysql, 'SET SESSION net_write_timeout = 3600');
      await queryMysql(mysql, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      await withPgClient(target, async (pg) => {
        await pg.query('BEGIN');
        await pg.query("SET LOCAL timezone = 'UTC'");
        await pg.query("SET LOCAL lock_timeout = '60s'");
        if (input.range && rangeKey !== undefined) {
          // A range job owns only its keys: it deletes them (the table was emptied once by
          // prepare) so that a retry or rerun of this range alone ends exact.
          const bounds: string[] = [];
          const values: string[] = [];
          if (input.range.from !== null) bounds.push(`${quotePg(rangeKey)} >= $${values.push(input.range.from)}`);
          if (input.range.to !== null) bounds.push(`${quotePg(rangeKey)} < $${values.push(input.range.to)}`);
          await pg.query(`DELETE FROM ONLY ${qualifyPg(input.targetSchema, targetTable.name)}${bounds.length > 0 ? ` WHERE ${bounds.join(' AND ')}` : ''}`, values);
        } else {
          await pg.query(`TRUNCATE TABLE ONLY ${qualifyPg(input.targetSchema, targetTable.name)}`);
        }
        if (input.runId) {
          await pg.query(`DELETE FROM ${qualifyPg(STATE_SCHEMA, 'rejected_rows')} WHERE run_id = $1 AND table_name = $2 AND part = $3`, [input.runId, input.table, part]);
        }
        const { rows: sourceRows } = streamMysqlRows(mysql, selectSql, selectValues, Math.min(batchSize, 5000));
        const stop = (): void => {
          sourceRows.destroy(hooks.signal?.reason instanceof Error ? hooks.signal.reason : new Error('copy aborted'));
        };
        hooks.signal?.addEventListener('abort', stop, { once: true });
        try {
          hooks.signal?.throwIfAborted();
          if (careful) await copyCareful(pg, sourceRows);
          else await copyFast(pg, sourceRows);
          if (input.runId && rejected.length > 0) await saveRejectedRows(pg, input.runId, input.table, part, rejected);
          hooks.signal?.throwIfAborted();
        } finally {
          hooks.signal?.removeEventListener('abort', stop);
        }
        await pg.query('COMMIT');
      });
      await queryMysql(mysql, 'COMMIT');
    });
  };

  try {
    try {
      await attempt(false);
    } catch (error) {
      if (!(error instanceof RowRefused)) throw error;
      await hooks.onLog?.(`PostgreSQL refused a row (${error.message}); copying again in batches to find the refused rows`);
      await attempt(true);
    }
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    throw new MigrationError(`table ${input.table}: ${(error as Error).message}`, { table: input.table, cause: error }, isPermanentError(error));
  } finally {
    clearInterval(timer);
  }
  await report();
  const adjustments: TableAdjustments = {};
  for (const pair of pairs) {
    if (hasAdjustments(pair.adjustments)) adjustments[pair.source.name] = pair.adjustments;
  }
  const rows = streamed - rejected.length;
  await hooks.onLog?.(`copied ${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const line of describeAdjustments(adjustments)) await hooks.onLog?.(`adjusted: ${line}`);
  if (rejected.length > 0) {
    await hooks.onLog?.(`rejected ${rejected.length} rows (listed in my2pg.rejected_rows), e.g. ${JSON.stringify(rejected[0]!.key)}: ${rejected[0]!.column ?? ''} ${rejected[0]!.reason}`);
  }
  return { rows, rejected: rejected.length, durationMs: Date.now() - started, adjustments };
}
