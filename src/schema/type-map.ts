import { quotePg } from '../dialect/postgres/quote.js';
import type { SourceColumn } from '../dialect/mysql/catalog.js';
import { DEFAULT_TYPE_MAP_OPTIONS, findTypeOverride, type TypeMapOptions } from './type-overrides.js';

/** How a MySQL column becomes a PostgreSQL column when my2pg creates the table. */
export interface MappedColumnType {
  /** The PostgreSQL type, ready for DDL (enum types are named by the caller). */
  sql: string;
  /** Set for ENUM columns mapped to a PostgreSQL enum type: the labels of the type to create. */
  enumLabels?: string[];
  /** Set for ENUM columns mapped to text (`--enum check`): the labels the CHECK constraint allows. */
  checkLabels?: string[];
  /** True when the type came from `--type` or `--column-type`. */
  overridden?: boolean;
  /** Why the mapping is lossy or unusual, for the plan's warnings. */
  warning?: string;
}

const INTEGER_TYPES: Record<string, [signed: string, unsigned: string]> = {
  tinyint: ['smallint', 'smallint'],
  smallint: ['smallint', 'integer'],
  mediumint: ['integer', 'integer'],
  int: ['integer', 'bigint'],
  integer: ['integer', 'bigint'],
  bigint: ['bigint', 'numeric(20)'],
};

function lengthOf(columnType: string): number | null {
  const match = /\((\d+)/.exec(columnType);
  return match?.[1] ? Number(match[1]) : null;
}

/**
 * The PostgreSQL type for a MySQL column: a `--column-type` override for this column, else a
 * `--type` override for its MySQL type, else the default mapping (the table in docs/type-mapping.md).
 */
export function mapColumnType(
  column: SourceColumn,
  options: TypeMapOptions = DEFAULT_TYPE_MAP_OPTIONS,
  table?: string,
): MappedColumnType {
  const byColumn = table === undefined ? undefined : options.columnOverrides.get(table)?.get(column.name);
  const override = byColumn ?? findTypeOverride(options.typeOverrides, column);
  if (override !== undefined) return { sql: override, overridden: true };
  const decided = table === undefined ? undefined : options.dataTypes?.get(table)?.get(column.name);
  if (decided !== undefined) return { sql: decided };
  const mapped = mapDefaultType(column, options);
  if (mapped.enumLabels && options.enumMode === 'check') return { sql: 'text', checkLabels: mapped.enumLabels };
  return mapped;
}

function mapDefaultType(column: SourceColumn, options: TypeMapOptions): MappedColumnType {
  const t = column.dataType;
  const ct = column.columnType;
  if ((t === 'tinyint' && /^tinyint\(1\)/.test(ct)) || (t === 'bit' && (lengthOf(ct) ?? 1) === 1)) {
    return { sql: 'boolean' };
  }
  const ints = INTEGER_TYPES[t];
  if (ints) return { sql: column.unsigned ? ints[1] : ints[0] };
  switch (t) {
    case 'decimal':
    case 'numeric':
    case 'fixed':
      return { sql: `numeric(${column.numericPrecision ?? 10},${column.numericScale ?? 0})` };
    case 'float':
      return { sql: 'real' };
    case 'double':
    case 'real':
    case 'double precision':
      return { sql: 'double precision' };
    case 'bit':
      return { sql: `bit varying(${lengthOf(ct) ?? 1})` };
    case 'date':
      return { sql: 'date' };
    case 'datetime': {
      const p = column.datetimePrecision ?? 0;
      return { sql: p > 0 ? `timestamp(${p})` : 'timestamp' };
    }
    case 'timestamp': {
      const p = column.datetimePrecision ?? 0;
      return { sql: p > 0 ? `timestamptz(${p})` : 'timestamptz' };
    }
    case 'time':
      // MySQL TIME spans -838:59:59 to 838:59:59, which only interval can hold.
      return { sql: 'interval' };
    case 'year':
      return { sql: 'smallint' };
    case 'char':
    case 'varchar':
      // CHAR becomes varchar: MySQL strips CHAR's trailing spaces on read, PostgreSQL's char(n) would pad them back.
      return { sql: `varchar(${column.maxLength ?? lengthOf(ct) ?? 255})` };
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return { sql: 'text' };
    case 'enum':
      return { sql: 'text', enumLabels: column.enumValues ?? [] };
    case 'set':
      return { sql: 'text[]' };
    case 'json':
      return { sql: 'jsonb' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { sql: 'bytea' };
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
    case 'geomcollection':
      // Qualified: the extension may live in a schema outside the search_path.
      if (options.postgisSchema !== null) return { sql: `${quotePg(options.postgisSchema)}.geometry` };
      if (t === 'point')
        return {
          sql: 'point',
          warning: `spatial column ${column.name} becomes a PostgreSQL point (x, y); its SRID is not kept (install PostGIS in the target for geometry)`,
        };
      return {
        sql: 'bytea',
        warning: `spatial column ${column.name} is stored as bytea holding its WKB; its SRID is not kept (values that had one are counted as adjusted); install PostGIS in the target to get geometry`,
      };
    case 'uuid':
      return { sql: 'uuid' };
    case 'inet4':
    case 'inet6':
      return { sql: 'inet' };
    default:
      return { sql: 'text', warning: `column ${column.name} has type ${ct}, which my2pg stores as text` };
  }
}
