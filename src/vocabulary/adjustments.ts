/** What the copy had to change in a column's values to fit PostgreSQL, counted per column: never silent. */

/**
 * Values a converter had to change because PostgreSQL cannot hold them as they are. Counted
 * per column so the run reports them; nothing is changed silently.
 */
export interface ColumnAdjustments {
  /** Zero or partial-zero dates written as NULL. */
  zeroDatesToNull: number;
  /** Values from which NUL characters were removed. */
  nulCharactersRemoved: number;
  /** Geometry values whose SRID (not 0) a point or bytea (WKB) column cannot keep. */
  sridsDropped: number;
}

export function emptyAdjustments(): ColumnAdjustments {
  return { zeroDatesToNull: 0, nulCharactersRemoved: 0, sridsDropped: 0 };
}

/** Adds one set of adjustments to another (ranges of one table); absent counts are 0. */
export function addAdjustments(into: ColumnAdjustments, more: Partial<ColumnAdjustments>): ColumnAdjustments {
  for (const key of Object.keys(into) as (keyof ColumnAdjustments)[]) into[key] += more[key] ?? 0;
  return into;
}

/** Whether a converter changed any value of its column. */
export function hasAdjustments(a: ColumnAdjustments): boolean {
  return Object.values(a).some((n) => n > 0);
}

/** Columns whose values had to be changed to fit PostgreSQL, with the counts; absent when none. */
export type TableAdjustments = Record<string, ColumnAdjustments>;

/** Sentences for a table's adjustments, for logs and reports. */
export function describeAdjustments(adjustments: TableAdjustments): string[] {
  const out: string[] = [];
  for (const [column, a] of Object.entries(adjustments)) {
    if (a.zeroDatesToNull > 0) out.push(`column ${column}: ${a.zeroDatesToNull} zero dates written as NULL`);
    if (a.nulCharactersRemoved > 0)
      out.push(`column ${column}: NUL characters removed from ${a.nulCharactersRemoved} values (--nul strip)`);
    if (a.sridsDropped > 0)
      out.push(`column ${column}: the SRID of ${a.sridsDropped} geometry values not kept (the column holds no SRID)`);
  }
  return out;
}
