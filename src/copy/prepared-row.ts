/**
 * A row between the encoder's `prepare` and its write: where each value lies in MySQL's packet,
 * and what the converters made of the values that had to go through them.
 */
export interface PreparedRow {
  /** Where each value starts in the packet. */
  starts: Int32Array;
  /** Where each value ends; negative for NULL. */
  ends: Int32Array;
  /** 1 where the value went through its converter: `converted` holds its output. */
  viaConverter: Uint8Array;
  converted: (string | null)[];
}

/** The row the encoder reuses for every row of a table. */
export function preparedRow(width: number): PreparedRow {
  return {
    starts: new Int32Array(width),
    ends: new Int32Array(width),
    viaConverter: new Uint8Array(width),
    converted: new Array<string | null>(width).fill(null),
  };
}

/**
 * A copy of the row that outlives the next `prepare` (a big row written at the socket's pace
 * while the next rows are read); the original lets go of its converted values.
 */
export function detachRow(row: PreparedRow): PreparedRow {
  const copy = {
    starts: row.starts.slice(),
    ends: row.ends.slice(),
    viaConverter: row.viaConverter.slice(),
    converted: [...row.converted],
  };
  row.converted.fill(null);
  return copy;
}
