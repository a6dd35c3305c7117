import { describe, expect, it } from 'vitest';
import { compareRanges } from '../../src/verify/receipt-check.js';
import { positionOfVerification } from '../../src/verify/receipt-file.js';
import {
  canonicalJson,
  parseReceipt,
  RECEIPT_FORMAT,
  RECEIPT_VERSION,
  sealOf,
  sealReceipt,
  type Receipt,
} from '../../src/verify/receipt.js';

const RANGE = { from: null, to: '100', sourceRows: 2, targetRows: 2, sourceDigest: 'aa', targetDigest: 'aa' };

function unsealed(): Omit<Receipt, 'seal'> {
  return {
    format: RECEIPT_FORMAT,
    version: RECEIPT_VERSION,
    kind: 'verify',
    runId: 'r1',
    createdAt: '2026-12-07T00:00:00.000Z',
    source: { host: 'h', port: 3306, database: 'd' },
    target: { host: 'h', port: 5432, database: 'd', schema: 'public' },
    position: { file: 'binlog.000001', position: 4, gtid: null },
    positionNote: 'n',
    method: 'checksum',
    naming: null,
    tables: [
      {
        table: 't',
        targetTable: 't',
        columns: null,
        where: null,
        split: { min: '1', max: '200', count: 2 },
        ranges: [RANGE],
        totals: { sourceRows: 2, targetRows: 2, ranges: 1, equal: true },
      },
    ],
  };
}

describe('receipts', () => {
  it('serialise canonically: keys sorted at every depth, no white space, undefined left out', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: null, y: 'x' }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":"x","z":null}]},"b":1}',
    );
    // The same content in another key order has the same seal.
    const r = unsealed();
    const reordered = Object.fromEntries(Object.entries(r).reverse()) as Omit<Receipt, 'seal'>;
    expect(sealOf(reordered)).toBe(sealOf(r));
  });

  it('read back: sealed, broken by any edit, or not a receipt at all', () => {
    const text = JSON.stringify(sealReceipt(unsealed()), null, 2);
    expect(parseReceipt(text).kind).toBe('receipt');
    expect(parseReceipt(text.replace('"sourceRows": 2', '"sourceRows": 3')).kind).toBe('broken-seal');
    expect(parseReceipt(text.replace('binlog.000001', 'binlog.000002')).kind).toBe('broken-seal');
    expect(parseReceipt('hello')).toMatchObject({ kind: 'not-a-receipt', why: expect.stringMatching(/not JSON/) });
    expect(parseReceipt('{"a":1}')).toMatchObject({ kind: 'not-a-receipt', why: expect.stringMatching(/format/) });
    const noSeal = JSON.stringify(unsealed());
    expect(parseReceipt(noSeal)).toMatchObject({ kind: 'not-a-receipt', why: 'it has no sha256 seal' });
  });

  it('compare ranges per side: a changed digest, a range that appeared or vanished', () => {
    const changed = { ...RANGE, targetDigest: 'bb' };
    expect(compareRanges([RANGE], [changed], 'mysql')).toEqual({ matched: ['…..100'], differences: [] });
    expect(compareRanges([RANGE], [changed], 'postgres').differences).toEqual([
      { range: '…..100', side: 'postgres', receipt: { rows: 2, digest: 'aa' }, now: { rows: 2, digest: 'bb' } },
    ]);
    const appeared = { ...RANGE, from: '100', to: null };
    const both = compareRanges([RANGE], [RANGE, appeared], 'both');
    expect(both.matched).toEqual(['…..100']);
    expect(both.differences.map((d) => `${d.range} ${d.side}`)).toEqual(['100..… mysql', '100..… postgres']);
  });
});

describe('the position a verification receipt holds for', () => {
  const at = (position: number) => ({ file: 'binlog.000003', position, gtid: null });
  it('is the position when the binary log stood still, else none, and says why', () => {
    expect(positionOfVerification(at(400), at(400))).toMatchObject({
      position: at(400),
      positionNote: expect.stringMatching(/did not move/),
    });
    expect(positionOfVerification(at(400), at(900))).toMatchObject({
      position: null,
      positionNote: expect.stringMatching(/moved from binlog.000003:400 to binlog.000003:900/),
    });
    expect(positionOfVerification(null, null)).toMatchObject({
      position: null,
      positionNote: expect.stringMatching(/log_bin is OFF/),
    });
  });
});
