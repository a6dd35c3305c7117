import { describe, expect, it } from 'vitest';
import { buildSelect } from '../../src/dialect/mysql/select.js';
import { mysqlKeyRangeConditions } from '../../src/dialect/mysql/key-range.js';
import { pgKeyRangeConditions } from '../../src/dialect/postgres/key-range.js';
import { decodeKeyBound, encodeKeyBound } from '../../src/core/key-range.js';
import { mapWithConcurrency } from '../../src/finalize/restore-indexes.js';
import { mergeRangeStates, type TableJobState } from '../../src/queue/job-states.js';
import {
  rangesFromBoundaries,
  rangeStride,
  keyPartsOf,
  splitKeySpace,
  unsplitReason,
} from '../../src/vocabulary/key-range.js';
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
    // estimated rows, range rows, bytes, range bytes -> rows per range (null: one job)
    [100, 1000, 0, 1024, null],
    [100, 25, 0, 1024, 25],
    [101, 25, 0, 1024, 21],
    [1_000_003, 70_000, 0, 1024, 66_667],
    [1000, 0, 0, 1024, null],
    [1, 1, 0, 1024, null],
    // 400 rows of 10 MB in ranges of 1 GB: 4 ranges of 100 rows.
    [400, 500_000, 400 * 10 * 1024 * 1024, 1024 * 1024 * 1024, 100],
    [400, 500_000, 100 * 1024 * 1024, 1024 * 1024 * 1024, null],
    [400, 0, 400 * 10 * 1024 * 1024, 1024 * 1024 * 1024, null],
  ] as const)(
    '%s rows by %s rows (%s bytes by %s) -> %s rows a range',
    (rows, rangeRows, bytes, rangeBytes, expected) => {
      expect(rangeStride(rows, rangeRows, bytes, rangeBytes)).toBe(expected);
    },
  );

  it('cuts ranges at the sampled boundaries, open at both ends, each from the previous to', () => {
    expect(rangesFromBoundaries([])).toEqual([{ from: null, to: null }]);
    expect(rangesFromBoundaries(['26', '51', '1000000000076'])).toEqual([
      { from: null, to: '26' },
      { from: '26', to: '51' },
      { from: '51', to: '1000000000076' },
      { from: '1000000000076', to: null },
    ]);
  });

  it('boundaries sampled every stride-th key give equal ranges across a gap of 10^12', () => {
    // What sampleKeyBoundaries reads: the key at offset stride from each boundary, in key order.
    const keys = [
      ...Array.from({ length: 1000 }, (_, i) => BigInt(i + 1)),
      ...Array.from({ length: 1000 }, (_, i) => 10n ** 12n + BigInt(i)),
    ];
    const stride = rangeStride(keys.length, 250)!;
    const boundaries: string[] = [];
    for (let at = stride; at < keys.length; at += stride) boundaries.push(keys[at]!.toString());
    const ranges = rangesFromBoundaries(boundaries);
    expect(ranges).toHaveLength(8);
    const sizes = ranges.map(
      (r) => keys.filter((k) => (r.from === null || k >= BigInt(r.from)) && (r.to === null || k < BigInt(r.to))).length,
    );
    expect(sizes).toEqual(Array(8).fill(250));
    // The equal-width split of the same keys would put every key in its first and last range.
    const width = splitKeySpace(1n, 10n ** 12n + 999n, 8).ranges();
    expect(
      width.filter((r) =>
        keys.some((k) => (r.from === null || k >= BigInt(r.from)) && (r.to === null || k < BigInt(r.to))),
      ),
    ).toHaveLength(2);
  });

  it.each([
    [['id'], [column('id', 'int')], null],
    [['a', 'b'], [column('a', 'int'), column('b', 'int')], null],
    [
      ['code'],
      [column('code', 'varchar', 'varchar(36)')],
      'its primary key column code is text (varchar(36), collation order); only integer and binary keys are split',
    ],
    [
      ['t', 'at'],
      [column('t', 'int'), column('at', 'datetime')],
      'its primary key column at is datetime; only integer and binary keys are split',
    ],
    [[], [column('x', 'int')], 'it has no primary or unique NOT NULL key'],
  ] as const)('why key %j does not split', (pk, columns, expected) => {
    expect(unsplitReason(table([...pk], [...columns]))).toBe(expected);
  });

  it.each([
    [['id'], [column('id', 'int')], [{ name: 'id', kind: 'signed' }]],
    [['id'], [column('id', 'bigint', 'bigint(20) unsigned')], [{ name: 'id', kind: 'unsigned' }]],
    [
      ['a', 'b'],
      [column('a', 'int'), column('b', 'varbinary', 'varbinary(16)')],
      [
        { name: 'a', kind: 'signed' },
        { name: 'b', kind: 'binary' },
      ],
    ],
    [['code'], [column('code', 'varchar')], null],
    [['flag'], [column('flag', 'tinyint', 'tinyint(1)')], null],
    [[], [column('x', 'int')], null],
  ] as const)('split key of primary key %j', (pk, columns, expected) => {
    expect(keyPartsOf(table([...pk], [...columns]))).toEqual(expected);
  });

  it('writes a composite or binary key range as a row comparison on both sides', () => {
    const parts = [
      { name: 'tenant_id', kind: 'signed' },
      { name: 'id', kind: 'unsigned' },
    ] as const;
    const from = encodeKeyBound(parts, ['2', '1050']);
    expect(from).toBe('["2","1050"]');
    expect(decodeKeyBound(parts, from)).toEqual(['2', '1050']);
    expect(mysqlKeyRangeConditions(parts, { from, to: '["3","7"]' })).toEqual({
      conditions: [
        '(`tenant_id` > CAST(? AS SIGNED) OR (`tenant_id` = CAST(? AS SIGNED) AND `id` >= CAST(? AS UNSIGNED)))',
        '(`tenant_id` < CAST(? AS SIGNED) OR (`tenant_id` = CAST(? AS SIGNED) AND `id` < CAST(? AS UNSIGNED)))',
      ],
      values: ['2', '2', '1050', '3', '3', '7'],
    });
    expect(pgKeyRangeConditions(['"t"', '"i"'], parts, { from, to: null })).toEqual(['("t", "i") >= (2, 1050)']);
    const bin = [{ name: 'k', kind: 'binary' }] as const;
    expect(encodeKeyBound(bin, ['00ff'])).toBe('["00ff"]');
    expect(mysqlKeyRangeConditions(bin, { from: null, to: '["00ff"]' })).toEqual({
      conditions: ['`k` < UNHEX(?)'],
      values: ['00ff'],
    });
    expect(pgKeyRangeConditions(['"k"'], bin, { from: '["00ff"]', to: null })).toEqual(['"k" >= \'\\x00ff\'::bytea']);
    // A bound is checked before it reaches SQL: PostgreSQL's side writes it as a literal.
    expect(() => pgKeyRangeConditions(['"k"'], bin, { from: '["00\'; drop"]', to: null })).toThrow(/no binary value/);
    expect(() => decodeKeyBound(parts, '["1"]')).toThrow(/does not fit the key/);
  });

  it('filters a range on the MySQL side with bound values cast to the key signedness', () => {
    const t = table(['id'], [column('id', 'bigint', 'bigint(20) unsigned'), column('v', 'text')]);
    const range = (from: string | null, to: string | null) => ({
      parts: [{ name: 'id', kind: 'unsigned' as const }],
      from,
      to,
    });
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
    expect(
      buildSelect(signed, signed.columns, { parts: [{ name: 'id', kind: 'signed' }], from: '-5', to: null }).sql,
    ).toBe('SELECT `id` FROM `t` WHERE `id` >= CAST(? AS SIGNED) ORDER BY `id`');
  });

  it('adds a where condition last, in parentheses, after the bound range conditions', () => {
    const t = table(['id'], [column('id', 'int'), column('v', 'text')]);
    expect(
      buildSelect(
        t,
        t.columns,
        { parts: [{ name: 'id', kind: 'signed' }], from: '7', to: null },
        "v = 'a?' OR v IS NULL",
      ),
    ).toEqual({
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
