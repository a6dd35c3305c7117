import { literalPg, qualifyPg, quotePg } from '../dialect/postgres/quote.js';
import type { SourceColumn } from '../dialect/mysql/catalog.js';

/**
 * MySQL's `ON UPDATE CURRENT_TIMESTAMP[(p)]` as PostgreSQL triggers. One plpgsql function per
 * target schema serves every table: each table's BEFORE UPDATE trigger passes its columns and
 * their precisions as arguments (`'updated_at', '0', 'changed_at', '6'`), and the function
 * compares the rows as jsonb, so it needs no per-table code and no extension.
 *
 * MySQL's rule, kept: the column is set to the current time when some other column really
 * changed (an UPDATE that sets every column to its current value changes nothing), and not
 * when the statement set the column itself. PostgreSQL cannot see which columns a statement
 * named, only the values, so "set itself" means "set to a different value": an UPDATE that
 * sets the column to the value it already has, alongside other changes, moves it here, while
 * MySQL would keep it.
 *
 * The time is the transaction's (now(), like MySQL's statement time within it), cut (not
 * rounded) to the column's fractional digits as MySQL does: CURRENT_TIMESTAMP(0) never lands
 * half a second in the future.
 */
const ON_UPDATE_FUNCTION = 'my2pg_on_update_current_timestamp';

/** The trigger's name on each table (trigger names are per table, so one fixed name fits all). */
export const ON_UPDATE_TRIGGER = 'my2pg_on_update_current_timestamp';

/** The shared trigger function of a schema; CREATE OR REPLACE, so every table may (re)create it. */
export function onUpdateFunctionSql(schema: string): string {
  return `CREATE OR REPLACE FUNCTION ${qualifyPg(schema, ON_UPDATE_FUNCTION)}() RETURNS trigger LANGUAGE plpgsql AS $my2pg$
DECLARE
  stamped text[] := '{}';
  new_row jsonb := to_jsonb(NEW);
  old_row jsonb := to_jsonb(OLD);
  patch jsonb := '{}';
  i integer;
BEGIN
  -- Arguments: column, precision, column, precision, ...
  FOR i IN 0 .. TG_NARGS - 1 BY 2 LOOP
    stamped := stamped || TG_ARGV[i];
  END LOOP;
  -- Nothing but the ON UPDATE columns changed: MySQL leaves them alone.
  IF (new_row - stamped) IS NOT DISTINCT FROM (old_row - stamped) THEN
    RETURN NEW;
  END IF;
  FOR i IN 0 .. TG_NARGS - 1 BY 2 LOOP
    -- A column the statement changed itself keeps the value it was given.
    IF (new_row -> TG_ARGV[i]) IS NOT DISTINCT FROM (old_row -> TG_ARGV[i]) THEN
      patch := patch || jsonb_build_object(TG_ARGV[i],
        now() - (extract(microseconds FROM now())::bigint % (10 ^ (6 - TG_ARGV[i + 1]::integer))::bigint) * interval '1 microsecond');
    END IF;
  END LOOP;
  IF patch = '{}' THEN
    RETURN NEW;
  END IF;
  RETURN jsonb_populate_record(NEW, patch);
END
$my2pg$`;
}

/** The fractional digits of a column's ON UPDATE clause (`current_timestamp(6)`), else the column's. */
export function onUpdatePrecision(column: SourceColumn): number {
  const match = /\((\d)\)/.exec(column.onUpdate ?? '');
  const p = match?.[1] !== undefined ? Number(match[1]) : (column.datetimePrecision ?? 0);
  return Math.min(6, Math.max(0, p));
}

/** True for `ON UPDATE CURRENT_TIMESTAMP` and its synonyms (the only ON UPDATE MySQL has). */
export function isOnUpdateNow(column: SourceColumn): boolean {
  return /^(current_timestamp|now|localtime|localtimestamp)(\(\d*\))?$/i.test((column.onUpdate ?? '').trim());
}

/** CREATE TRIGGER for one created table; `columns` are target column names with their precision. */
export function onUpdateTriggerSql(
  schema: string,
  table: string,
  columns: readonly { name: string; precision: number }[],
): string {
  const args = columns.flatMap((c) => [literalPg(c.name), literalPg(String(c.precision))]).join(', ');
  return `CREATE TRIGGER ${quotePg(ON_UPDATE_TRIGGER)} BEFORE UPDATE ON ${qualifyPg(schema, table)} FOR EACH ROW EXECUTE FUNCTION ${qualifyPg(schema, ON_UPDATE_FUNCTION)}(${args})`;
}
