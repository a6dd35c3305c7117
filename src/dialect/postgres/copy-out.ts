import { gateReads, type ReadGate } from '../../core/read-gate.js';
import { currentWatchdog } from '../../core/watchdog.js';
import type { PoolClient } from './connection.js';

/**
 * `COPY … TO STDOUT` read straight from the client's socket: the CopyData messages' bytes
 * reach `onData` where they lie in each socket chunk, with no buffer or stream object per
 * message (PostgreSQL sends one message per row, so that is one fewer allocation per row).
 * The same take-over of pg's socket as pg-copy-streams' copy-to: pg's data listener is set
 * aside during the copy and handed back, with the bytes that follow, at CopyDone or at an error.
 */

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR = 0x45; // 'E'

interface PgConnection {
  stream: NodeJS.ReadableStream & { listeners(event: 'data'): ((chunk: Buffer) => void)[] };
  query(text: string): void;
}

class CopyOut {
  private connection: PgConnection | undefined;
  private pgOnData: ((chunk: Buffer) => void) | undefined;
  // Chunks arrive in the socket's callbacks, outside the job's context: the watchdog is taken here.
  private readonly watchdog = currentWatchdog();
  private readonly onChunk = (chunk: Buffer): void => {
    this.watchdog?.moved();
    this.parse(chunk);
    // Past CopyDone or an error the socket is pg's again: it is never left paused then.
    if (!this.detached) this.checkGate();
  };
  private detached = false;
  private checkGate: () => void = () => undefined;
  /** Message being read: its code, and the bytes of it still to come (-1: its length is not read yet). */
  private code = -1;
  private remaining = -1;
  private readonly length = Buffer.alloc(4);
  private lengthRead = 0;
  private failure: unknown;
  private settled = false;

  constructor(
    private readonly text: string,
    private readonly onData: (buffer: Buffer, start: number, end: number) => void,
    private readonly resolve: () => void,
    private readonly reject: (error: unknown) => void,
    private readonly gate?: ReadGate,
  ) {}

  /** pg replaces this with its query_timeout handling. */
  callback(): void {}

  submit(connection: PgConnection): void {
    this.connection = connection;
    // A closed gate stops reading the socket between chunks (the server waits on its send).
    this.checkGate = gateReads(
      this.gate,
      () => connection.stream.pause(),
      () => connection.stream.resume(),
    );
    const listeners = connection.stream.listeners('data');
    if (listeners.length !== 1)
      throw new Error(`expected one data listener on the PostgreSQL socket, found ${listeners.length}`);
    this.pgOnData = listeners[0]!;
    connection.stream.removeListener('data', this.pgOnData);
    connection.stream.on('data', this.onChunk);
    connection.query(this.text);
  }

  private parse(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.code < 0) {
        const code = chunk[pos]!;
        // An error, or the end of the copy: pg reads on from here.
        if (code === ERROR) {
          this.detach(chunk, pos);
          return;
        }
        this.code = code;
        this.remaining = -1;
        this.lengthRead = 0;
        pos += 1;
        continue;
      }
      if (this.remaining < 0) {
        while (this.lengthRead < 4 && pos < end) this.length[this.lengthRead++] = chunk[pos++]!;
        if (this.lengthRead < 4) return;
        this.remaining = this.length.readUInt32BE(0) - 4;
      }
      const n = Math.min(this.remaining, end - pos);
      if (n > 0 && this.code === COPY_DATA && this.failure === undefined) {
        try {
          this.onData(chunk, pos, pos + n);
        } catch (error) {
          this.failure = error;
        }
      }
      pos += n;
      this.remaining -= n;
      if (this.remaining === 0) {
        const code = this.code;
        this.code = -1;
        if (code === COPY_DONE) {
          this.detach(chunk, pos);
          return;
        }
      }
    }
  }

  private detach(chunk: Buffer, from: number): void {
    const connection = this.connection!;
    this.detached = true;
    connection.stream.removeListener('data', this.onChunk);
    connection.stream.on('data', this.pgOnData!);
    if (from < chunk.length) this.pgOnData!(chunk.subarray(from));
  }

  handleError(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.failure !== undefined) this.reject(this.failure);
    else this.resolve();
  }
}

/** Runs `COPY (query) TO STDOUT …` (the whole statement in `copySql`) and hands its data bytes to `onData` as they arrive; a `gate` may pause the reading (see ReadGate). */
export function copyOut(
  client: PoolClient,
  copySql: string,
  onData: (buffer: Buffer, start: number, end: number) => void,
  gate?: ReadGate,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A submittable: pg calls its submit and handle* methods instead of returning a promise.
    (client as unknown as { query(submittable: unknown): unknown }).query(
      new CopyOut(copySql, onData, resolve, reject, gate),
    );
  });
}
