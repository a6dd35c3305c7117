import { decodeRawField, splitRawRow, ZeroBytes, type RawField } from '../dialect/mysql/raw-fields.js';
import { PermanentError, TransientError, ValueRefused } from '../core/errors.js';
import type { Converter, CopyByteRule } from './convert.js';
import type { BinaryKind } from './binary-format.js';
import { writeBinaryRow, writeBinaryRowAsync, type BinaryColumns } from './binary-row.js';
import { NEWLINE, TAB, type CopySink } from './copy-sink.js';
import { detachRow, preparedRow, type PreparedRow } from './prepared-row.js';
import {
  BOOL,
  boundRuleCode,
  BYTEA,
  DATE,
  DIGITS,
  MAX_CONVERTED_BYTES,
  needsConverter,
  ruleCodes,
  TEXT,
} from './value-rules.js';

/**
 * PostgreSQL COPY rows, written from MySQL's raw row bytes: each row is first prepared (the
 * values its columns' rules say must be converted go through their converters, and a value a
 * converter refuses refuses the row before a byte of it is written), then written to a
 * CopySink in COPY's text format, or its binary format (binary-row.ts).
 */

/** One column as the encoder sees it. */
export interface EncoderColumn {
  name: string;
  rule: CopyByteRule;
  convert: Converter;
  /** How the column is written in binary COPY format; null: the table is copied in text format. */
  binary?: BinaryKind | null;
}

/** Why a row cannot be written: a value its column's converter refused. */
export interface RowRefusal {
  column: string;
  reason: string;
}

/**
 * Encodes the rows of one table from raw MySQL row bytes to COPY text. Built once per table
 * (the columns' rules) and bound to the result set's fields before the first row.
 */
export class CopyRowEncoder {
  private readonly width: number;
  private readonly codes: Uint8Array;
  /** The current row, between prepare and write. */
  private readonly row: PreparedRow;
  private fields: RawField[] = [];
  /** The columns in binary format; null when one of them has no binary form. */
  private readonly binaryColumns: BinaryColumns | null;
  private binary = false;
  private readonly zeros = new ZeroBytes();

  constructor(
    private readonly columns: readonly EncoderColumn[],
    /** The table, for messages. */
    private readonly table: string,
  ) {
    this.width = columns.length;
    this.codes = ruleCodes(columns.map((c) => c.rule));
    this.row = preparedRow(this.width);
    const kinds = columns.map((c) => c.binary ?? null);
    this.binaryColumns = kinds.every((k) => k !== null) ? { names: columns.map((c) => c.name), kinds } : null;
  }

  /** Whether every column has a binary form, so the table can be copied in binary format. */
  get canWriteBinary(): boolean {
    return this.binaryColumns !== null;
  }

  /** Writes COPY's binary format from now on (true) or its text format (false, the default). */
  useBinary(on: boolean): void {
    if (on && !this.canWriteBinary)
      throw new PermanentError(`table ${this.table}: a column of this table has no binary form`, { table: this.table });
    this.binary = on;
  }

  /** Takes the result set's description; a column whose bytes are not what its rule expects falls back to its converter. */
  bind(fields: readonly RawField[]): void {
    // The table changed since its definition was read: a retry reads it afresh.
    if (fields.length !== this.width)
      throw new TransientError(
        `table ${this.table}: the query returned ${fields.length} columns, ${this.width} expected`,
        { table: this.table },
      );
    this.fields = [...fields];
    fields.forEach((field, i) => {
      this.codes[i] = boundRuleCode(this.codes[i]!, field);
    });
  }

  /** The fields this encoder was bound to. */
  get rawFields(): readonly RawField[] {
    return this.fields;
  }

  private convertField(i: number, source: Buffer): void {
    const { starts, ends } = this.row;
    const bytes = ends[i]! - starts[i]!;
    if (bytes > MAX_CONVERTED_BYTES) {
      throw new PermanentError(
        `table ${this.table}: column ${this.columns[i]!.name} holds a value of ${Math.round(bytes / 1048576)} MB that must be converted for its PostgreSQL column, and my2pg converts values of up to ${MAX_CONVERTED_BYTES / 1048576} MB (bigger ones are only copied as they are); map the column to text or bytea, or fix the value in MySQL, then retry the table`,
        { table: this.table },
      );
    }
    const value = decodeRawField(source, starts[i]!, ends[i]!, this.fields[i]!);
    this.row.converted[i] = this.columns[i]!.convert(value);
    this.row.viaConverter[i] = 1;
  }

  /**
   * Reads a row (payload starting at `start`) and runs the converters its values need; returns
   * why a converter refused one, or null when the row can be written (write or writeAsync).
   */
  prepare(source: Buffer, start: number): RowRefusal | null {
    const width = this.width;
    const codes = this.codes;
    const { starts, ends, viaConverter } = this.row;
    splitRawRow(source, start, width, starts, ends);
    // A zero byte anywhere in the row (a length byte of an empty value is one) means its text values are searched for NUL.
    const rowEnd = width === 0 ? start : ends[width - 1]! < 0 ? starts[width - 1]! : ends[width - 1]!;
    const mayHoldNul = this.zeros.mayHold(source, start, rowEnd);
    // Every value a converter must see, before a byte of the row is written.
    for (let i = 0; i < width; i += 1) {
      viaConverter[i] = 0;
      const e = ends[i]!;
      if (e < 0 || !needsConverter(codes[i]!, source, starts[i]!, e, mayHoldNul)) continue;
      try {
        this.convertField(i, source);
      } catch (error) {
        if (error instanceof ValueRefused) return { column: error.column, reason: error.reason };
        throw error;
      }
    }
    return null;
  }

  /** Writes the prepared row to `sink`. */
  write(source: Buffer, sink: CopySink): void {
    if (this.binary) {
      writeBinaryRow(this.row, source, sink, this.binaryColumns!);
      return;
    }
    const codes = this.codes;
    const { starts, ends, viaConverter, converted } = this.row;
    for (let i = 0; i < this.width; i += 1) {
      if (i > 0) sink.byte(TAB);
      const e = ends[i]!;
      if (viaConverter[i] === 1) {
        sink.text(converted[i]!);
        converted[i] = null;
        continue;
      }
      if (e < 0) {
        sink.text(null);
        continue;
      }
      const s = starts[i]!;
      switch (codes[i]) {
        case DIGITS:
        case DATE:
          sink.raw(source, s, e);
          break;
        case TEXT:
          sink.escaped(source, s, e);
          break;
        case BOOL:
          sink.byte(source[s] === 0x31 ? 0x74 : 0x66);
          break;
        case BYTEA:
          sink.hex(source, s, e);
          break;
        default:
          throw this.noValue(i);
      }
    }
    sink.byte(NEWLINE);
  }

  /**
   * Writes the prepared row like `write`, but waits on `afterFlush` each time a chunk is full:
   * a row of hundreds of megabytes then never exists whole as COPY text.
   */
  async writeAsync(source: Buffer, sink: CopySink, afterFlush: () => Promise<void>): Promise<void> {
    const row = detachRow(this.row);
    if (this.binary) {
      await writeBinaryRowAsync(row, source, sink, this.binaryColumns!, afterFlush);
      return;
    }
    const codes = this.codes;
    const { starts, ends, viaConverter, converted } = row;
    const next = async (): Promise<void> => {
      sink.flush();
      await afterFlush();
    };
    for (let i = 0; i < this.width; i += 1) {
      if (i > 0) sink.byte(TAB);
      const e = ends[i]!;
      if (viaConverter[i] === 1) {
        sink.text(converted[i]!);
        continue;
      }
      if (e < 0) {
        sink.text(null);
        continue;
      }
      const s = starts[i]!;
      switch (codes[i]) {
        case DIGITS:
        case DATE:
          for (let at = sink.rawPart(source, s, e); at < e; at = sink.rawPart(source, at, e)) await next();
          break;
        case TEXT:
          for (let at = sink.escapedPart(source, s, e); at < e; at = sink.escapedPart(source, at, e)) await next();
          break;
        case BOOL:
          sink.byte(source[s] === 0x31 ? 0x74 : 0x66);
          break;
        case BYTEA:
          sink.hexPrefix();
          for (let at = sink.hexPart(source, s, e); at < e; at = sink.hexPart(source, at, e)) await next();
          break;
        default:
          throw this.noValue(i);
      }
    }
    sink.byte(NEWLINE);
  }

  /** prepare and write in one: writes the row, or writes nothing and returns why a converter refused a value. */
  encode(source: Buffer, start: number, sink: CopySink): RowRefusal | null {
    const refusal = this.prepare(source, start);
    if (refusal === null) this.write(source, sink);
    return refusal;
  }

  /** A column of the `convert` rule whose value did not go through its converter: a bug in prepare. */
  private noValue(i: number): PermanentError {
    return new PermanentError(`table ${this.table}: column ${this.columns[i]!.name}: no value`, { table: this.table });
  }
}
