import type { ChangedKey } from './changed-key.js';
import type { BinlogEvent, RowImage } from './binlog-stream.js';
import type { CascadingKey } from './cascades.js';
import { keyText, sameValue } from './changed-key.js';

/** Keys by table, each once (by keyText). */
export type KeysByTable = Map<string, Map<string, ChangedKey>>;

/** Rows MySQL changed through a foreign key's action: the referencing table and columns, and the parent's old values. */
type CascadesById = Map<string, { key: CascadingKey; values: Map<string, ChangedKey> }>;

/** Changes gathered from the binary log: keys, cascades, how many row events, the source time of the first and last. */
interface Changes {
  tables: KeysByTable;
  cascades: CascadesById;
  events: number;
  keys: number;
  /** When the oldest change happened, as near as can be told (see onRows), and the source time of the newest. */
  oldestAt: number | null;
  newestAt: number | null;
}

/** What one applied batch holds: committed changes, and where the next read starts once it is applied. */
export interface ChangeBatch extends Changes {
  /** XA transactions prepared and not yet committed or rolled back, as JSON: kept with the position. */
  prepared: PreparedXa;
}

/** Prepared XA transactions' keys and cascades, by XID, in a form JSON keeps (bytes as {hex}). */
export type PreparedXa = Record<
  string,
  { tables: Record<string, unknown[][]>; cascades: { key: CascadingKey; values: unknown[][] }[]; events: number }
>;

function emptyChanges(): Changes {
  return { tables: new Map(), cascades: new Map(), events: 0, keys: 0, oldestAt: null, newestAt: null };
}

/**
 * Turns the binary log's events into batches of changed keys, touching no socket. A
 * transaction's keys join the batch only once its commit is read: an ordinary transaction at
 * its XID, an XA transaction at its `XA COMMIT` (its rows were logged at `XA PREPARE`, and are
 * not visible before the commit); an `XA ROLLBACK` drops them. Foreign key actions MySQL
 * performs without a row event are gathered as cascades (see Follower.applyCascades).
 */
export class ChangeBatcher {
  private current = emptyChanges();
  private pending = emptyChanges();
  private readonly held = new Map<string, Changes>();

  constructor(
    /** Per followed table, its key columns. */
    private readonly keyOf: (table: string) => readonly string[],
    /** Per followed table, the foreign keys that reference it with an action that changes rows. */
    private readonly cascadesOf: (table: string) => readonly CascadingKey[],
    prepared: PreparedXa = {},
  ) {
    for (const [xid, changes] of Object.entries(prepared)) this.held.set(xid, changesFromJson(changes));
  }

  /** Row events committed and not yet taken. */
  get pendingEvents(): number {
    return this.pending.events;
  }

  /** Row events read and not taken yet, a transaction still being read included: the follower's work ahead. */
  get readEvents(): number {
    return this.pending.events + this.current.events;
  }

  /**
   * Committed keys not taken yet: what a batch can drain, so what pausing the stream waits on.
   * A transaction still being read (or a prepared XA one) is held whole until its end: a single
   * transaction's keys are the one thing that can exceed the bound.
   */
  get pendingKeys(): number {
    return this.pending.keys;
  }

  /** When the oldest committed change not taken yet happened. */
  get oldestPendingAt(): number | null {
    return this.pending.oldestAt;
  }

  /** Takes one event; returns true when it committed changes (a batch may be due). */
  add(event: BinlogEvent): boolean {
    switch (event.kind) {
      case 'rows':
        this.onRows(event);
        return false;
      case 'commit':
        return this.commit(this.current);
      case 'xa-end':
        this.held.set(event.xid, this.current);
        this.current = emptyChanges();
        return false;
      case 'xa-commit': {
        const changes = this.held.get(event.xid);
        this.held.delete(event.xid);
        return changes ? this.commit(changes) : false;
      }
      case 'xa-rollback':
        this.held.delete(event.xid);
        return false;
      case 'ddl':
        return false;
    }
  }

  /** The committed changes, as one batch to apply; the prepared XA transactions go with it, to be kept with its position. */
  take(): ChangeBatch {
    const batch = { ...this.pending, prepared: this.preparedJson() };
    this.pending = emptyChanges();
    return batch;
  }

  private commit(changes: Changes): boolean {
    if (changes === this.current) this.current = emptyChanges();
    if (changes.events === 0 && changes.cascades.size === 0) return false;
    const into = this.pending;
    for (const [table, keys] of changes.tables) {
      let target = into.tables.get(table);
      if (!target) into.tables.set(table, (target = new Map()));
      for (const [text, key] of keys) {
        if (!target.has(text)) into.keys += 1;
        target.set(text, key);
      }
    }
    for (const [id, cascade] of changes.cascades) {
      const target = into.cascades.get(id);
      if (!target) into.cascades.set(id, cascade);
      else for (const [text, values] of cascade.values) target.values.set(text, values);
    }
    into.events += changes.events;
    into.oldestAt =
      into.oldestAt === null ? changes.oldestAt : Math.min(into.oldestAt, changes.oldestAt ?? into.oldestAt);
    into.newestAt = changes.newestAt ?? into.newestAt;
    return true;
  }

  private onRows(event: Extract<BinlogEvent, { kind: 'rows' }>): void {
    const changes = this.current;
    const key = this.keyOf(event.table);
    let keys = changes.tables.get(event.table);
    if (!keys) changes.tables.set(event.table, (keys = new Map()));
    const add = (row: RowImage): void => {
      const values = key.map((column) => row[column] as string | number | Buffer);
      const text = keyText(values);
      if (!keys.has(text)) {
        keys.set(text, values);
        changes.keys += 1;
      }
    };
    const cascades = this.cascadesOf(event.table);
    if (event.op === 'update') {
      for (const change of event.rows) {
        // A key that changed: the old key's row goes, the new one's is written.
        add(change.before);
        add(change.after);
        for (const fk of cascades)
          if (fk.onUpdate && fk.parentColumns.some((c) => !sameValue(change.before[c], change.after[c])))
            addCascade(changes, fk, change.before);
      }
    } else {
      for (const row of event.rows) {
        add(row);
        if (event.op === 'delete') for (const fk of cascades) if (fk.onDelete) addCascade(changes, fk, row);
      }
    }
    changes.events += event.rows.length;
    // The binary log's time is in whole seconds (the commit was within the second after it),
    // and the change happened no later than now.
    changes.oldestAt ??= Math.min(Date.now(), event.timestamp + 999);
    changes.newestAt = event.timestamp;
  }

  private preparedJson(): PreparedXa {
    const json: PreparedXa = {};
    for (const [xid, changes] of this.held) {
      json[xid] = {
        tables: Object.fromEntries([...changes.tables].map(([t, keys]) => [t, [...keys.values()].map(keyToJson)])),
        cascades: [...changes.cascades.values()].map((c) => ({
          key: c.key,
          values: [...c.values.values()].map(keyToJson),
        })),
        events: changes.events,
      };
    }
    return json;
  }
}

/** The rows of `fk.child` that referenced this parent row's old values: MySQL changed them without a row event. */
function addCascade(changes: Changes, fk: CascadingKey, parent: RowImage): void {
  const values = fk.parentColumns.map((c) => parent[c] as string | number | Buffer);
  if (values.some((v) => v === null || v === undefined)) return;
  const id = `${fk.child}\u0000${fk.childColumns.join('\u0000')}`;
  let entry = changes.cascades.get(id);
  if (!entry) changes.cascades.set(id, (entry = { key: fk, values: new Map() }));
  entry.values.set(keyText(values), values);
}

function keyToJson(key: ChangedKey): unknown[] {
  return key.map((v) => (Buffer.isBuffer(v) ? { hex: v.toString('hex') } : v));
}

function keyFromJson(values: unknown[]): ChangedKey {
  return values.map((v) =>
    v !== null && typeof v === 'object' && 'hex' in v
      ? Buffer.from(String((v as { hex: string }).hex), 'hex')
      : (v as string | number),
  );
}

function changesFromJson(json: PreparedXa[string]): Changes {
  const changes = emptyChanges();
  for (const [table, keys] of Object.entries(json.tables)) {
    const map = new Map<string, ChangedKey>();
    for (const k of keys) {
      const key = keyFromJson(k);
      map.set(keyText(key), key);
    }
    changes.tables.set(table, map);
    changes.keys += map.size;
  }
  for (const c of json.cascades) {
    const values = new Map<string, ChangedKey>();
    for (const v of c.values) values.set(keyText(keyFromJson(v)), keyFromJson(v));
    changes.cascades.set(`${c.key.child}\u0000${c.key.childColumns.join('\u0000')}`, { key: c.key, values });
  }
  changes.events = json.events;
  return changes;
}
