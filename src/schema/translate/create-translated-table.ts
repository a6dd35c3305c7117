import { describeError } from '../../core/errors.js';
import { qualifyPg, quotePg } from '../../dialect/postgres/quote.js';
import { buildCreateTable, type CreateTablePlan } from '../ddl.js';
import { targetTableName } from '../../vocabulary/naming.js';
import type { SourceTable } from '../../dialect/mysql/catalog.js';
import { DEFAULT_TYPE_MAP_OPTIONS } from '../type-overrides.js';
import type { SourceObjects } from './source-objects.js';
import {
  pgColumnTypes,
  translateChecks,
  translateGeneratedColumns,
  type CheckOutcome,
  type GeneratedColumnOutcome,
} from './translate-table.js';

type BuildOptions = Parameters<typeof buildCreateTable>[2];

/** A created table with its generated columns and CHECK constraints translated. */
export interface TranslatedTable {
  /** What buildCreateTable planned, CHECKs added to the deferred definitions. */
  ddl: CreateTablePlan;
  generated: GeneratedColumnOutcome[];
  checks: CheckOutcome[];
  /** Whether `ddl.statements` already ran (through `query`); when false the caller runs them. */
  executed: boolean;
}

/** Runs `statements` under a savepoint and rolls them back: whether PostgreSQL accepts them, and why not. */
async function tryStatements(
  query: (sql: string) => Promise<unknown>,
  statements: readonly string[],
): Promise<string | null> {
  await query('SAVEPOINT my2pg_probe');
  let refusal: string | null = null;
  try {
    for (const statement of statements) await query(statement);
  } catch (error) {
    refusal = describeError(error);
  }
  await query('ROLLBACK TO SAVEPOINT my2pg_probe');
  await query('RELEASE SAVEPOINT my2pg_probe');
  return refusal;
}

/**
 * Creates one missing target table (inside the prepare transaction, through `query`) with
 * its generated columns as `GENERATED ALWAYS AS (…) STORED` where the expression translates
 * and PostgreSQL accepts it (each one is tried under a savepoint first: PostgreSQL wants
 * IMMUTABLE expressions), and plans its CHECK constraints, each tried the same way. What does
 * not translate stays a plain column, or is not migrated, with the reason. The table itself is
 * created here only when a CHECK must be tried on it (see `executed`).
 */
export async function createTranslatedTable(
  query: (sql: string) => Promise<unknown>,
  table: SourceTable,
  schema: string,
  options: BuildOptions,
  objects: SourceObjects,
): Promise<TranslatedTable> {
  const included = options.columns ? table.columns.filter((c) => options.columns!.includes(c.name)) : table.columns;
  const pgTypes = pgColumnTypes(table, options.types ?? DEFAULT_TYPE_MAP_OPTIONS);
  const generated = translateGeneratedColumns(table, objects.generated, pgTypes, options.naming).filter((g) =>
    included.some((c) => c.name === g.column),
  );
  const accepted = new Map<string, string>();
  for (const outcome of generated) {
    if (outcome.status !== 'generated') continue;
    // A trial takes its names from a copy of the allocator: only the final build gives them out.
    const trial = buildCreateTable(table, schema, {
      ...options,
      ...(options.names ? { names: options.names.clone() } : {}),
      generated: new Map([[outcome.column, outcome.sql!]]),
    });
    const refusal = await tryStatements(query, trial.statements);
    if (refusal === null) accepted.set(outcome.column, outcome.sql!);
    else
      Object.assign(outcome, {
        status: 'plain',
        reason: `PostgreSQL refused the translation ${outcome.sql}: ${refusal}`,
      });
  }
  const ddl = buildCreateTable(table, schema, { ...options, generated: accepted });
  const checks = translateChecks(table, objects.checks, pgTypes, options.naming);
  // A CHECK is tried on the created table; a table without one is left to the caller, who
  // creates many tables in a few round trips.
  const executed = checks.some((c) => c.status === 'translated');
  if (executed) for (const statement of ddl.statements) await query(statement);
  for (const check of checks) {
    if (check.status !== 'translated') continue;
    const refusal = await tryStatements(query, [
      `ALTER TABLE ${qualifyPg(schema, options.targetName ?? targetTableName(options.naming, table.name))} ADD CONSTRAINT ${quotePg(check.constraintName!)} ${check.definition!} NOT VALID`,
    ]);
    if (refusal !== null)
      Object.assign(check, {
        status: 'not_migrated',
        reason: `PostgreSQL refused the translation ${check.definition}: ${refusal}`,
      });
  }
  for (const g of generated) {
    if (g.status === 'plain')
      ddl.warnings.push(
        `${table.name}: generated column ${g.column} AS (${g.expression}) becomes a plain column holding the copied values: ${g.reason ?? ''}`,
      );
  }
  for (const c of checks) {
    if (c.status === 'not_migrated')
      ddl.warnings.push(`${table.name}: CHECK ${c.name} (${c.clause}) is not migrated: ${c.reason ?? ''}`);
    if (c.status === 'translated')
      ddl.deferred.push({ kind: 'check', name: c.constraintName!, definition: c.definition! });
  }
  return { ddl, generated, checks, executed };
}
