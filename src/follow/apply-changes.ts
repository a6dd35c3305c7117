import { escape as escapeMysql } from 'mysql2';
import type { DataSource } from 'typeorm';
import { PermanentError } from '../core/errors.js';
import { selectExpression } from '../dialect/mysql/catalog.js';
import { mysqlWhere } from '../dialect/mysql/condition.js';
import type { SourceValue } from '../dialect/mysql/connection.js';
import type { SourceSnapshot } from '../dialect/mysql/snapshot.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { decodeRawRow, queryRawRows } from '../dialect/mysql/raw-rows.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { quotePg } from '../dialect/postgres/quote.js';
import { copyByteRuleFor } from '../copy/convert.js';
import { binaryKindFor } from '../copy/binary-format.js';
import { CopyRowEncoder } from '../copy/copy-encoder.js';
import { planTableCopy, type CopyTableInput, type TableCopyPlan } from '../copy/copy-plan.js';
import { copyRowsFast } from '../copy/fast-copy.js';
import type { RunCatalog } from '../state/run-catalog.js';
import { TargetText, type ChangedKey } from './changed-key.js';
import { emptyAdjustments, hasAdjustments, type TableAdjustments } from '../vocabulary/adjustments.js';

/**
 * How the follower applies the binary log: for each row a batch of events changed, it writes
 * MySQL's current row, read by key through the same SELECT list, converters and COPY as the
 * table's copy, or removes the row when MySQL no longer has it. Applying a key twice writes
 * the same row twice, so replaying events after a crash changes nothing; and since a row is
 * read after its last event, the target ends equal to the source once the log is drained.
 */

/** The keys a batch wrote, as MySQL literals and as the target's key texts: what my2pg.change_log keeps for re-verification. */
export interface LoggedKeys {
  mysql: string[];
  pg: (string | null)[][];
}

/** A followed table's copy plan, its key's place among the copied columns, and the key's PostgreSQL types. */
interface FollowedTable {
  plan: TableCopyPlan;
  /** Index in plan.pairs of each key column. */
  keyPairs: number[];
  /** format_type() of each key column on the target. */
  keyTypes: string[];
  /** The run's `where` of the table, if any. */
  where: string | undefined;
}

/** Keys per MySQL SELECT (and per DELETE): long IN lists parse slower than they read. */
const KEYS_PER_READ = 2000;

/** Plans each followed table once per follower. */
export class ChangeApplier {
  private readonly tables = new Map<string, Promise<FollowedTable>>();

  constructor(
    private readonly source: DataSource,
    private readonly target: DataSource,
    private readonly catalog: RunCatalog,
    /** Per source table: the copy input of its copy job (target names, columns, policies). */
    private readonly inputOf: (table: string) => CopyTableInput,
    /** Per source table: the key columns (source names) its rows are matched by. */
    private readonly keyOf: (table: string) => readonly string[],
  ) {}

  /** Plans every followed table before the first batch: a batch's transaction then needs no second connection. */
  async prepare(tables: Iterable<string>): Promise<void> {
    for (const table of tables) await this.followed(table);
  }

  /** Plans the table again at its next use (its definition changed). */
  forget(table: string): void {
    this.tables.delete(table);
  }

  private followed(table: string): Promise<FollowedTable> {
    let found = this.tables.get(table);
    if (!found) {
      found = this.planTable(table);
      this.tables.set(table, found);
      found.catch(() => this.tables.delete(table));
    }
    return found;
  }

  private async planTable(table: string): Promise<FollowedTable> {
    const input = this.inputOf(table);
    const plan = await planTableCopy(
      this.source,
      this.target,
      { ...input, range: undefined, where: undefined },
      this.catalog,
    );
    const key = this.keyOf(table);
    const keyPairs = key.map((column) => {
      const i = plan.pairs.findIndex((p) => p.source.name === column);
      if (i < 0)
        throw new PermanentError(
          `table ${table}: its key column ${column} is not copied, so the follower cannot match its rows; follow a run that copies it`,
          { table },
        );
      return i;
    });
    const keyTypes = keyPairs.map((i) => plan.pairs[i]!.target.formattedType);
    return { plan, keyPairs, keyTypes, where: input.where };
  }

  /**
   * Inside the caller's PostgreSQL transaction: removes the rows of these keys from the target
   * and writes MySQL's current rows for them. Returns the rows written and what the converters
   * changed in them by a policy (zero dates, NULs, SRIDs), per column.
   */
  async apply(
    pg: PoolClient,
    table: string,
    keys: readonly ChangedKey[],
    snapshot: SourceSnapshot,
  ): Promise<{ rows: number; adjustments: TableAdjustments; logged: LoggedKeys }> {
    const followed = await this.followed(table);
    for (const pair of followed.plan.pairs) Object.assign(pair.adjustments, emptyAdjustments());
    let rows = 0;
    const logged: LoggedKeys = { mysql: [], pg: [] };
    for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
      const chunk = keys.slice(i, i + KEYS_PER_READ);
      const columns = await deleteMatching(pg, followed.plan, followed.keyPairs, followed.keyTypes, chunk, []);
      rows += await this.copyCurrentRows(pg, followed, chunk, snapshot);
      const literals = this.mysqlLiterals(followed, chunk);
      chunk.forEach((_key, n) => {
        logged.mysql.push(literals[n]!);
        logged.pg.push(columns.converted.map((c) => c[n] ?? null));
      });
    }
    const adjustments: TableAdjustments = {};
    for (const pair of followed.plan.pairs)
      if (hasAdjustments(pair.adjustments)) adjustments[pair.source.name] = { ...pair.adjustments };
    return { rows, adjustments, logged };
  }

  /**
   * A change MySQL made by a foreign key's ON DELETE/ON UPDATE action is not in the binary log:
   * removes the target rows of `table` whose `columns` hold one of these (old) values, and
   * returns their keys, to be read again from the source like any changed key, with the values
   * of `returning` (columns its own cascading children reference).
   */
  async removeReferencing(
    pg: PoolClient,
    table: string,
    columns: readonly string[],
    values: readonly ChangedKey[],
    returning: readonly string[],
  ): Promise<{ key: ChangedKey; returned: TargetText[] }[]> {
    const followed = await this.followed(table);
    const { plan, keyPairs } = followed;
    const pairsOf = (names: readonly string[]): number[] =>
      names.map((column) => plan.pairs.findIndex((p) => p.source.name === column)).filter((i) => i >= 0);
    const matchPairs = pairsOf(columns);
    if (matchPairs.length !== columns.length) return [];
    const returnPairs = [...keyPairs, ...pairsOf(returning)];
    const rows = await deleteMatching(
      pg,
      plan,
      matchPairs,
      matchPairs.map((i) => plan.pairs[i]!.target.formattedType),
      values,
      returnPairs,
    );
    return rows.map((row) => ({
      key: row.slice(0, keyPairs.length).map((v) => new TargetText(v)),
      returned: row.slice(keyPairs.length).map((v) => new TargetText(v)),
    }));
  }

  /** Each key as a MySQL literal: a value, or a row constructor of a composite key. */
  private mysqlLiterals(followed: FollowedTable, keys: readonly ChangedKey[]): string[] {
    const { plan, keyPairs } = followed;
    const literal = (value: ChangedKey[number], k: number): string =>
      value instanceof TargetText
        ? targetTextLiteral(value.text, plan.pairs[keyPairs[k]!]!.target.typeName)
        : escapeMysql(value);
    return keys.map((key) => (key.length === 1 ? literal(key[0]!, 0) : `(${key.map(literal).join(', ')})`));
  }

  /** Writes the source's current rows of these keys (read in the batch's snapshot) with COPY. */
  private async copyCurrentRows(
    pg: PoolClient,
    followed: FollowedTable,
    keys: readonly ChangedKey[],
    snapshot: SourceSnapshot,
  ): Promise<number> {
    const { plan, keyPairs, where } = followed;
    const keyColumns = keyPairs.map((i) => quoteMysql(plan.pairs[i]!.source.name));
    const literals = this.mysqlLiterals(followed, keys);
    const condition = `${keyColumns.length === 1 ? keyColumns[0] : `(${keyColumns.join(', ')})`} IN (${literals.join(', ')})`;
    const sql = `SELECT ${plan.pairs.map((p) => selectExpression(p.source)).join(', ')} FROM ${quoteMysql(plan.sourceTable.name)}${mysqlWhere([condition], where)}${snapshot.lockClause}`;
    const encoder = new CopyRowEncoder(
      plan.pairs.map((p) => ({
        name: p.source.name,
        rule: copyByteRuleFor(p.source, p.target),
        convert: p.convert,
        binary: binaryKindFor(p.source, p.target),
      })),
      plan.table,
    );
    let rows = 0;
    const mysql = snapshot.connection;
    try {
      await copyRowsFast(
        pg,
        plan.copySql,
        'text',
        (handlers) => queryRawRows(mysql, sql, [], handlers),
        encoder,
        plan.limits,
        (buffer, start, _end, refusal) => {
          if (refusal) throw refusedWrite(plan, keyPairs, decodeRawRow(buffer, start, encoder.rawFields), refusal);
          rows += 1;
        },
        () => undefined,
      );
    } finally {
      // The session reads the batch's next table: never leave it paused by the copy's steering.
      mysql.resume();
    }
    return rows;
  }
}

/**
 * A later write the target column cannot take (a tinyint(1) made boolean because every value
 * was 0 or 1 when the run was planned, now written 2): the follower stops, naming the table,
 * the row's key, the value and what to do.
 */
function refusedWrite(
  plan: TableCopyPlan,
  keyPairs: readonly number[],
  row: readonly SourceValue[],
  refusal: { column: string; reason: string },
): PermanentError {
  const pair = plan.pairs.find((p) => p.source.name === refusal.column);
  const value = row[plan.pairs.findIndex((p) => p.source.name === refusal.column)];
  const key = keyPairs.map((i) => `${plan.pairs[i]!.source.name}=${String(row[i])}`).join(', ');
  const shown = Buffer.isBuffer(value) ? `0x${value.toString('hex')}` : String(value);
  const target = pair ? `${plan.target}.${quotePg(pair.target.name)}` : refusal.column;
  // The follower's stop is for good (its state says stopped): the way on is a new run whose type holds the value.
  const fix =
    pair?.target.typeName === 'bool'
      ? `start a new run with --column-type ${plan.sourceTable.name}.${refusal.column}=smallint (the plan made it boolean because every value was 0 or 1 then)`
      : `start a new run with a --column-type for ${plan.sourceTable.name}.${refusal.column} that holds it, or fix the value in MySQL and start a new run`;
  return new PermanentError(
    `table ${plan.table}, key ${key}: a later write put ${shown} into column ${refusal.column}, which its PostgreSQL column ${target} (${pair?.target.formattedType ?? 'unknown type'}) cannot take (${refusal.reason}); the follower stops rather than skip it: ${fix}`,
    { table: plan.table },
  );
}

/** A key value from the binary log as the converters take it (numbers as their decimal text). */
function sourceValueOf(value: string | number | Buffer): SourceValue {
  return typeof value === 'number' ? String(value) : value;
}

/** A value PostgreSQL printed, as a MySQL literal: bytea's hex as bytes, booleans as 1/0, the rest as text MySQL compares. */
function targetTextLiteral(text: string, typeName: string): string {
  if (typeName === 'bytea' && text.startsWith('\\x')) return escapeMysql(Buffer.from(text.slice(2), 'hex'));
  if (typeName === 'bool') return text === 't' ? '1' : '0';
  return escapeMysql(text);
}

/**
 * Deletes the target rows whose columns (`match`, indexes in plan.pairs) hold one of `values`,
 * each value converted as the copy converts it (or taken as PostgreSQL printed it); returns
 * the deleted rows' `returning` columns as text.
 */
async function deleteMatching(
  pg: PoolClient,
  plan: TableCopyPlan,
  match: readonly number[],
  types: readonly string[],
  values: readonly ChangedKey[],
  returning: readonly number[],
): Promise<string[][] & { converted: (string | null)[][] }> {
  const columns = match.map((pairIndex, k) =>
    values.map((key) => {
      const value = key[k]!;
      return value instanceof TargetText ? value.text : plan.pairs[pairIndex]!.convert(sourceValueOf(value));
    }),
  );
  const names = match.map((i) => quotePg(plan.pairs[i]!.target.name));
  const unnest = columns.map((_, k) => `$${k + 1}::text[]`).join(', ');
  const casts = names.map((_, k) => `u.k${k}::${types[k]}`);
  const alias = names.map((_, k) => `k${k}`).join(', ');
  const back =
    returning.length > 0
      ? ` RETURNING ${returning.map((i) => `t.${quotePg(plan.pairs[i]!.target.name)}::text`).join(', ')}`
      : '';
  const result = await pg.query<string[]>({
    text: `DELETE FROM ${plan.only}${plan.target} AS t WHERE (${names.map((n) => `t.${n}`).join(', ')}) IN (SELECT ${casts.join(', ')} FROM unnest(${unnest}) AS u(${alias}))${back}`,
    values: columns,
    rowMode: 'array',
  });
  return Object.assign(result.rows, { converted: columns });
}
