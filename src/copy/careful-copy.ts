import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pgCopyStreams from 'pg-copy-streams';
import { decodeRawRow } from '../dialect/mysql/raw-fields.js';
import type { RawRowQuery } from '../dialect/mysql/raw-rows.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import { isRowRefusal } from '../dialect/driver-errors.js';
import type { CopyRowEncoder } from './copy-encoder.js';
import type { BatchLimits } from './copy-plan.js';
import { CopySink } from './copy-sink.js';
import { refusedColumn, type RejectedRowCapture } from './rejected-rows.js';
import type { OnSourceRow, StartRawQuery } from './row-stream.js';

/**
 * The careful way rows reach PostgreSQL, taken once the fast way met a row PostgreSQL refuses:
 * a COPY per batch under a savepoint; a refused batch is halved until its refused rows are
 * found, each captured as rejected, the others written. Halves are pieces of the same chunks,
 * so narrowing down copies nothing. Like the fast way, it holds at most one batch.
 */

/** One batch: its COPY text in chunks, where each row starts, each row's source bytes. */
interface Batch {
  /** Offset (in the sink's output) of the batch's first byte. */
  base: number;
  chunks: Buffer[];
  /** Offsets of each row's first byte, plus the batch's end. */
  rowStarts: number[];
  /** Each row's source payload (a copy), to describe a row PostgreSQL refuses. */
  sources: Buffer[];
}

/** A row PostgreSQL refused on its own: its source payload (fields from offset 0) and the error. */
type OnRefused = (source: Buffer, error: unknown) => void;

/** The COPY text of rows [from, to) of a batch, as pieces of its chunks (no copy). */
function piecesOf(batch: Batch, from: number, to: number): Buffer[] {
  const begin = batch.rowStarts[from]! - batch.base;
  const end = batch.rowStarts[to]! - batch.base;
  const pieces: Buffer[] = [];
  let offset = 0;
  for (const chunk of batch.chunks) {
    const chunkEnd = offset + chunk.length;
    if (chunkEnd > begin && offset < end)
      pieces.push(chunk.subarray(Math.max(0, begin - offset), Math.min(chunk.length, end - offset)));
    offset = chunkEnd;
    if (offset >= end) break;
  }
  return pieces;
}

async function copyPieces(pg: PoolClient, copySql: string, pieces: Buffer[]): Promise<void> {
  await pipeline(Readable.from(pieces), pg.query(pgCopyStreams.from(copySql)));
}

/**
 * Writes rows [from, to) of a batch under a savepoint; when PostgreSQL refuses them, rolls
 * back to it and writes each half the same way, down to the single rows it refuses.
 */
async function writeNarrowing(
  pg: PoolClient,
  copySql: string,
  batch: Batch,
  from: number,
  to: number,
  onRefused: OnRefused,
): Promise<void> {
  if (from >= to) return;
  await pg.query('SAVEPOINT my2pg_batch');
  try {
    await copyPieces(pg, copySql, piecesOf(batch, from, to));
    await pg.query('RELEASE SAVEPOINT my2pg_batch');
    return;
  } catch (error) {
    if (!isRowRefusal(error)) throw error;
    await pg.query('ROLLBACK TO SAVEPOINT my2pg_batch');
    await pg.query('RELEASE SAVEPOINT my2pg_batch');
    if (to - from === 1) {
      onRefused(batch.sources[from]!, error);
      return;
    }
  }
  const middle = from + ((to - from) >>> 1);
  await writeNarrowing(pg, copySql, batch, from, middle, onRefused);
  await writeNarrowing(pg, copySql, batch, middle, to, onRefused);
}

/**
 * Copies every row batch by batch. A row PostgreSQL refuses goes to `rejects` (with the column
 * and SQLSTATE its error names); `afterBatch` runs once each batch is in, no COPY running (the
 * place to save what was rejected).
 */
export function copyRowsCareful(
  pg: PoolClient,
  copySql: string,
  startQuery: StartRawQuery,
  encoder: CopyRowEncoder,
  limits: BatchLimits,
  onRow: OnSourceRow,
  rejects: RejectedRowCapture,
  afterBatch: () => Promise<void>,
): Promise<void> {
  const onRefused: OnRefused = (source, error) => {
    const e = error as Error & { code?: string; column?: string; where?: string };
    rejects.add(
      decodeRawRow(source, 0, encoder.rawFields),
      rejects.sourceColumnOf(refusedColumn(e)),
      e.message,
      e.code ?? null,
    );
  };
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    let query: RawRowQuery | undefined;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
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
      await writeNarrowing(pg, copySql, full, 0, full.sources.length, onRefused);
      await afterBatch();
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
          writeAll(close()).then(() => {
            if (!failed) query!.resume();
          }, fail);
        }
      },
    });
    query.done.then(
      async () => {
        if (failed) return;
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
