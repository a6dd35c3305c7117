/**
 * What will not arrive as it is, found before a run (`my2pg plan`): per column, the values
 * PostgreSQL cannot hold or the target column cannot take, counted exactly by one scan of the
 * table; and what the catalogs alone say will fail (a source column the target lacks, a NOT
 * NULL target column nobody fills). Each hazard says whether it keeps the run from ending
 * verified (`blocking`) and how to fix it.
 */
import type { DataSource } from 'typeorm';
import { prepareSourceSession, queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { mysqlWhere } from '../dialect/mysql/condition.js';
import { nulCharacterSql, zeroDateSql } from '../dialect/mysql/value-probes.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import type { SourceColumn } from '../dialect/mysql/catalog.js';
import type { TargetColumn } from '../dialect/postgres/catalog.js';
import { DATE_TYPES, INTEGER_TYPES, TEXT_TYPES, type ZeroDatePolicy } from '../vocabulary/type-families.js';
import type { NulPolicy } from './nul-columns.js';

/** Kebab-case words, stable in `plan --json`. */
type HazardKind =
  | 'zero-date'
  | 'nul-character'
  | 'invalid-json'
  | 'unsigned-beyond-bigint'
  | 'out-of-range'
  | 'too-long'
  | 'not-an-enum-label'
  | 'not-boolean'
  | 'missing-target-column'
  | 'unfilled-not-null-column'
  | 'generated-target-column'
  | 'no-primary-key'
  | 'target-schema-missing'
  | 'ddl-refused'
  /** `--follow`: a precondition of following the binary log the source does not meet. */
  | 'follow-precondition'
  /** The queue's Redis may evict BullMQ's keys (`maxmemory-policy` other than noeviction). */
  | 'redis-eviction-policy';

export interface Hazard {
  kind: HazardKind;
  /** The source column (or, for an unfilled target column, the target column); null for the table. */
  column: string | null;
  /** Exact number of rows concerned; null when not counted (`--quick`, or nothing to count). */
  count: number | null;
  /** Whether the run would not end verified (rows rejected, or the table failing). */
  blocking: boolean;
  /** What the hazard does and how to avoid it, in one sentence. */
  fix: string;
}

/** What the run does with these values, as chosen by the operator. */
export interface HazardPolicies {
  nul: NulPolicy;
  zeroDate: ZeroDatePolicy;
  allowRejects: boolean;
}

/** A counting expression for one hazard of one column; the scan sums every probe of a table in one query. */
export interface HazardProbe {
  kind: HazardKind;
  column: string;
  /** A MySQL expression that is 1 for a row concerned (NULL or 0 otherwise). */
  condition: string;
  blocking: boolean;
  fix: string;
}

const BIGINT_MAX = '9223372036854775807';
const INT_RANGES: Record<string, [string, string]> = {
  int2: ['-32768', '32767'],
  int4: ['-2147483648', '2147483647'],
  int8: ['-9223372036854775808', BIGINT_MAX],
};

/** The part of a rejected row's fix that `--allow-rejects` adds. */
function rejected(policies: HazardPolicies, what: string, fix: string): { blocking: boolean; fix: string } {
  return policies.allowRejects
    ? {
        blocking: false,
        fix: `${what}: set aside in my2pg.rejected_rows (--allow-rejects counts the run as verified); ${fix}`,
      }
    : {
        blocking: true,
        fix: `${what}: set aside in my2pg.rejected_rows, so the run is not verified; ${fix}, or pass --allow-rejects`,
      };
}

/**
 * The probes of one source column, given the PostgreSQL type it lands in (`pgType`, as
 * format_type() prints it) and, for a table that exists in the target, its column.
 */
export function probesOf(
  column: SourceColumn,
  pgType: string,
  policies: HazardPolicies,
  existing?: TargetColumn,
): HazardProbe[] {
  if (column.generated) return [];
  const c = quoteMysql(column.name);
  const probes: HazardProbe[] = [];
  const add = (kind: HazardKind, condition: string, outcome: { blocking: boolean; fix: string }): void => {
    probes.push({ kind, column: column.name, condition, ...outcome });
  };
  // Into an existing text column a zero date is just text; only date/time columns refuse it.
  if (DATE_TYPES.has(column.dataType) && (!existing || existing.category === 'D')) {
    const condition = zeroDateSql(c);
    if (policies.zeroDate === 'reject')
      add(
        'zero-date',
        condition,
        rejected(policies, 'rows with a zero date', '--zero-date null writes NULL instead (counted)'),
      );
    else if (existing?.notNull)
      add(
        'zero-date',
        condition,
        rejected(
          policies,
          `written as NULL, which the existing NOT NULL column ${existing.name} refuses`,
          `make ${existing.name} nullable, or drop the table so my2pg creates it`,
        ),
      );
    else
      add('zero-date', condition, {
        blocking: false,
        fix: 'written as NULL and counted per column (--zero-date reject sets the rows aside instead)',
      });
  }
  if (TEXT_TYPES.has(column.dataType) || column.dataType === 'json') {
    const condition = nulCharacterSql(c);
    // Under --nul bytea a created table's text columns holding NUL become bytea.
    const bytea = pgType === 'bytea' || (policies.nul === 'bytea' && !existing);
    if (bytea)
      add('nul-character', condition, {
        blocking: false,
        fix: 'the column is bytea (--nul bytea), so the bytes arrive as they are',
      });
    else if (policies.nul === 'strip')
      add('nul-character', condition, {
        blocking: false,
        fix: 'the NUL characters are removed (--nul strip) and counted per column',
      });
    else
      add(
        'nul-character',
        condition,
        rejected(
          policies,
          'rows with a NUL character, which PostgreSQL text cannot hold',
          '--nul strip removes them (counted) or --nul bytea creates such columns as bytea',
        ),
      );
  }
  if (column.dataType === 'json' && /^jsonb?$/.test(pgType)) {
    add(
      'invalid-json',
      `(NOT JSON_VALID(${c}) OR LOCATE('\\\\u0000', ${c}) > 0)`,
      rejected(
        policies,
        'JSON that jsonb refuses (invalid, or holding \\u0000)',
        `map the column to text (--column-type TABLE.${column.name}=text)`,
      ),
    );
  }
  const integer =
    INTEGER_TYPES.has(column.dataType) ||
    column.dataType === 'decimal' ||
    column.dataType === 'year' ||
    column.dataType === 'bit';
  const targetInt = /^(smallint|integer|bigint)$/.exec(pgType)?.[1];
  if (column.dataType === 'bigint' && column.unsigned && targetInt === 'bigint' && !existing) {
    add(
      'unsigned-beyond-bigint',
      `${c} > ${BIGINT_MAX}`,
      rejected(
        policies,
        'unsigned values above 9223372036854775807, the largest bigint',
        `map the column to numeric(20) (--column-type TABLE.${column.name}=numeric(20))`,
      ),
    );
  }
  if (!existing) return probes;
  // A table that exists keeps its own types: which values it cannot take.
  const range = INT_RANGES[existing.typeName];
  if (range && (integer || column.dataType === 'float' || column.dataType === 'double')) {
    add(
      column.dataType === 'bigint' && column.unsigned && existing.typeName === 'int8'
        ? 'unsigned-beyond-bigint'
        : 'out-of-range',
      `(${c} < ${range[0]} OR ${c} > ${range[1]})`,
      rejected(
        policies,
        `values outside the range of the existing ${existing.formattedType} column`,
        `widen the target column (ALTER TABLE … ALTER COLUMN ${existing.name} TYPE bigint or numeric)`,
      ),
    );
  }
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(existing.formattedType);
  if (numeric && (integer || ['decimal', 'float', 'double'].includes(column.dataType))) {
    const whole = Number(numeric[1]) - Number(numeric[2]);
    add(
      'out-of-range',
      `ABS(${c}) >= POW(10, ${whole})`,
      rejected(
        policies,
        `values with more than ${whole} digits before the point, which ${existing.formattedType} cannot hold`,
        `widen the target column ${existing.name}`,
      ),
    );
  }
  const length = /^(?:character varying|character|varchar|char)\((\d+)\)$/.exec(existing.formattedType);
  if (length && (TEXT_TYPES.has(column.dataType) || column.dataType === 'enum' || column.dataType === 'set')) {
    add(
      'too-long',
      `CHAR_LENGTH(${c}) > ${length[1]}`,
      rejected(
        policies,
        `values longer than ${existing.formattedType}`,
        `widen the target column ${existing.name} (ALTER COLUMN … TYPE text)`,
      ),
    );
  }
  if (existing.category === 'E' && existing.enumLabels) {
    const labels = existing.enumLabels.map((l) => `'${l.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`).join(', ');
    add(
      'not-an-enum-label',
      `CAST(${c} AS BINARY) NOT IN (${labels})`,
      rejected(
        policies,
        `values that are not labels of the enum type ${existing.formattedType}`,
        `add the labels to the type (ALTER TYPE … ADD VALUE)`,
      ),
    );
  }
  if (existing.category === 'B' && (integer || column.dataType === 'bit')) {
    add(
      'not-boolean',
      `${c} NOT IN (0, 1)`,
      rejected(
        policies,
        'values other than 0 and 1 going into a boolean column',
        `make the target column ${existing.name} smallint`,
      ),
    );
  }
  return probes;
}

/**
 * Counts the rows of a table and every probe in one query (one read of the table); `where`
 * limits it to the rows the run copies.
 */
export async function countProbes(
  source: DataSource,
  table: string,
  probes: readonly HazardProbe[],
  where?: string,
): Promise<{ rows: number; counts: number[] }> {
  return withMysqlConnection(source, async (connection) => {
    const sums = probes.map((p, i) => `COALESCE(SUM(CASE WHEN ${p.condition} THEN 1 ELSE 0 END), 0) AS h${i}`);
    // The copy's session (UTC): a condition's literals are compared as the copy compares them.
    if (where !== undefined) await prepareSourceSession(connection);
    const rows = await queryMysql<Record<string, unknown>[]>(
      connection,
      `SELECT ${['COUNT(*) AS n', ...sums].join(', ')} FROM ${quoteMysql(table)}${mysqlWhere([], where)}`,
    );
    const row = rows[0] ?? {};
    return { rows: Number(row.n ?? 0), counts: probes.map((_p, i) => Number(row[`h${i}`] ?? 0)) };
  });
}
