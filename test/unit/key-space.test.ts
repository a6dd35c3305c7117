import { describe, expect, it } from 'vitest';
import { intersectKeyRanges, splitKeySpace } from '../../src/vocabulary/key-range.js';
import type { KeyRange } from '../../src/core/key-range.js';
import { VerifyRanges } from '../../src/verify/range-plan.js';

/** Each range's bounds as numbers, read once (an open end is null). */
function boundsOf(ranges: readonly KeyRange[]): [bigint | null, bigint | null][] {
  return ranges.map((r) => [r.from === null ? null : BigInt(r.from), r.to === null ? null : BigInt(r.to)]);
}

/** The range holding `key`, found the slow way: by its bounds, one range after the other. */
function holder(bounds: readonly [bigint | null, bigint | null][], key: bigint): number {
  return bounds.findIndex(([from, to]) => (from === null || from <= key) && (to === null || key < to));
}

describe('key space split', () => {
  it.each([
    [1n, 100n, 4],
    [1n, 101n, 7],
    [-10n, 9n, 3],
    [5n, 9n, 40],
    [0n, 999_999_999_999n, 10_000],
    [18446744073709551000n, 18446744073709551615n, 7],
    [0n, 18446744073709551615n, 10_000],
    [-9223372036854775808n, 9223372036854775807n, 13],
  ] as const)('[%s, %s] in %s: every key in exactly one range, found in O(1) as by its bounds', (min, max, count) => {
    const split = splitKeySpace(min, max, count);
    const ranges = split.ranges();
    expect(ranges).toHaveLength(split.count);
    expect(ranges[0]!.from).toBeNull();
    expect(ranges.at(-1)!.to).toBeNull();
    for (let i = 1; i < ranges.length; i += 1)
      expect(BigInt(ranges[i]!.from!)).toBeGreaterThan(
        ranges[i - 1]!.from === null ? min - 1n : BigInt(ranges[i - 1]!.from!),
      );
    const span = max - min + 1n;
    const keys = new Set<bigint>([min - 5n, min, min + 1n, max - 1n, max, max + 3n]);
    // Both sides of the bounds of some 100 ranges, spread over the split.
    const step = Math.max(1, Math.floor(ranges.length / 100));
    for (let i = 1; i < ranges.length; i += step) for (const d of [-1n, 0n, 1n]) keys.add(BigInt(ranges[i]!.from!) + d);
    for (let i = 0n; i < 200n; i += 1n) keys.add(min + (span * i) / 200n);
    const bounds = boundsOf(ranges);
    for (const key of keys) {
      const expected = holder(bounds, key);
      expect(split.indexOf(key)).toBe(expected);
      if (key >= -(10n ** 15n) + 1n && key < 10n ** 15n) expect(split.indexOf(Number(key))).toBe(expected);
    }
  });

  it('never cuts more ranges than keys', () => {
    expect(splitKeySpace(1n, 3n, 10).ranges()).toEqual([
      { from: null, to: '2' },
      { from: '2', to: '3' },
      { from: '3', to: null },
    ]);
    expect(splitKeySpace(7n, 7n, 5).ranges()).toEqual([{ from: null, to: null }]);
  });

  it('intersects ranges, open ends taking the other side', () => {
    expect(intersectKeyRanges({ from: null, to: '100' }, { from: '10', to: null })).toEqual({ from: '10', to: '100' });
    expect(intersectKeyRanges({ from: '5', to: '50' }, { from: '10', to: '100' })).toEqual({ from: '10', to: '50' });
    expect(intersectKeyRanges({ from: null, to: null }, { from: null, to: null })).toEqual({ from: null, to: null });
    expect(
      intersectKeyRanges(
        { from: '18446744073709551000', to: null },
        { from: '18446744073709550999', to: '18446744073709551615' },
      ),
    ).toEqual({
      from: '18446744073709551000',
      to: '18446744073709551615',
    });
  });
});

describe("verification's ranges", () => {
  it('hash a job part in ranges of the shared split, each kept inside the part, rows placed by key', () => {
    const ranges = new VerifyRanges(splitKeySpace(100n, 199n, 4), { from: '100', to: '200' });
    expect(ranges.count).toBe(4);
    expect([0, 1, 2, 3].map((i) => ranges.keyRange(i))).toEqual([
      { from: '100', to: '125' },
      { from: '125', to: '150' },
      { from: '150', to: '175' },
      { from: '175', to: '200' },
    ]);
    expect([100, 124, 125, 199, 10n ** 20n].map((k) => ranges.rangeOf(k))).toEqual([0, 0, 1, 3, 3]);
    expect(ranges.rangeOf(null)).toBe(0);
    const whole = new VerifyRanges(null, null);
    expect([whole.count, whole.keyRange(0), whole.all, whole.rangeOf(5)]).toEqual([
      1,
      { from: null, to: null },
      { from: null, to: null },
      0,
    ]);
  });
});
