import type { Pgoutput } from 'pg-logical-replication';
import { PgoutputParser } from 'pg-logical-replication/dist/output-plugins/pgoutput/pgoutput-parser.js';
import type { PoolClient } from '../dialect/postgres/connection.js';
import type { PgType } from '../copy/reverse-rules.js';

/** A row's values as logical replication sends them: text output form, null, or undefined for an unchanged TOASTed value not sent. */
export type SlotTuple = Record<string, string | null | undefined>;

/** One changed row of a published table (PostgreSQL names). */
export type SlotChange =
  | { kind: 'insert'; table: string; row: SlotTuple }
  | { kind: 'update'; table: string; row: SlotTuple; oldKey: SlotTuple | null }
  | { kind: 'delete'; table: string; oldKey: SlotTuple }
  | { kind: 'truncate'; table: string };

/** A transaction PostgreSQL committed: its changes, in order, and the end of its commit record. */
export interface SlotTransaction {
  endLsn: string;
  changes: SlotChange[];
  /** The PostgreSQL type of each column, per table: what a value's rule goes by. */
  types: Map<string, Map<string, PgType>>;
}

/** `16/B374D848` as a number that orders. */
export function lsnValue(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi ?? '0'}`) << 32n) + BigInt(`0x${lo ?? '0'}`);
}

/**
 * Reads (without consuming) the slot's committed transactions that end at or before `upto`, at
 * most about `maxMessages` pgoutput messages (whole transactions: decoding stops only between
 * them). `complete`: the read reached `upto`, so every transaction that committed before it is
 * in `transactions` or was confirmed before. Values stay in their text form (the parser's type
 * parsers are set aside), so that no precision is lost before the reverse rules see them.
 */
export async function peekSlot(
  client: PoolClient,
  slot: { slotName: string; publicationName: string },
  upto: string,
  maxMessages: number,
  typeCache: Map<number, PgType>,
): Promise<{ transactions: SlotTransaction[]; complete: boolean }> {
  const rows = (
    await client.query<{ data: Buffer }>(
      `SELECT data FROM pg_logical_slot_peek_binary_changes($1, $2::pg_lsn, $3, 'proto_version', '1', 'publication_names', $4)`,
      [slot.slotName, upto, maxMessages, slot.publicationName],
    )
  ).rows;
  const parser = new PgoutputParser();
  const transactions: SlotTransaction[] = [];
  let open: SlotTransaction | null = null;
  for (const { data } of rows) {
    const message = parser.parse(data);
    if (message.tag === 'relation') {
      for (const column of message.columns) column.parser = (raw: unknown) => raw;
      await resolveTypes(client, message, typeCache);
      continue;
    }
    if (message.tag === 'begin') {
      open = { endLsn: '', changes: [], types: new Map() };
      continue;
    }
    if (!open) continue;
    if (message.tag === 'commit') {
      open.endLsn = message.commitEndLsn ?? '';
      transactions.push(open);
      open = null;
      continue;
    }
    const change = changeOf(message);
    if (!change) continue;
    open.changes.push(change);
    for (const relation of relationsOf(message))
      if (!open.types.has(relation.name))
        open.types.set(
          relation.name,
          new Map(
            relation.columns.map((c) => [c.name, typeCache.get(c.typeOid) ?? { name: 'unknown', category: 'X' }]),
          ),
        );
  }
  return { transactions, complete: rows.length < maxMessages };
}

function relationsOf(message: Pgoutput.Message): Pgoutput.MessageRelation[] {
  if (message.tag === 'truncate') return message.relations;
  if (message.tag === 'insert' || message.tag === 'update' || message.tag === 'delete') return [message.relation];
  return [];
}

function changeOf(message: Pgoutput.Message): SlotChange | null {
  switch (message.tag) {
    case 'insert':
      return { kind: 'insert', table: message.relation.name, row: message.new as SlotTuple };
    case 'update':
      return {
        kind: 'update',
        table: message.relation.name,
        row: message.new as SlotTuple,
        oldKey: (message.key ?? message.old ?? null) as SlotTuple | null,
      };
    case 'delete':
      return { kind: 'delete', table: message.relation.name, oldKey: (message.key ?? message.old ?? {}) as SlotTuple };
    default:
      return null;
  }
}

/** The names and categories of a relation's column types, read once per type. */
async function resolveTypes(
  client: PoolClient,
  relation: Pgoutput.MessageRelation,
  cache: Map<number, PgType>,
): Promise<void> {
  const missing = [...new Set(relation.columns.map((c) => c.typeOid))].filter((oid) => !cache.has(oid));
  if (missing.length === 0) return;
  const rows = (
    await client.query<{ oid: number; typname: string; typcategory: string }>(
      'SELECT oid::int AS oid, typname, typcategory FROM pg_type WHERE oid = ANY($1::oid[])',
      [missing],
    )
  ).rows;
  for (const r of rows) cache.set(r.oid, { name: r.typname, category: r.typcategory });
}
