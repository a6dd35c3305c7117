import { TransientError } from '../core/errors.js';
import type { RawRowHandlers, RawRowQuery } from '../dialect/mysql/raw-rows.js';
import type { RowRefusal } from './copy-encoder.js';

/** The source rows as both writers (fast-copy.ts, careful-copy.ts) take them. */

/** Starts the source query with these handlers. */
export type StartRawQuery = (handlers: RawRowHandlers) => RawRowQuery;

/** Called for every source row, after it was encoded (or refused by a converter: nothing written). */
export type OnSourceRow = (source: Buffer, start: number, end: number, refusal: RowRefusal | null) => void;

/**
 * A raw query that also ends when `signal` aborts (the run was cancelled, the worker is
 * stopping): the copy then fails with the signal's reason, and its transaction rolls back.
 */
export function abortableQuery(query: RawRowQuery, signal: AbortSignal | undefined, table: string): RawRowQuery {
  if (!signal) return query;
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () =>
      reject(
        signal.reason instanceof Error ? signal.reason : new TransientError(`table ${table}: copy aborted`, { table }),
      );
  });
  // Whoever awaits `done` hears it; this keeps an abort after the end from going unhandled.
  aborted.catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  const done = Promise.race([query.done, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
  return { ...query, done };
}
