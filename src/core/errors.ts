/**
 * The one error family of my2pg. Every error my2pg raises is a `My2pgError` of one kind; what
 * the drivers raise is classified by src/dialect/driver-errors.ts. Only jobs/ turns a permanent
 * error into BullMQ's `UnrecoverableError`, and only the CLI turns a usage error into exit 2.
 */

/** Where in the data a problem happened. */
export interface ErrorContext {
  table?: string;
  keyRange?: { from?: unknown; to?: unknown };
  cause?: unknown;
}

/** PostgreSQL error fields worth keeping for the operator. */
export interface PgErrorFields {
  code?: string;
  detail?: string;
  constraint?: string;
  column?: string;
}

/**
 * - `usage`: configuration, arguments or connectivity, found before anything started (exit 2);
 * - `permanent`: a retry cannot help (bad schema, a run that is not there, cancelled);
 * - `transient`: a retry may help (a lost connection, a deadlock);
 * - `value-refused`: my2pg refuses one value of a row (2 into a boolean, a NUL under `--nul reject`);
 * - `row-refused`: PostgreSQL refused a row of a COPY (a data exception, a constraint).
 */
export type ErrorKind = 'usage' | 'permanent' | 'transient' | 'value-refused' | 'row-refused';

export abstract class My2pgError extends Error {
  abstract readonly kind: ErrorKind;
  readonly table: string | undefined;
  readonly keyRange: ErrorContext['keyRange'];
  readonly pg: PgErrorFields;

  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.table = context.table;
    this.keyRange = context.keyRange;
    this.pg = pickPgFields(context.cause);
  }
}

/** A problem of configuration, usage or connectivity found before anything started (exit 2). */
export class UsageError extends My2pgError {
  readonly kind = 'usage';
}

/** Retrying cannot help; BullMQ must not retry. */
export class PermanentError extends My2pgError {
  readonly kind = 'permanent';
}

/** Retrying may help. */
export class TransientError extends My2pgError {
  readonly kind = 'transient';
}

/** One value my2pg will not write as it is; the row is set aside as rejected. */
export class ValueRefused extends My2pgError {
  readonly kind = 'value-refused';
  constructor(
    readonly column: string,
    readonly reason: string,
  ) {
    super(`column ${column}: ${reason}`);
  }
}

/** PostgreSQL refused a row of a batch (SQLSTATE classes 22, 23, 54): the careful path narrows it down. */
export class RowRefused extends My2pgError {
  readonly kind = 'row-refused';
}

function pickPgFields(cause: unknown): PgErrorFields {
  if (typeof cause !== 'object' || cause === null) return {};
  const c = cause as Record<string, unknown>;
  const out: PgErrorFields = {};
  for (const key of ['code', 'detail', 'constraint', 'column'] as const) {
    if (typeof c[key] === 'string') out[key] = c[key] as string;
  }
  return out;
}

/** The process exit code for an error that ends a command: 2 for usage, 1 otherwise. */
export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof UsageError ? 2 : 1;
}

/** One line describing an error and its PostgreSQL detail, for logs and reports. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  const fields = error instanceof My2pgError ? error.pg : pickPgFields(error);
  if (fields.detail && !error.message.includes(fields.detail)) parts.push(`(${fields.detail})`);
  return parts.join(' ');
}
