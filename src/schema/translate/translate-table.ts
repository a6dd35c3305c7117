import { quotePg } from '../../dialect/postgres/quote.js';
import { fitIdentifier } from '../../vocabulary/identifiers.js';
import { applyIdentifierCase, targetColumnName, type NamingRules } from '../../vocabulary/naming.js';
import type { SourceTable } from '../../dialect/mysql/catalog.js';
import { mapColumnType } from '../type-map.js';
import type { TypeMapOptions } from '../type-overrides.js';
import { parseMysqlExpression, UntranslatableError } from './mysql-parse.js';
import type { SourceCheck, SourceGeneratedColumn } from './source-objects.js';
import { typeOfPgColumn } from './sql-types.js';
import { ExpressionTranslator, type Translated, type TranslateScope } from './translate-expression.js';

/** What became of a generated column of a table my2pg creates. */
export interface GeneratedColumnOutcome {
  table: string;
  column: string;
  /** MySQL's kind; PostgreSQL has only STORED generated columns. */
  kind: 'stored' | 'virtual';
  /** The expression as the source stores it. */
  expression: string;
  /** `generated`: GENERATED ALWAYS AS (sql) STORED; `plain`: a plain column holding the copied values. */
  status: 'generated' | 'plain';
  sql?: string;
  reason?: string;
}

/** What became of a CHECK constraint of a table my2pg creates. */
export interface CheckOutcome {
  table: string;
  /** The source's constraint name. */
  name: string;
  clause: string;
  /**
   * `translated`: saved and added by finalize (NOT VALID, then VALIDATE); `implied`: MariaDB's
   * json_valid() check of a JSON column, which jsonb enforces itself; `not_migrated`.
   */
  status: 'translated' | 'implied' | 'not_migrated';
  /** The PostgreSQL constraint name (at most 63 bytes). */
  constraintName?: string;
  /** `CHECK (…)`, as added by finalize. */
  definition?: string;
  reason?: string;
}

/** The PostgreSQL type of each column of a created table, as buildCreateTable will write it. */
export function pgColumnTypes(table: SourceTable, types: TypeMapOptions): Map<string, string> {
  const out = new Map<string, string>();
  for (const column of table.columns) {
    const mapped = mapColumnType(column, types, table.name);
    out.set(column.name, mapped.enumLabels ? 'text' : mapped.sql);
  }
  return out;
}

/**
 * Names resolve to the table's own columns (case-insensitively, as MySQL does), written with
 * their target names (renames, case rule). A generated
 * column named in another one's expression is replaced by its own translation, since
 * PostgreSQL does not let a generated column read another.
 */
function tableScope(
  table: SourceTable,
  pgTypes: ReadonlyMap<string, string>,
  inline: ReadonlyMap<string, Translated> | null,
  naming: NamingRules | undefined,
): TranslateScope {
  return {
    column(ref) {
      if (ref.table !== null && ref.table.toLowerCase() !== table.name.toLowerCase())
        throw new UntranslatableError(`it names another table (${ref.table})`);
      const column = table.columns.find((c) => c.name.toLowerCase() === ref.column.toLowerCase());
      if (!column) throw new UntranslatableError(`it names an unknown column ${ref.column}`);
      if (inline && column.generated) {
        const translated = inline.get(column.name);
        if (!translated)
          throw new UntranslatableError(`it reads generated column ${column.name}, which is not translated`);
        return { sql: `(${translated.sql})`, type: translated.type };
      }
      return {
        sql: quotePg(targetColumnName(naming, table.name, column.name)),
        type: typeOfPgColumn(pgTypes.get(column.name) ?? 'text', column),
      };
    },
  };
}

/**
 * Translates the generated columns of a table, in table order (MySQL lets one read only the
 * generated columns before it). Each result is still to be tried in PostgreSQL.
 */
export function translateGeneratedColumns(
  table: SourceTable,
  generated: readonly SourceGeneratedColumn[],
  pgTypes: ReadonlyMap<string, string>,
  naming?: NamingRules,
): GeneratedColumnOutcome[] {
  const inline = new Map<string, Translated>();
  const outcomes: GeneratedColumnOutcome[] = [];
  for (const column of table.columns) {
    if (!column.generated) continue;
    const source = generated.find((g) => g.table === table.name && g.column === column.name);
    const base = {
      table: table.name,
      column: column.name,
      kind: source?.kind ?? 'stored',
      expression: source?.expression ?? '',
    } as const;
    if (!source) {
      outcomes.push({ ...base, status: 'plain', reason: 'the source did not report its expression' });
      continue;
    }
    try {
      const translator = new ExpressionTranslator(tableScope(table, pgTypes, inline, naming), { immutable: true });
      const target = typeOfPgColumn(pgTypes.get(column.name) ?? 'text', column);
      const value = translator.toType(translator.value(parseMysqlExpression(source.expression)), target);
      inline.set(column.name, value);
      outcomes.push({ ...base, status: 'generated', sql: value.sql });
    } catch (error) {
      if (!(error instanceof UntranslatableError)) throw error;
      outcomes.push({ ...base, status: 'plain', reason: error.message });
    }
  }
  return outcomes;
}

/** MariaDB's implicit CHECK (json_valid(`col`)) of a JSON column: jsonb enforces it. */
function isImpliedJsonCheck(check: SourceCheck, table: SourceTable): boolean {
  const match = /^\s*json_valid\(\s*`((?:[^`]|``)+)`\s*\)\s*$/i.exec(check.clause);
  if (!match?.[1]) return false;
  const name = match[1].replace(/``/g, '`');
  return table.columns.some((c) => c.name === name && c.dataType === 'json');
}

/** Translates the CHECK constraints of a table; each translated one is still to be tried in PostgreSQL. */
export function translateChecks(
  table: SourceTable,
  checks: readonly SourceCheck[],
  pgTypes: ReadonlyMap<string, string>,
  naming?: NamingRules,
): CheckOutcome[] {
  return checks
    .filter((c) => c.table === table.name)
    .map((check): CheckOutcome => {
      const base = { table: table.name, name: check.name, clause: check.clause };
      if (isImpliedJsonCheck(check, table)) return { ...base, status: 'implied' };
      if (!check.enforced) return { ...base, status: 'not_migrated', reason: 'it is NOT ENFORCED in MySQL' };
      try {
        const translator = new ExpressionTranslator(tableScope(table, pgTypes, null, naming), { immutable: true });
        const condition = translator.cond(parseMysqlExpression(check.clause));
        return {
          ...base,
          status: 'translated',
          constraintName: fitIdentifier(applyIdentifierCase(check.name, naming?.case ?? 'keep')),
          definition: `CHECK (${condition})`,
        };
      } catch (error) {
        if (!(error instanceof UntranslatableError)) throw error;
        return { ...base, status: 'not_migrated', reason: error.message };
      }
    });
}
