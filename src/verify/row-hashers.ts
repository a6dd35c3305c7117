import { BINARY_CHARSET, decodeRawField, ZeroBytes, type RawField } from '../dialect/mysql/raw-rows.js';
import { BYTES, DATE, TEXT, TIMESTAMP, VALUE, type ColumnKind, type DigestColumns } from './digest-columns.js';
import type { FramedHasher } from './row-digest.js';
import { hasNulByte, isZeroDateBytes } from '../vocabulary/type-families.js';

/** The end of MySQL's timestamp text without its fraction's trailing zeros (nor a bare point). */
function withoutTrailingZeros(source: Buffer, start: number, end: number): number {
  if (end - start <= 19) return end;
  while (end > start + 19 && source[end - 1] === 0x30) end -= 1;
  return source[end - 1] === 0x2e ? end - 1 : end;
}

/** A MySQL row's bounds in its packet, when the whole payload may be hashed as it is. */
export interface RowBounds {
  start: number;
  end: number;
}

/** Feeds MySQL rows (raw text-protocol packets), in digest form, to a FramedHasher. */
export class MysqlRowHasher {
  private readonly kinds: ColumnKind[];
  private readonly zeros = new ZeroBytes();
  private bound: readonly RawField[] | undefined;
  /** Columns whose MySQL bytes may need a change to be canonical (zero dates, timestamps' fractions, NUL in text). */
  private checked: number[] = [];
  private anyValue = false;

  constructor(
    private readonly columns: DigestColumns,
    private readonly width: number,
  ) {
    this.kinds = [...columns.mysqlKinds];
  }

  private bind(fields: readonly RawField[]): void {
    // Text the server sends in another form than UTF-8 is read as a value.
    this.bound = fields;
    fields.forEach((f, i) => {
      if (this.kinds[i] === TEXT && (f.characterSet === BINARY_CHARSET || f.encoding !== 'utf8')) this.kinds[i] = VALUE;
    });
    this.checked = this.kinds.flatMap((k, i) => (k === DATE || k === TIMESTAMP || k === TEXT ? [i] : []));
    this.anyValue = this.kinds.some((k) => k === VALUE);
  }

  /** Whether the row's payload is canonical as it is: no value to put in canonical form, no zero date, no fraction to trim, no NUL. */
  private isPlain(buffer: Buffer, starts: Int32Array, ends: Int32Array, row: RowBounds): boolean {
    if (this.anyValue) return false;
    // A zero byte anywhere in the row (a length byte of an empty value is one) means its text values are searched for NUL.
    const mayHoldNul = this.zeros.mayHold(buffer, row.start, row.end);
    for (const i of this.checked) {
      const e = ends[i]!;
      if (e < 0) continue;
      const s = starts[i]!;
      const kind = this.kinds[i];
      if (
        kind === TEXT
          ? mayHoldNul && hasNulByte(buffer, s, e)
          : isZeroDateBytes(buffer, s, e) || (kind === TIMESTAMP && withoutTrailingZeros(buffer, s, e) !== e)
      )
        return false;
    }
    return true;
  }

  /**
   * Feeds a MySQL row to `h`: the packet's payload as it is when every value is canonical
   * already (the common case: one copy per row), else value by value. `row` bounds the
   * payload; without it (a few columns only) values go one by one.
   */
  hash(
    h: FramedHasher,
    buffer: Buffer,
    starts: Int32Array,
    ends: Int32Array,
    fields: readonly RawField[],
    row?: RowBounds,
    from = 0,
    to = this.width,
  ): void {
    if (this.bound !== fields) this.bind(fields);
    if (row !== undefined && this.isPlain(buffer, starts, ends, row)) {
      h.framed(buffer, row.start, row.end);
      return;
    }
    for (let i = from; i < to; i += 1) {
      const e = ends[i]!;
      if (e < 0) {
        h.null();
        continue;
      }
      const s = starts[i]!;
      const kind = this.kinds[i];
      if (
        kind === BYTES ||
        (kind === DATE && !isZeroDateBytes(buffer, s, e)) ||
        (kind === TEXT && !hasNulByte(buffer, s, e))
      )
        h.bytes(buffer, s, e);
      else if (kind === TIMESTAMP && !isZeroDateBytes(buffer, s, e))
        h.bytes(buffer, s, withoutTrailingZeros(buffer, s, e));
      else if (kind === DATE || kind === TIMESTAMP) h.null();
      else
        h.text(this.columns.fromMysql[i]!(decodeRawField(buffer, s, this.columns.boundedValue(e, s, i), fields[i]!)));
    }
  }
}

/** Feeds PostgreSQL rows (COPY binary fields of the digest list), in digest form, to a FramedHasher. */
export class PgRowHasher {
  constructor(
    private readonly columns: DigestColumns,
    private readonly width: number,
  ) {}

  /** Feeds columns [from, to) of a row to `h`. */
  hash(h: FramedHasher, buffer: Buffer, starts: Int32Array, ends: Int32Array, from = 0, to = this.width): void {
    for (let i = from; i < to; i += 1) {
      const e = ends[i]!;
      if (e < 0) h.null();
      else if (this.columns.pgKinds[i] === BYTES) h.bytes(buffer, starts[i]!, e);
      else
        h.text(
          this.columns.fromPg[i]!(buffer.toString('utf8', starts[i]!, this.columns.boundedValue(e, starts[i]!, i))),
        );
    }
  }
}
