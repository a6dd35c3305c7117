import { My2pgError } from '../core/errors.js';
import { isPermanentMysqlCode } from './mysql/error-codes.js';
import { isSqlstate, sqlstateMeaning } from './postgres/sqlstate.js';

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether no retry can help: a my2pg error of kind usage, permanent, value or row refused; a
 * PostgreSQL error whose SQLSTATE class is not transient; a MySQL error that names a missing
 * table or column. BullMQ's `UnrecoverableError` is known by its name (jobs/ raise it; importing
 * BullMQ here would load it in every command).
 */
export function isPermanentError(error: unknown): boolean {
  if (error instanceof My2pgError) return error.kind !== 'transient';
  if (error instanceof Error && error.name === 'UnrecoverableError') return true;
  const code = codeOf(error);
  if (code === undefined) return false;
  if (isSqlstate(code)) return sqlstateMeaning(code) !== 'transient';
  return isPermanentMysqlCode(code);
}

/** Whether PostgreSQL refused a row of a COPY for its data (the row can be set aside). */
export function isRowRefusal(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && isSqlstate(code) && sqlstateMeaning(code) === 'row-refused';
}
