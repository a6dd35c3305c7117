import { describe, expect, test } from 'vitest';
import { ChangeBatcher } from '../../src/follow/change-batcher.js';
import type { BinlogEvent } from '../../src/follow/binlog-stream.js';
import { xaEventOf } from '../../src/follow/binlog-stream.js';
import type { CascadingKey } from '../../src/follow/cascades.js';

const rows = (table: string, ...ids: number[]): BinlogEvent => ({
  kind: 'rows',
  table,
  op: 'insert',
  rows: ids.map((id) => ({ id, v: 1 })),
  timestamp: 1_000,
});
const keysOf = (b: ChangeBatcher): Record<string, string[]> =>
  Object.fromEntries([...b.take().tables].map(([t, keys]) => [t, [...keys.keys()]]));

function batcher(cascades: Record<string, CascadingKey[]> = {}, prepared = {}): ChangeBatcher {
  return new ChangeBatcher(
    () => ['id'],
    (t) => cascades[t] ?? [],
    prepared,
  );
}

describe('ChangeBatcher', () => {
  test('a transaction joins the batch at its commit, not before', () => {
    const b = batcher();
    b.add(rows('t', 1, 2));
    expect(b.pendingEvents).toBe(0);
    // Keys of a transaction still being read are not what a batch can drain (the stream's pause waits on those).
    expect(b.pendingKeys).toBe(0);
    expect(b.add({ kind: 'commit' })).toBe(true);
    expect(b.pendingEvents).toBe(2);
    expect(b.pendingKeys).toBe(2);
    expect(keysOf(b)).toEqual({ t: ['[1]', '[2]'] });
    expect(b.pendingEvents).toBe(0);
  });

  test('an XA transaction is held from XA END to XA COMMIT; XA ROLLBACK drops it', () => {
    const b = batcher();
    b.add(rows('t', 1));
    b.add({ kind: 'xa-end', xid: "X'61',X'',1" });
    b.add(rows('t', 2));
    b.add({ kind: 'xa-end', xid: "X'62',X'',1" });
    b.add(rows('u', 3));
    b.add({ kind: 'commit' });
    const first = b.take();
    expect([...first.tables.keys()]).toEqual(['u']);
    // Both prepared transactions travel with the batch, to be kept with its position.
    expect(Object.keys(first.prepared).sort()).toEqual(["X'61',X'',1", "X'62',X'',1"]);
    b.add({ kind: 'xa-rollback', xid: "X'62',X'',1" });
    expect(b.add({ kind: 'xa-commit', xid: "X'61',X'',1" })).toBe(true);
    const second = b.take();
    expect(Object.fromEntries([...second.tables].map(([t, k]) => [t, [...k.keys()]]))).toEqual({ t: ['[1]'] });
    expect(second.prepared).toEqual({});
  });

  test('prepared XA transactions kept as JSON come back after a restart, bytes included', () => {
    const b = batcher();
    b.add({ kind: 'rows', table: 't', op: 'delete', rows: [{ id: Buffer.from([0, 255]) }], timestamp: 1 });
    b.add({ kind: 'xa-end', xid: 'x1' });
    const kept = JSON.parse(JSON.stringify(b.take().prepared));
    const again = batcher({}, kept);
    again.add({ kind: 'xa-commit', xid: 'x1' });
    expect(keysOf(again)).toEqual({ t: ['["0x00ff"]'] });
  });

  test('a deleted parent and a changed parent key become cascades of their referencing tables', () => {
    const fk: CascadingKey = {
      child: 'c',
      childColumns: ['pid'],
      parentColumns: ['id'],
      onDelete: true,
      onUpdate: true,
    };
    const b = batcher({ p: [fk] });
    b.add({ kind: 'rows', table: 'p', op: 'delete', rows: [{ id: 7 }], timestamp: 1 });
    b.add({ kind: 'rows', table: 'p', op: 'update', rows: [{ before: { id: 8 }, after: { id: 9 } }], timestamp: 1 });
    b.add({
      kind: 'rows',
      table: 'p',
      op: 'update',
      rows: [{ before: { id: 5, v: 1 }, after: { id: 5, v: 2 } }],
      timestamp: 1,
    });
    b.add({ kind: 'commit' });
    const batch = b.take();
    expect([...batch.tables.get('p')!.keys()]).toEqual(['[7]', '[8]', '[9]', '[5]']);
    expect([...[...batch.cascades.values()][0]!.values.keys()]).toEqual(['[7]', '[8]']);
  });
});

describe('xaEventOf', () => {
  test.each([
    ["XA END X'61',X'',1", { kind: 'xa-end', xid: "X'61',X'',1" }],
    ["XA COMMIT X'61',X'',1", { kind: 'xa-commit', xid: "X'61',X'',1" }],
    ["xa rollback X'62', X'', 1", { kind: 'xa-rollback', xid: "X'62',X'',1" }],
    ['UPDATE t SET v = 1', null],
  ])('%s', (query, expected) => {
    expect(xaEventOf(query)).toEqual(expected);
  });
});
