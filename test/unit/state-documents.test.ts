import { describe, expect, it } from 'vitest';
import { parseRunOptions } from '../../src/state/run-options.js';
import { parseRunSummary } from '../../src/state/run-summary.js';
import { copyStatusOf, summaryWithTables, tableStatusOf, verdictOf } from '../../src/state/table-status.js';
import { rangeJobId, tableJobRefs } from '../../src/state/job-ids.js';

describe('stored run documents', () => {
  it('reads options of older runs: missing fields are absent, an odd one reads as absent, unknown keys are kept', () => {
    const options = parseRunOptions({ batchSize: 5000, nul: 'remove', ranges: { big: 3 }, legacyFlag: true });
    expect(options.batchSize).toBe(5000);
    expect(options.nul).toBeUndefined();
    expect(options.verify).toBeUndefined();
    expect(options.ranges).toEqual({ big: 3 });
    expect(options).toMatchObject({ legacyFlag: true });
    expect(parseRunOptions(null)).toEqual({});
  });

  it('reads a summary whatever version wrote it; none before finalize', () => {
    expect(parseRunSummary(null)).toBeNull();
    const summary = parseRunSummary({
      runId: 'r',
      verified: true,
      method: 'count',
      tables: [{ table: 'a', status: 'verified' }],
      sequences: 'garbled',
      extra: 1,
    })!;
    expect(summary.tables).toEqual([{ table: 'a', status: 'verified' }]);
    expect(summary.sequences).toBeUndefined();
    expect(summary).toMatchObject({ extra: 1 });
  });
});

describe("a table's copy status and verdict", () => {
  const row = (status: string, verification: Record<string, unknown> | null = null) => ({
    status: status as never,
    verification,
  });

  it('keeps where the copy is apart from what verification found', () => {
    expect(copyStatusOf(row('copying'))).toBe('copying');
    expect(copyStatusOf(row('mismatch', { status: 'mismatch' }))).toBe('copied');
    expect(verdictOf(row('copied'))).toBeNull();
    expect(verdictOf(row('copied', { status: 'rejected', method: 'checksum', rejected: 2 }))).toMatchObject({
      status: 'rejected',
      method: 'checksum',
      rejected: 2,
    });
    // A verdict in `status` with no record (an old row) is still a verdict.
    expect(verdictOf(row('verified'))).toEqual({ status: 'verified' });
    // A summary of an earlier version is what that run reported.
    expect(
      verdictOf(row('verified', { status: 'verified', method: 'count' }), {
        table: 'a',
        status: 'verified',
        method: 'checksum',
      })?.method,
    ).toBe('checksum');
  });

  it('shows one status per table, as status --json always did', () => {
    expect(tableStatusOf(row('pending', { status: 'verified' }))).toBe('pending');
    expect(tableStatusOf(row('copied'))).toBe('copied');
    expect(tableStatusOf(row('copied', { status: 'verified' }))).toBe('verified');
    expect(tableStatusOf(row('mismatch', { status: 'mismatch' }))).toBe('mismatch');
  });

  it("composes a finalize summary's tables from run_tables; leaves stored ones and cancel's alone", () => {
    const tables = [
      { verification: { table: 'a', status: 'verified', method: 'checksum', durationMs: 3 } },
      { verification: null },
    ];
    expect(summaryWithTables({ runId: 'r', method: 'checksum', problems: [] }, tables)?.tables).toEqual([
      { table: 'a', status: 'verified', method: 'checksum', durationMs: 3 },
    ]);
    expect(summaryWithTables({ method: 'count', tables: [] }, tables)?.tables).toEqual([]);
    expect(summaryWithTables({ runId: 'r', cancelledAt: 'x' }, tables)?.tables).toBeUndefined();
    expect(summaryWithTables(null, tables)).toBeNull();
  });
});

describe('job ids', () => {
  it("lists a split table's range jobs, else its one job", () => {
    expect(
      tableJobRefs(
        [
          { tableName: 'a', jobId: 'run.a' },
          { tableName: 'b', jobId: 'run.b' },
        ],
        { b: 2 },
      ),
    ).toEqual([
      { table: 'a', jobId: 'run.a' },
      { table: 'b', jobId: 'run.b', rangeJobIds: [rangeJobId('run.b', 0), rangeJobId('run.b', 1)] },
    ]);
  });
});
