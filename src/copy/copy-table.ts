import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pgCopyStreams from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import { queryMysql, streamMysqlRows, withMysqlConnection, type SourceValue } from '../db/mysql.js';
import { withPgClient } from '../db/postgres.js';
import { qualifyPg, quoteMysql, quotePg } from '../db/quote.js';
import { isPermanentError, MigrationError } from '../errors.js';
import { readSourceCatalog, type SourceColumn, type SourceTable } from '../schema/source-catalog.js';
import { readTargetTables, type TargetColumn, type TargetTable } from '../schema/target-catalog.js';
import { buildConverter, emptyAdjustments, ValueError, type ColumnAdjustments, type Converter } from './convert.js';
import { encodeCopyRow } from './copy-text.js';

/** What to copy. */
export interface CopyTableInput {
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
}

/** Callbacks through which a copy reports to its job. */
export interface CopyTableHooks {
  onProgress?(progress: { rows: number; total: number; rowsPerSecond: number }): void | Promise<void>;
  onLog?(line: string): void | Promise<void>;
  /** How often onProgress runs, ms. Default 1000. */
  progressIntervalMs?: number;
}

/** One source column matched to its target column. */
export interface ColumnPair {
  source: SourceColumn;
  target: TargetColumn;
  convert: Converter;
  /** What the converter had to change in this column's values. */
  adjustments: ColumnAdjustments;
}

/** Finds the target column for a source column: same name, else the one same name ignoring case. */
export function findTargetColumn(target: TargetTable, name: string): TargetColumn | undefined {
  const exact = target.columns.find((c) => c.name === name);
  if (exact) return exact;
  const folded = target.columns.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : undefined;
}

/**
 * Pairs source columns with target columns. A source column the target lacks is a permanent
 * error naming it; so is a target column PostgreSQL computes itself.
 */
export function pairColumns(source: SourceTable, target: TargetTable, only?: readonly string[]): ColumnPair[] {
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
    if (targetColumn.generated) {
      throw new MigrationError(
        `table ${source.name}: target column ${JSON.stringify(targetColumn.name)} is GENERATED ALWAYS in PostgreSQL and cannot be filled; exclude the column or make it a plain column`,
        { table: source.name },
        true,
      );
    }
    const adjustments = emptyAdjustments();
    pairs.push({ source: column, target: targetColumn, convert: buildConverter(column, targetColumn, adjustments), adjustments });
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
  const list = columns.map((c) => quoteMysql(c.name)).join(', ');
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
    key[name] = Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : value;
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

/**
 * Copies one table: streams the source rows in key order inside a consistent snapshot,
 * converts each value for its target column, and writes them with COPY FROM STDIN. TRUNCATE
 * and COPY run in one PostgreSQL transaction, so a failure leaves the target as it was and a
 * rerun ends with exactly the source rows.
 */
/** Columns whose values had to be changed to fit PostgreSQL, with the counts; absent when none. */
export type TableAdjustments = Record<string, ColumnAdjustments>;

/** Sentences for a table's adjustments, for logs and reports. */
export function describeAdjustments(adjustments: TableAdjustments): string[] {
  const out: string[] = [];
  for (const [column, a] of Object.entries(adjustments)) {
    if (a.zeroDatesToNull > 0) out.push(`column ${column}: ${a.zeroDatesToNull} zero dates written as NULL`);
    if (a.nulCharactersRemoved > 0) out.push(`column ${column}: NUL characters removed from ${a.nulCharactersRemoved} values`);
  }
  return out;
}

export async function copyTable(
  source: DataSource,
  target: DataSource,
  input: CopyTableInput,
  hooks: CopyTableHooks = {},
): Promise<{ rows: number; durationMs: number; adjustments: TableAdjustments }> {
  const started = Date.now();
  const { sourceTable, targetTable } = await loadTablePair(source, target, input);
  const pairs = pairColumns(sourceTable, targetTable, input.columns);
  const converters = pairs.map((p) => p.convert);
  const width = converters.length;
  const selectSql = buildSelect(sourceTable, pairs.map((p) => p.source), input.range);
  const selectValues = buildRangeFilter(sourceTable, input.range).values;
  const rangeKey = input.range ? pairs.find((p) => p.source.name === input.range!.column)?.target.name : undefined;
  if (input.range && rangeKey === undefined) {
    throw new MigrationError(`table ${input.table}: the key column ${JSON.stringify(input.range.column)} of a range job is not copied; start a new run`, { table: input.table }, true);
  }
  const copySql = buildCopy(input.targetSchema, targetTable.name, pairs);
  const batchSize = Math.max(1, input.batchSize);

  let rows = 0;
  let total = Math.max(0, Math.round(sourceTable.estimatedRows / Math.max(1, input.range?.count ?? 1)));
  let lastLogged = 0;
  const report = async (): Promise<void> => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    total = Math.max(total, rows);
    await hooks.onProgress?.({ rows, total, rowsPerSecond: Math.round(rows / seconds) });
  };
  const timer = setInterval(() => {
    report().catch(() => undefined);
  }, hooks.progressIntervalMs ?? 1000);

  try {
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
        const copy = pg.query(pgCopyStreams.from(copySql));
        const { rows: sourceRows } = streamMysqlRows(mysql, selectSql, selectValues, Math.min(batchSize, 5000));
        let chunk: string[] = [];
        const values: (string | null)[] = new Array<string | null>(width);
        const encoder = new Transform({
          writableObjectMode: true,
          readableObjectMode: false,
          transform(row: SourceValue[], _encoding, done) {
            try {
              for (let i = 0; i < width; i += 1) values[i] = converters[i]!(row[i] ?? null);
            } catch (error) {
              if (error instanceof ValueError) {
                done(
                  new MigrationError(
                    `table ${input.table}, row ${JSON.stringify(describeKey(sourceTable, pairs, row))}: ${error.message}`,
                    { table: input.table, cause: error },
                    true,
                  ),
                );
                return;
              }
              done(error as Error);
              return;
            }
            chunk.push(encodeCopyRow(values));
            rows += 1;
            if (chunk.length >= batchSize) {
              const out = Buffer.from(chunk.join(''), 'utf8');
              chunk = [];
              if (rows - lastLogged >= batchSize * 10) {
                lastLogged = rows;
                Promise.resolve(hooks.onLog?.(`${rows} rows streamed`)).catch(() => undefined);
              }
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
        await pipeline(sourceRows, encoder, copy);
        await pg.query('COMMIT');
      });
      await queryMysql(mysql, 'COMMIT');
    });
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    throw new MigrationError(`table ${input.table}: ${(error as Error).message}`, { table: input.table, cause: error }, isPermanentError(error));
  } finally {
    clearInterval(timer);
  }
  await report();
  const adjustments: TableAdjustments = {};
  for (const pair of pairs) {
    if (pair.adjustments.zeroDatesToNull > 0 || pair.adjustments.nulCharactersRemoved > 0) adjustments[pair.source.name] = pair.adjustments;
  }
  await hooks.onLog?.(`copied ${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const line of describeAdjustments(adjustments)) await hooks.onLog?.(`adjusted: ${line}`);
  return { rows, durationMs: Date.now() - started, adjustments };
}
