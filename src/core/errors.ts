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
 * The one error family of my2pg. Every message names the table (when there is one) and
 * says what to do next.
 */
export class MigrationError extends Error {
  readonly table: string | undefined;
  readonly keyRange: ErrorContext['keyRange'];
  readonly pg: PgErrorFields;
  /** True when retrying cannot help (bad schema, bad value); BullMQ must not retry. */
  readonly permanent: boolean;

  constructor(message: string, context: ErrorContext = {}, permanent = false) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause });
    this.name = 'MigrationError';
    this.table = context.table;
    this.keyRange = context.keyRange;
    this.permanent = permanent;
    this.pg = pickPgFields(context.cause);
  }
}

/** A problem of configuration, usage or connectivity found before anything started (exit 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
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

// SQLSTATE classes that a retry cannot fix: data exceptions, integrity violations,
// syntax/undefined-object errors, feature not supported.
const PERMANENT_PG_CLASSES = new Set(['22', '23', '42', '0A', '2B']);
// mysql2 error codes that no retry fixes.
const PERMANENT_MYSQL_CODES = new Set([
  'ER_NO_SUCH_TABLE',
  'ER_BAD_FIELD_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_PARSE_ERROR',
]);

/** Whether an error from a driver is permanent (no retry can succeed). */
export function isPermanentError(error: unknown): boolean {
  if (error instanceof MigrationError) return error.permanent;
  // BullMQ's UnrecoverableError, known by its name: importing BullMQ here would load it in every command.
  if (error instanceof Error && error.name === 'UnrecoverableError') return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (/^[0-9A-Z]{5}$/.test(code)) return PERMANENT_PG_CLASSES.has(code.slice(0, 2));
  return PERMANENT_MYSQL_CODES.has(code);
}

/** One line describing an error and its PostgreSQL detail, for logs and reports. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  const fields = error instanceof MigrationError ? error.pg : pickPgFields(error);
  if (fields.detail && !error.message.includes(fields.detail)) parts.push(`(${fields.detail})`);
  return parts.join(' ');
}
