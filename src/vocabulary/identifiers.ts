import { createHash } from 'node:crypto';

/**
 * PostgreSQL keeps at most 63 bytes of a name (NAMEDATALEN - 1) and cuts the rest without an
 * error, so two long names that share their first 63 bytes silently become one. MySQL allows
 * 64 characters, which in UTF-8 can be up to 256 bytes. Every name my2pg writes goes through
 * this module: kept as it is when it fits, else cut on a character boundary and given a short
 * hash of the whole name, so that the result is deterministic and distinct names stay distinct.
 */
const MAX_IDENTIFIER_BYTES = 63;

const HASH_CHARS = 8;

function hashOf(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex').slice(0, HASH_CHARS);
}

/** The longest start of `text` that is at most `bytes` bytes of UTF-8, never splitting a character. */
export function cutToBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= bytes) return text;
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

/** `name` cut so that `name + suffix` fits in 63 bytes. */
function withSuffix(name: string, suffix: string): string {
  return cutToBytes(name, MAX_IDENTIFIER_BYTES - Buffer.byteLength(suffix, 'utf8')) + suffix;
}

/** A PostgreSQL identifier of at most 63 bytes: a longer name is cut and given `_` + 8 hex digits of its hash. */
export function fitIdentifier(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_IDENTIFIER_BYTES) return name;
  return withSuffix(name, `_${hashOf(name)}`);
}

/**
 * The name PostgreSQL itself gives an object it names (a primary key's `<table>_pkey`, an
 * identity's `<table>_<column>_seq`, a column CHECK's `<table>_<column>_check`): a port of
 * makeObjectName() in src/backend/commands/indexcmds.c, which cuts the longer part first, on a
 * character boundary. (PostgreSQL adds a digit to the label when that name is taken.)
 */
export function pgObjectName(name1: string, name2: string | null, label: string): string {
  const b1 = Buffer.from(name1, 'utf8');
  const b2 = name2 === null ? null : Buffer.from(name2, 'utf8');
  let n1 = b1.length;
  let n2 = b2?.length ?? 0;
  const overhead = (b2 ? 1 : 0) + (label ? Buffer.byteLength(label, 'utf8') + 1 : 0);
  const available = MAX_IDENTIFIER_BYTES - overhead;
  while (n1 + n2 > available) {
    if (n1 > n2) n1 -= 1;
    else n2 -= 1;
  }
  const clip = (bytes: Buffer, n: number): string => {
    let end = n;
    while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end -= 1;
    return bytes.subarray(0, end).toString('utf8');
  };
  return clip(b1, n1) + (b2 ? `_${clip(b2, n2)}` : '') + (label ? `_${label}` : '');
}

/**
 * Hands out names that are unique in their namespace and fit in 63 bytes. Namespaces are
 * PostgreSQL's: `relation` (tables, indexes, sequences, views of one schema share it), `type`
 * (enum types and the row types of tables), and `constraint:<table>` (constraints of one table).
 * Names already in the target are reserved first, so a generated name never lands on an
 * existing object (CREATE INDEX IF NOT EXISTS would then silently do nothing). The same inputs
 * in the same order give the same names.
 */
export class IdentifierAllocator {
  private readonly used = new Map<string, Set<string>>();

  private names(namespace: string): Set<string> {
    let set = this.used.get(namespace);
    if (!set) {
      set = new Set();
      this.used.set(namespace, set);
    }
    return set;
  }

  /** Marks a name as taken (it exists, or PostgreSQL will choose it). */
  reserve(namespace: string, name: string): void {
    this.names(namespace).add(name);
  }

  isTaken(namespace: string, name: string): boolean {
    return this.used.get(namespace)?.has(name) ?? false;
  }

  /** An independent copy: a trial build allocates from it without taking names from this one. */
  clone(): IdentifierAllocator {
    const copy = new IdentifierAllocator();
    for (const [namespace, names] of this.used) copy.used.set(namespace, new Set(names));
    return copy;
  }

  /** A name for `wanted`: itself when it fits and is free, else cut and suffixed with a hash (and a counter on collision). */
  allocate(namespace: string, wanted: string): string {
    const taken = this.names(namespace);
    let name = fitIdentifier(wanted);
    for (let n = 1; taken.has(name); n += 1) name = withSuffix(wanted, `_${hashOf(`${wanted}\u0000${n}`)}`);
    taken.add(name);
    return name;
  }
}
