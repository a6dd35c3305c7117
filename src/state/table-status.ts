import { z } from 'zod';
import { field, type Strict } from './json-document.js';
import type { RunTableRow } from './entities.js';
import { summaryTableSchema, type RunSummary } from './run-summary.js';

/** Where a table's copy is. */
export type CopyStatus = 'pending' | 'copying' | 'copied' | 'failed' | 'cancelled';

/** What verification found about a table: `rejected` is equal but for the rows the copy rejected. */
type VerdictStatus = 'verified' | 'rejected' | 'mismatch' | 'unverified';

const VERDICTS: ReadonlySet<string> = new Set<VerdictStatus>(['verified', 'rejected', 'mismatch', 'unverified']);

function isVerdict(status: string): status is VerdictStatus {
  return VERDICTS.has(status);
}

/**
 * A table's verification as the report reads it: the key fields of `run_tables.verification`
 * (verify's TableVerification); the rest passes through untouched.
 */
const verdictSchema = z.looseObject({
  status: z.string(),
  method: field(z.string()),
  sourceRows: field(z.number()),
  targetRows: field(z.number()),
  rejected: field(z.number()),
});

export type TableVerdict = Strict<z.infer<typeof verdictSchema>>;

/** A table's entry in a summary of an earlier version, which listed every table's verification. */
export type LegacySummaryTable = NonNullable<RunSummary['tables']>[number];

/**
 * A table's copy status: `run_tables.status`. Earlier versions of my2pg wrote the verification's
 * verdict there too; a verdict found in `status` means the copy had committed.
 */
export function copyStatusOf(row: Pick<RunTableRow, 'status'>): CopyStatus {
  return isVerdict(row.status) ? 'copied' : row.status;
}

/**
 * A table's verdict, read from one place: its `verification` record. Runs finalized by an
 * earlier version kept it in their summary as well, and that entry is what they reported;
 * a row with neither, but a verdict in `status`, has that bare verdict. Null: not verified.
 */
export function verdictOf(
  row: Pick<RunTableRow, 'status' | 'verification'>,
  legacy?: LegacySummaryTable,
): TableVerdict | null {
  if (legacy) {
    const own = verdictOf(row);
    return { ...legacy, status: legacy.status ?? own?.status ?? row.status, method: legacy.method ?? own?.method };
  }
  const parsed = verdictSchema.safeParse(row.verification);
  if (parsed.success) return parsed.data as TableVerdict;
  return isVerdict(row.status) ? { status: row.status } : null;
}

/**
 * The one status `status --json` shows for a table, as it always has: its verdict once its
 * copy committed and was verified, else where its copy is.
 */
export function tableStatusOf(row: Pick<RunTableRow, 'status' | 'verification'>): string {
  const copy = copyStatusOf(row);
  return copy === 'copied' ? (verdictOf(row)?.status ?? copy) : copy;
}

/**
 * A run's summary as shown (`status --json`): finalize's summary no longer repeats each
 * table's verification, so its `tables` are composed from `run_tables`, in table order, as
 * finalize returned them. Summaries that still hold them (earlier versions), and cancel's
 * (which never had them), are shown as stored.
 */
export function summaryWithTables(
  summary: RunSummary | null,
  tables: readonly Pick<RunTableRow, 'verification'>[],
): RunSummary | null {
  if (!summary || summary.tables !== undefined || summary.method === undefined) return summary;
  return {
    ...summary,
    tables: tables.flatMap((t) => {
      const parsed = summaryTableSchema.safeParse(t.verification);
      // The loose object keeps the whole record; Strict only narrows the type to the known keys.
      return parsed.success ? [parsed.data as LegacySummaryTable] : [];
    }),
  };
}
