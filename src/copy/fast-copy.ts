import { finished } from 'node:stream/promises';
import pgCopyStreams from 'pg-copy-streams';
import { RowRefused } from '../core/errors.js';
import { currentWatchdog } from '../core/watchdog.js';
import type { RawRowQuery } from '../dialect/mysql/raw-rows.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { isRowRefusal } from '../dialect/driver-errors.js';
import { BINARY_HEADER, BINARY_TRAILER } from './binary-format.js';
import type { CopyRowEncoder } from './copy-encoder.js';
import type { BatchLimits } from './copy-plan.js';
import { CopySink } from './copy-sink.js';
import type { OnSourceRow, StartRawQuery } from './row-stream.js';

/**
 * The fast way rows reach PostgreSQL: one COPY for every row, in text or binary format. It
 * holds at most one batch (`batchRows` rows or `batchBytes` bytes of COPY text, whichever
 * comes first) plus the row being read, and stops reading MySQL while PostgreSQL is behind,
 * so memory is bounded by bytes whatever the rows. A row PostgreSQL refuses fails the whole
 * COPY with RowRefused; the caller then starts over with the careful path (careful-copy.ts).
 */
export async function copyRowsFast(
  pg: PoolClient,
  copySql: string,
  format: 'binary' | 'text',
  startQuery: StartRawQuery,
  encoder: CopyRowEncoder,
  limits: BatchLimits,
  onRow: OnSourceRow,
  onBatch: () => void,
): Promise<void> {
  try {
    if (format === 'binary') {
      await streamIntoCopy(pg, `${copySql} WITH (FORMAT binary)`, startQuery, encoder, limits, onRow, onBatch, {
        header: BINARY_HEADER,
        trailer: BINARY_TRAILER,
      });
    } else {
      await streamIntoCopy(pg, copySql, startQuery, encoder, limits, onRow, onBatch);
    }
  } catch (error) {
    if (isRowRefusal(error)) throw new RowRefused((error as Error).message, { cause: error });
    throw error;
  }
}

/**
 * Chunks go to the socket as they fill; while PostgreSQL is behind, MySQL is not read. A row
 * bigger than a batch is written chunk by chunk at the socket's pace (MySQL paused meanwhile),
 * so it never exists whole as COPY text.
 */
function streamIntoCopy(
  pg: PoolClient,
  copySql: string,
  startQuery: StartRawQuery,
  encoder: CopyRowEncoder,
  limits: BatchLimits,
  onRow: OnSourceRow,
  onBatch: () => void,
  /** Bytes before the first row and after the last (binary COPY's header and trailer). */
  frame?: { header: Buffer; trailer: Buffer },
): Promise<void> {
  const copy = pg.query(pgCopyStreams.from(copySql, { highWaterMark: limits.batchBytes }));
  // Where the copy waits, for the watchdog's message (taken here: 'drain' comes from the socket).
  const watchdog = currentWatchdog();
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    let query: RawRowQuery | undefined;
    /** PostgreSQL asked to wait ('drain' not yet seen). */
    let blocked = false;
    /** A big row is being written; rows that arrive meanwhile wait (and MySQL pauses when they fill a batch). */
    let holding = false;
    let queueFull = false;
    let queryPaused = false;
    let idle: (() => void) | undefined;
    let drained: (() => void)[] = [];
    const steer = (): void => {
      if (!query || failed) return;
      if (!holding) queueFull = false;
      const pause = blocked || queueFull;
      if (pause && !queryPaused) {
        watchdog?.at('writing rows: PostgreSQL has not taken the COPY data (MySQL paused meanwhile)');
        query.pause();
      } else if (!pause && queryPaused) {
        watchdog?.at('reading rows: no row from MySQL since the copy resumed reading');
        query.resume();
      }
      queryPaused = pause;
    };
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      query?.pause();
      if (!copy.destroyed) copy.destroy(error as Error);
      for (const wake of drained) wake();
      idle?.();
      reject(error);
    };
    copy.on('error', fail);
    copy.on('drain', () => {
      // PostgreSQL took data: progress, even while one big row is written at the socket's pace.
      watchdog?.moved();
      blocked = false;
      const waiting = drained;
      drained = [];
      for (const wake of waiting) wake();
      steer();
    });
    const sink = new CopySink(limits.batchBytes, (chunk) => {
      if (!copy.write(chunk) && !blocked) {
        blocked = true;
        steer();
      }
    });
    if (frame) sink.raw(frame.header, 0, frame.header.length);
    const untilDrained = (): Promise<void> =>
      blocked && !failed ? new Promise((wake) => drained.push(wake)) : Promise.resolve();
    let rows = 0;
    const rowWritten = (): void => {
      if (++rows >= limits.batchRows) {
        rows = 0;
        sink.flush();
        onBatch();
      }
    };
    // Rows that arrive while a big row is being written wait here: at most one batch of
    // bytes or one more big row, so MySQL sends the next row while PostgreSQL takes this one.
    const waiting: { source: Buffer; start: number; end: number }[] = [];
    let waitingBytes = 0;
    /** Writes one row; returns false when it went on asynchronously (a big row). */
    const handle = (source: Buffer, start: number, end: number): boolean => {
      const refusal = encoder.prepare(source, start);
      onRow(source, start, end, refusal);
      if (refusal !== null) return true;
      if (end - start <= limits.batchBytes) {
        encoder.write(source, sink);
        rowWritten();
        return true;
      }
      holding = true;
      encoder.writeAsync(source, sink, untilDrained).then(() => {
        rowWritten();
        try {
          while (waiting.length > 0) {
            const next = waiting.shift()!;
            waitingBytes -= next.end - next.start;
            if (!handle(next.source, next.start, next.end)) return;
          }
        } catch (error) {
          fail(error);
          return;
        }
        holding = false;
        steer();
        idle?.();
      }, fail);
      return false;
    };
    query = startQuery({
      onFields: (fields) => encoder.bind(fields),
      onRow: (source, start, end) => {
        if (!holding) {
          handle(source, start, end);
          return;
        }
        waiting.push({ source, start, end });
        waitingBytes += end - start;
        if (!queueFull && waitingBytes >= limits.batchBytes) {
          queueFull = true;
          query!.pause();
          queryPaused = true;
        }
      },
    });
    query.done.then(
      async () => {
        // The query is over: nothing to steer. Pausing it now would leave its connection paused
        // for good (no 'drain' follows end()), and the pool's next command on it would never be sent.
        query = undefined;
        if (failed) return;
        try {
          // The last rows may still be on their way (a big row and the ones behind it).
          if (holding) await new Promise<void>((wake) => (idle = wake));
          if (failed) return;
          if (frame) sink.raw(frame.trailer, 0, frame.trailer.length);
          sink.flush();
          watchdog?.at('ending the COPY: PostgreSQL has not confirmed the last rows');
          copy.end();
          await finished(copy);
          resolve();
        } catch (error) {
          fail(error);
        }
      },
      (error: unknown) => fail(error),
    );
  });
}
