import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors.js';

/** The two BullMQ queues a run's jobs live in. */
export interface QueueNames {
  copy: string;
  finalize: string;
}

/**
 * The target a set of queues belongs to: one PostgreSQL database and schema. Jobs of one
 * target are useless to a worker of another (its tables and my2pg state are elsewhere), so
 * every target gets queues of its own; runs and workers of other targets sharing the queue
 * backend never see them.
 */
export interface TargetScope {
  /** 8 hex digits, stable for the target: a hash of the server's identity, database and schema. */
  id: string;
  database: string;
  schema: string;
  queues: QueueNames;
}

// Queue names end up in Redis keys (`prefix:name:…`), PostgreSQL rows and application names, and
// Bull Board URLs: no `:`, nothing to escape.
function slug(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 24);
  return s.length > 0 ? s : '_';
}

/**
 * The scope of a target from the identity of its server, its database and schema (pure).
 * Queue names read `copy.<database>.<schema>.<id>`, so Bull Board shows whose they are; the
 * hash keeps two targets with the same names on different servers apart.
 */
export function scopeOf(serverId: string, database: string, schema: string): TargetScope {
  const id = createHash('sha1').update(`${serverId}\u0000${database}\u0000${schema}`).digest('hex').slice(0, 8);
  const middle = `${slug(database)}.${slug(schema)}.${id}`;
  return { id, database, schema, queues: { copy: `copy.${middle}`, finalize: `finalize.${middle}` } };
}

/** Anything that runs SQL and answers rows: a pg Client or PoolClient. */
export interface SqlClient {
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Reads the scope of the target `client` is connected to. The server is identified by what
 * it says about itself (its system identifier), not by the URL, so `localhost`, `127.0.0.1`
 * and a Docker service name reach the same queues. Where pg_control_system() is not allowed
 * (some managed services), the server's own address and port stand in.
 */
export async function readTargetScope(client: SqlClient, schema: string): Promise<TargetScope> {
  let serverId: string;
  let database: string;
  try {
    const { rows } = await client.query(
      'SELECT current_database() AS database, (SELECT system_identifier::text FROM pg_control_system()) AS server',
    );
    database = String(rows[0]?.database);
    serverId = `system ${String(rows[0]?.server)}`;
  } catch {
    // pg_control_system() not allowed here: the server's address stands in (see above).
    const { rows } = await client.query(
      "SELECT current_database() AS database, coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port(), 0) AS server",
    );
    database = String(rows[0]?.database);
    serverId = `address ${String(rows[0]?.server)}`;
  }
  return scopeOf(serverId, database, schema);
}

/** How a target is recorded in a backend's registry of targets (the board reads it). */
export function targetRegistryEntry(scope: TargetScope): Record<string, string> {
  return { database: scope.database, schema: scope.schema, ...scope.queues };
}

/** A registry entry read back (JSON text or a parsed document); undefined when it is not one of ours. */
export function targetFromRegistry(id: string, raw: unknown): TargetScope | undefined {
  let v: { database?: unknown; schema?: unknown; copy?: unknown; finalize?: unknown };
  try {
    v = (typeof raw === 'string' ? JSON.parse(raw) : raw) as typeof v;
  } catch {
    return undefined;
  }
  if (typeof v?.copy !== 'string' || typeof v.finalize !== 'string') return undefined;
  return {
    id,
    database: String(v.database ?? '?'),
    schema: String(v.schema ?? '?'),
    queues: { copy: v.copy, finalize: v.finalize },
  };
}

/** Targets sorted by database, schema and id, as the board lists them. */
export function sortTargets(targets: TargetScope[]): TargetScope[] {
  return targets.sort(
    (a, b) => a.database.localeCompare(b.database) || a.schema.localeCompare(b.schema) || a.id.localeCompare(b.id),
  );
}

/** The queues a recorded run's jobs are in, as the run recorded them when it was planned. */
export function queuesOfRun(options: Record<string, unknown> | null | undefined): QueueNames {
  const q = options?.queues as Partial<QueueNames> | undefined;
  if (typeof q?.copy === 'string' && typeof q.finalize === 'string') return { copy: q.copy, finalize: q.finalize };
  // Every run since queues were scoped to their target records them; nothing released ran without.
  throw new UsageError(
    'this run records no queue names, so its jobs cannot be found; start a new run with: npx my2pg run',
  );
}
