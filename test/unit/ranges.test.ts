import { describe, expect, it } from 'vitest';
import { buildSelect } from '../../src/dialect/mysql/select.js';
import { mapWithConcurrency } from '../../src/finalize/restore-indexes.js';
import { mergeRangeStates, type TableJobState } from '../../src/queue/job-states.js';
import { planKeyRanges, splitColumnOf } from '../../src/vocabulary/key-range.js';
import { copyJobId, rangeJobId, tableJobIds } from '../../src/queue/contract.js';
import { rangeLabelOf } from '../../src/state/job-ids.js';
import { withIfNotExists } from '../../src/run/secondary-indexes.js';
import type { SourceColumn, SourceTable } from '../../src/dialect/mysql/catalog.js';

function column(name: string, dataType: string, columnType = dataType): SourceColumn {
  return {
    name,
    dataType,
    columnType,
    unsigned: columnType.includes('unsigned'),
    nullable: false,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    charset: null,
    maxLength: null,
    numericPrecision: null,
    numericScale: null,
    datetimePrecision: null,
    enumValues: null,
    comment: '',
  };
}
function table(primaryKey: string[], columns: SourceColumn[]): SourceTable {
  return {
    name: 't',
    columns,
    primaryKey,
    indexes: [],
    foreignKeys: [],
    autoIncrement: null,
    estimatedRows: 0,
    comment: '',
  };
}

describe('key ranges', () => {
  it.each([
    // min, max, estimated rows, range rows -> ranges
    [1n, 100n, 100, 1000, [[null, null]]],
    [
      1n,
      100n,
      100,
      25,
      [
        [null, '26'],
        ['26', '51'],
        ['51', '76'],
        ['76', null],
      ],
    ],
    [
      1n,
      100n,
      101,
      25,
      [
        [null, '21'],
        ['21', '41'],
        ['41', '61'],
        ['61', '81'],
        ['81', null],
      ],
    ],
    [5n, 5n, 10, 1, [[null, null]]],
    [
      1n,
      3n,
      1000,
      1,
      [
        [null, '2'],
        ['2', '3'],
        ['3', null],
      ],
    ],
    [
      -10n,
      9n,
      20,
      10,
      [
        [null, '0'],
        ['0', null],
      ],
    ],
    [null, null, 0, 10, [[null, null]]],
    [
      18446744073709551000n,
      18446744073709551615n,
      616,
      308,
      [
        [null, '18446744073709551308'],
        ['18446744073709551308', null],
      ],
    ],
    [1n, 1000n, 1000, 0, [[null, null]]],
  ] as const)('[%s, %s] with %s rows by %s', (min, max, rows, rangeRows, expected) => {
    const ranges = planKeyRanges(min, max, rows, rangeRows);
    expect(ranges.map((r) => [r.from, r.to])).toEqual(expected);
  });

  it('splits by bytes as well as by rows: 400 rows of 10 MB are 4 ranges of 1 GB', () => {
    expect(planKeyRanges(1n, 400n, 400, 500_000, 400 * 10 * 1024 * 1024).map((r) => [r.from, r.to])).toEqual([
      [null, '101'],
      ['101', '201'],
      ['201', '301'],
      ['301', null],
    ]);
    expect(planKeyRanges(1n, 400n, 400, 500_000, 100 * 1024 * 1024)).toHaveLength(1);
    expect(planKeyRanges(1n, 400n, 400, 0, 400 * 10 * 1024 * 1024)).toHaveLength(1);
  });

  it('ranges cover every key exactly once, unbounded at both ends', () => {
    const ranges = planKeyRanges(1n, 1_000_003n, 1_000_003, 70_000);
    expect(ranges[0]!.from).toBeNull();
    expect(ranges.at(-1)!.to).toBeNull();
    for (let i = 1; i < ranges.length; i += 1) expect(ranges[i]!.from).toBe(ranges[i - 1]!.to);
  });

  it.each([
    [['id'], [column('id', 'int')], 'id'],
    [['id'], [column('id', 'bigint', 'bigint(20) unsigned')], 'id'],
    [['a', 'b'], [column('a', 'int'), column('b', 'int')], null],
    [['code'], [column('code', 'varchar')], null],
    [['flag'], [column('flag', 'tinyint', 'tinyint(1)')], null],
    [[], [column('x', 'int')], null],
  ] as const)('split column of key %j', (pk, columns, expected) => {
    expect(splitColumnOf(table([...pk], [...columns]))).toBe(expected);
  });

  it('filters a range on the MySQL side with bound values cast to the key signedness', () => {
    const t = table(['id'], [column('id', 'bigint', 'bigint(20) unsigned'), column('v', 'text')]);
    const range = (from: string | null, to: string | null) => ({ column: 'id', from, to });
    expect(buildSelect(t, t.columns, range('10', '20'))).toEqual({
      sql: 'SELECT `id`, `v` FROM `t` WHERE `id` >= CAST(? AS UNSIGNED) AND `id` < CAST(? AS UNSIGNED) ORDER BY `id`',
      values: ['10', '20'],
    });
    expect(buildSelect(t, t.columns, range(null, '20'))).toEqual({
      sql: 'SELECT `id`, `v` FROM `t` WHERE `id` < CAST(? AS UNSIGNED) ORDER BY `id`',
      values: ['20'],
    });
    expect(buildSelect(t, t.columns, range(null, null))).toEqual({
      sql: 'SELECT `id`, `v` FROM `t` ORDER BY `id`',
      values: [],
    });
    const signed = table(['id'], [column('id', 'int')]);
    expect(buildSelect(signed, signed.columns, range('-5', null)).sql).toBe(
      'SELECT `id` FROM `t` WHERE `id` >= CAST(? AS SIGNED) ORDER BY `id`',
    );
  });

  it('adds a where condition last, in parentheses, after the bound range conditions', () => {
    const t = table(['id'], [column('id', 'int'), column('v', 'text')]);
    expect(buildSelect(t, t.columns, { column: 'id', from: '7', to: null }, "v = 'a?' OR v IS NULL")).toEqual({
      sql: "SELECT `id`, `v` FROM `t` WHERE `id` >= CAST(? AS SIGNED) AND (v = 'a?' OR v IS NULL) ORDER BY `id`",
      values: ['7'],
    });
    expect(buildSelect(t, t.columns, undefined, 'id > 3').sql).toBe(
      'SELECT `id`, `v` FROM `t` WHERE (id > 3) ORDER BY `id`',
    );
    expect(() => buildSelect(t, t.columns, undefined, '1) OR (1')).toThrow(/cannot be used/);
  });

  it('names the range jobs of a split table after its job id', () => {
    expect(tableJobIds({ tableName: 'g', jobId: 'run-1.g' }, { g: 3 })).toEqual([
      'run-1.g.r0',
      'run-1.g.r1',
      'run-1.g.r2',
    ]);
    expect(tableJobIds({ tableName: 'u', jobId: 'run-1.u' }, { g: 3 })).toEqual(['run-1.u']);
    expect(rangeLabelOf(rangeJobId(copyJobId('run-1', 'game.visits'), 12))).toBe('r12');
    expect(tableJobIds({ tableName: 'u', jobId: 'run-1.u' }, undefined)).toEqual(['run-1.u']);
  });
});

describe('merged state of a split table', () => {
  const table = copyJobId('run', 'g');
  const s = (
    jobId: string,
    state: string,
    rows: number,
    failedReason: string | null = null,
    attemptsMade = 1,
  ): TableJobState => ({
    table: 'g',
    jobId,
    state,
    progress: { rows, total: 100, rowsPerSecond: 10 },
    attemptsMade,
    failedReason,
  });
  it.each([
    [['completed', 'completed'], 'completed'],
    [['completed', 'active'], 'active'],
    [['waiting', 'completed'], 'waiting'],
    [['active', 'failed'], 'failed'],
    [['completed', 'missing'], 'missing'],
  ])('%j -> %s', (states, expected) => {
    const merged = mergeRangeStates(
      'g',
      table,
      states.map((st, i) => s(rangeJobId(table, i), st, 10)),
    );
    expect(merged.state).toBe(expected);
    expect(merged.jobId).toBe(table);
    expect(merged.progress?.rows).toBe(20);
    expect(merged.progress?.total).toBe(200);
  });
  it('names the failed range and keeps the most attempts', () => {
    const merged = mergeRangeStates('g', table, [
      s(rangeJobId(table, 0), 'completed', 5),
      s(rangeJobId(table, 1), 'failed', 0, 'boom', 3),
    ]);
    expect(merged.failedReason).toBe('range r1: boom');
    expect(merged.attemptsMade).toBe(3);
  });
});

describe('index restore helpers', () => {
  it.each([
    ['CREATE INDEX ix ON public.t USING btree (a)', 'CREATE INDEX IF NOT EXISTS ix ON public.t USING btree (a)'],
    [
      'CREATE UNIQUE INDEX ix ON public.t USING btree (a)',
      'CREATE UNIQUE INDEX IF NOT EXISTS ix ON public.t USING btree (a)',
    ],
    ['CREATE INDEX IF NOT EXISTS ix ON t (a)', 'CREATE INDEX IF NOT EXISTS ix ON t (a)'],
  ])('%s', (input, expected) => {
    expect(withIfNotExists(input)).toBe(expected);
  });
  it('runs at most N tasks at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n * 3));
      running -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});
