/**
 * One range of an integer key, the one convention of my2pg: `from <= key < to`, a null end
 * open; bounds are decimal text (BIGINT UNSIGNED does not fit a JS number). The SQL for it is
 * in src/dialect/mysql/key-range.ts and src/dialect/postgres/key-range.ts.
 */
export interface KeyRange {
  from: string | null;
  to: string | null;
}
