import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import pgCopyStreams from 'pg-copy-streams';
import type { RawRowHandlers, RawRowQuery } from '../dialect/mysql/raw-rows.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import type { CopyRowEncoder, RowRefusal } from './copy-encoder.js';
import { CopySink } from './copy-sink.js';

/**
 * The two ways rows reach PostgreSQL. Both hold at most one batch (`batchRows` rows or
 * `batchBytes` bytes of COPY text, whichever comes first) plus the row being read, and stop
 * reading MySQL while PostgreSQL is behind, so memory is bounded by bytes whatever the rows.
 */

/** How much a copy holds at once. */
export interface BatchLimits {
  /** Rows per batch. */
  batchRows: number;
  /** Bytes of COPY text per batch (and per chunk handed to the socket). */
  batchBytes: number;
}

/** Starts the source query with these handlers. */
export type StartRawQuery = (handlers: RawRowHandlers) => RawRowQuery;

/** Called for every source row, after it was encoded (or refused by a converter: nothing written). */
export type OnSourceRow = (source: Buffer, start: number, end: number, refusal: RowRefusal | null) => void;

/**
 * Fast: one COPY for every row. Chunks go to the socket as they fill; while PostgreSQL is
 * behind, MySQL is not read. A row bigger than a batch is written chunk by chunk at the
 * socket's pace (MySQL paused meanwhile), so it never exists whole as COPY text. A row
 * PostgreSQL refuses fails the whole COPY (the caller then starts over with copyRowsCareful).
 */
export function copyRowsFast(
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
  return new Promise<void>((resolve, reject) => {
    let failure: unknown;
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
      if (!query || failure !== undefined) return;
      if (!holding) queueFull = false;
      const pause = blocked || queueFull;
      if (pause && !queryPaused) query.pause();
      else if (!pause && queryPaused) query.resume();
      queryPaused = pause;
    };
    const fail = (error: unknown): void => {
      if (failure !== undefined) return;
      failure = error ?? new Error('copy failed');
      query?.pause();
      if (!copy.destroyed) copy.destroy(error as Error);
      for (const wake of drained) wake();
      idle?.();
      reject(error);
    };
    copy.on('error', fail);
    copy.on('drain', () => {
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
    const untilDrained = (): Promise<void> => (blocked && failure === undefined ? new Promise((wake) => drained.push(wake)) : Promise.resolve());
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
        if (failure !== undefined) return;
        try {
          // The last rows may still be on their way (a big row and the ones behind it).
          if (holding) await new Promise<void>((wake) => (idle = wake));
          if (failure !== undefined) return;
          if (frame) sink.raw(frame.trailer, 0, frame.trailer.length);
          sink.flush();
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

/** One batch of the careful copy: its COPY text in chunks, where each row starts, each row's source bytes. */
interface Batch {
  /** Offset (in the sink's output) of the batch's first byte. */
  base: number;
  chunks: Buffer[];
  /** Offsets of each row's first byte, plus the batch's end. */
  rowStarts: number[];
  /** Each row's source payload (a copy), to describe a row PostgreSQL refuses. */
  sources: Buffer[];
}

/** The COPY text of rows [from, to) of a batch, as pieces of its chunks (no copy). */
function piecesOf(batch: Batch, from: number, to: number): Buffer[] {
  const begin = batch.rowStarts[from]! - batch.base;
  const end = batch.rowStarts[to]! - batch.base;
  const pieces: Buffer[] = [];
  let offset = 0;
  for (const chunk of batch.chunks) {
    const chunkEnd = offset + chunk.length;
    if (chunkEnd > begin && offset < end) pieces.push(chunk.subarray(Math.max(0, begin - offset), Math.min(chunk.length, end - offset)));
    offset = chunkEnd;
    if (offset >= end) break;
  }
  return pieces;
}

async function copyPieces(pg: PoolClient, copySql: string, pieces: Buffer[]): Promise<void> {
  await pipeline(Readable.from(pieces), pg.query(pgCopyStreams.from(copySql)));
}

/** What the careful copy reports besides each source row. */
export interface CarefulHooks {
  /** Whether PostgreSQL's error refuses the batch's rows (rather than failing the copy). */
  isRowRejection(error: unknown): boolean;
  /** A row PostgreSQL refused on its own (its source payload, fields from offset 0). */
  onRefused(source: Buffer, error: unknown): void;
  /** After each batch is in (no COPY running): the place to save what was rejected. */
  afterBatch(): Promise<void>;
}

/**
 * Careful: a COPY per batch under a savepoint; a refused batch is halved until its refused
 * rows are found, each reported through `onRefused`, the others written. Halves are pieces of
 * the same chunks, so narrowing down copies nothing.
 */
export function copyRowsCareful(pg: PoolClient, copySql: string, startQuery: StartRawQuery, encoder: CopyRowEncoder, limits: BatchLimits, onRow: OnSourceRow, hooks: CarefulHooks): Promise<void> {
  const write = async (batch: Batch, from: number, to: number): Promise<void> => {
    if (from >= to) return;
    await pg.query('SAVEPOINT my2pg_batch');
    try {
      await copyPieces(pg, copySql, piecesOf(batch, from, to));
      await pg.query('RELEASE SAVEPOINT my2pg_batch');
      return;
    } catch (error) {
      if (!hooks.isRowRejection(error)) throw error;
      await pg.query('ROLLBACK TO SAVEPOINT my2pg_batch');
      await pg.query('RELEASE SAVEPOINT my2pg_batch');
      if (to - from === 1) {
        hooks.onRefused(batch.sources[from]!, error);
        return;
      }
    }
    const middle = from + ((to - from) >>> 1);
    await write(batch, from, middle);
    await write(batch, middle, to);
  };

  return new Promise<void>((resolve, reject) => {
    let failure: unknown;
    let query: RawRowQuery | undefined;
    const fail = (error: unknown): void => {
      if (failure !== undefined) return;
      failure = error ?? new Error('copy failed');
      query?.pause();
      reject(error);
    };
    let batch: Batch = { base: 0, chunks: [], rowStarts: [], sources: [] };
    const sink = new CopySink(limits.batchBytes, (chunk) => batch.chunks.push(chunk));
    let sourceBytes = 0;
    const close = (): Batch => {
      sink.flush();
      const full = batch;
      full.rowStarts.push(sink.written);
      batch = { base: sink.written, chunks: [], rowStarts: [], sources: [] };
      sourceBytes = 0;
      return full;
    };
    const writeAll = async (full: Batch): Promise<void> => {
      await write(full, 0, full.sources.length);
      await hooks.afterBatch();
    };
    query = startQuery({
      onFields: (fields) => encoder.bind(fields),
      onRow: (source, start, end) => {
        const at = sink.written;
        const refusal = encoder.encode(source, start, sink);
        onRow(source, start, end, refusal);
        if (refusal !== null) return;
        batch.rowStarts.push(at);
        batch.sources.push(Buffer.from(source.subarray(start, end)));
        sourceBytes += end - start;
        if (batch.sources.length >= limits.batchRows || sink.written - batch.base + sourceBytes >= limits.batchBytes) {
          query!.pause();
          writeAll(close()).then(
            () => {
              if (failure === undefined) query!.resume();
            },
            fail,
          );
        }
      },
    });
    query.done.then(
      async () => {
        if (failure !== undefined) return;
        try {
          await writeAll(close());
          resolve();
        } catch (error) {
          fail(error);
        }
      },
      (error: unknown) => fail(error),
    );
  });
}
