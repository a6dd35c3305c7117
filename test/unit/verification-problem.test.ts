import { describe, expect, it } from 'vitest';
import { describeVerificationProblem, type TableVerification } from '../../src/verify/verify-run.js';

describe('the sentence for a table that is not verified', () => {
  it('names ranges by first and last key (a range ends before its `to`) and rows by key', () => {
    const v: TableVerification = {
      table: 'orders',
      method: 'checksum',
      status: 'mismatch',
      sourceRows: 10,
      targetRows: 10,
      rejected: 0,
      mismatchedRanges: [
        { from: null, to: '101', sourceRows: 5, targetRows: 5 },
        { from: '18446744073709551000', to: null, sourceRows: 5, targetRows: 5 },
      ],
      differences: [
        { kind: 'changed', key: { id: '1234' }, columns: ['note'] },
        { kind: 'missing', key: { id: '7' } },
        { kind: 'extra', key: { id: '8' } },
      ],
      differenceCount: 3,
      durationMs: 1,
      at: '2026-01-01T00:00:00.000Z',
    };
    expect(describeVerificationProblem(v)).toBe(
      'table orders: 10 rows in MySQL, 10 in PostgreSQL: 3 rows differ: in key ranges …..100, 18446744073709551000..…: ' +
        'row id=1234 differs in note; row id=7 is missing from PostgreSQL; row id=8 is only in PostgreSQL',
    );
  });

  it("says that MySQL's rows are those matching the table's where", () => {
    const v: TableVerification = {
      table: 'orders',
      method: 'count',
      status: 'mismatch',
      sourceRows: 4,
      targetRows: 5,
      rejected: 0,
      where: "created_at >= '2024-01-01'",
      durationMs: 1,
      at: '2026-01-01T00:00:00.000Z',
    };
    expect(describeVerificationProblem(v)).toBe(
      "table orders (where: created_at >= '2024-01-01'): 4 rows in MySQL match the condition, 5 in PostgreSQL",
    );
  });
});
