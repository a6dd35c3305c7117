import type { SourceColumn } from '../dialect/mysql/catalog.js';
import { translateDefault } from '../schema/default-ddl.js';
import { mapColumnType } from '../schema/type-map.js';

/** Which MySQL column changes keep every value as it was (the MODIFYs the follower applies), and how PostgreSQL prints their types. Pure. */

const INTEGER_RANK: Record<string, number> = { tinyint: 1, smallint: 2, mediumint: 3, int: 4, integer: 4, bigint: 5 };

/** Whether every value of `before` fits `after` unchanged (the MODIFYs the follower applies). */
export function widens(before: SourceColumn, after: SourceColumn): boolean {
  const b = before.dataType;
  const a = after.dataType;
  if ((b === 'varchar' || b === 'char') && (a === 'varchar' || a === 'char'))
    return (after.maxLength ?? 0) >= (before.maxLength ?? 0);
  if (INTEGER_RANK[b] && INTEGER_RANK[a]) {
    if (before.unsigned === after.unsigned) return INTEGER_RANK[a]! >= INTEGER_RANK[b]!;
    return before.unsigned && !after.unsigned && INTEGER_RANK[a]! > INTEGER_RANK[b]!;
  }
  if ((b === 'decimal' || b === 'numeric') && (a === 'decimal' || a === 'numeric')) {
    const [bp, bs, ap, as] = [before.numericPrecision, before.numericScale, after.numericPrecision, after.numericScale];
    return (as ?? 0) >= (bs ?? 0) && (ap ?? 10) - (as ?? 0) >= (bp ?? 10) - (bs ?? 0);
  }
  if (b === 'float' && a === 'double') return true;
  if (b === a && (b === 'datetime' || b === 'timestamp'))
    return (after.datetimePrecision ?? 0) >= (before.datetimePrecision ?? 0);
  return false;
}

/** A mapped type as format_type() prints it, for the types widens() allows. */
export function formattedTypeOf(sql: string): string {
  const s = sql.toLowerCase();
  const varchar = /^varchar\((\d+)\)$/.exec(s);
  if (varchar) return `character varying(${varchar[1]})`;
  const ts = /^timestamp(tz)?(?:\((\d)\))?$/.exec(s);
  if (ts) return `timestamp${ts[2] ? `(${ts[2]})` : ''} with${ts[1] ? '' : 'out'} time zone`;
  const numeric = /^numeric\((\d+)\)$/.exec(s);
  if (numeric) return `numeric(${numeric[1]},0)`;
  return s;
}

/** Why an added column cannot be added exactly, or null. */
export function addRefusal(column: SourceColumn, isMariaDb: boolean): string | null {
  if (column.autoIncrement) return 'is AUTO_INCREMENT: MySQL numbered the existing rows';
  if (column.generated) return 'is generated: its values are computed by MySQL';
  if (column.onUpdate) return 'has ON UPDATE';
  const type = mapColumnType(column).sql;
  const def = translateDefault(column, type, isMariaDb);
  if (def.warning) return `has a default my2pg does not translate (${def.warning})`;
  if (def.sql !== null && /CURRENT_/.test(def.sql))
    return `has the default ${column.defaultValue}: the existing rows hold the time MySQL added it, which PostgreSQL cannot repeat`;
  if (!column.nullable && def.sql === null)
    return 'is NOT NULL without a default: MySQL gave the existing rows an implicit value';
  return null;
}
