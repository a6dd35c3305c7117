import { z } from 'zod';
import { field, type Strict } from './json-document.js';

/** What prepare decided about generated columns, CHECKs and objects not migrated (schema/translate's SchemaObjectsRecord). */
export const schemaObjectsSchema = z.looseObject({
  generated: z.array(
    z.looseObject({
      table: z.string(),
      column: z.string(),
      kind: z.enum(['stored', 'virtual']),
      expression: z.string(),
      status: z.enum(['generated', 'plain']),
      sql: field(z.string()),
      reason: field(z.string()),
    }),
  ),
  checks: z.array(
    z.looseObject({
      table: z.string(),
      name: z.string(),
      clause: z.string(),
      status: z.enum(['translated', 'implied', 'not_migrated']),
      constraintName: field(z.string()),
      definition: field(z.string()),
      reason: field(z.string()),
    }),
  ),
  notMigrated: z.array(
    z.looseObject({
      kind: z.enum(['trigger', 'procedure', 'function', 'event', 'view', 'check']),
      name: z.string(),
      reason: field(z.string()),
    }),
  ),
});

/**
 * `my2pg.runs.options`: how a run was started, read by its jobs and later commands. Every field
 * is optional: runs recorded by earlier versions lack the newer ones (and their readers say
 * what an absent field means, e.g. no `nul` is `strip`, no `queues` the legacy queue names).
 * Never credentials.
 */
const runOptionsSchema = z.looseObject({
  batchSize: field(z.number()),
  rangeRows: field(z.number()),
  /** The number of range jobs of each split table (see tableJobIds). */
  ranges: field(z.record(z.string(), z.number())),
  tables: field(z.array(z.string()).nullable()),
  exclude: field(z.array(z.string()).nullable()),
  /** Whether the tables and columns came from `--entities`. */
  entities: field(z.boolean()),
  /** The columns each table copies, so that verification compares the same ones. */
  columns: field(z.record(z.string(), z.array(z.string()))),
  syncAlembic: field(z.boolean()),
  verify: field(z.enum(['checksum', 'count', 'none'])),
  allowRejects: field(z.boolean()),
  nul: field(z.enum(['reject', 'strip', 'bytea'])),
  zeroDate: field(z.enum(['null', 'reject'])),
  fulltextConfig: field(z.string()),
  excludeViews: field(z.array(z.string())),
  /** The migration file's `where`: source table → MySQL condition; copy and verification read only the matching rows. */
  where: field(z.record(z.string(), z.string())),
  /** Renames and identifier case (vocabulary/naming.ts NamingRules); absent: names kept. */
  naming: field(
    z.looseObject({
      case: z.enum(['keep', 'lower', 'snake']),
      tables: z.record(z.string(), z.string()),
      columns: z.record(z.string(), z.record(z.string(), z.string())),
    }),
  ),
  /**
   * `--follow`: the source's binary log position recorded before any table was read (the
   * follower starts there), and the key each followed table's rows are matched by.
   */
  follow: field(
    z.looseObject({
      file: z.string(),
      position: z.number(),
      gtid: z.string().nullable(),
      keys: z.record(z.string(), z.array(z.string())),
    }),
  ),
  /** `--fallback` of a `--follow` run: cutover arms the way back (docs/fallback.md). */
  fallback: field(z.boolean()),
  /** Tables dropped from a following run (`resume --skip-table`): which, when, and the hold that led to it; shown by status and cutover's receipt. */
  skippedTables: field(z.array(z.looseObject({ table: z.string(), at: z.string(), reason: z.string() }))),
  /** `--on-ddl` of a `--follow` run: what its follower does at a schema change (absent: apply). */
  onDdl: field(z.enum(['apply', 'hold', 'stop'])),
  /** The target's queues the run's jobs went to. */
  queues: field(z.looseObject({ copy: z.string(), finalize: z.string() })),
  /** Added once the created tables exist: what became of generated columns, CHECKs, objects not migrated. */
  schemaObjects: field(schemaObjectsSchema),
  /** What the created tables got in another PostgreSQL form (report lines). */
  translated: field(z.array(z.string())),
  /** The tinyint(1)/bit(1) columns of created tables: boolean or smallint as their data decided, and why. */
  decidedTypes: field(
    z.array(
      z.looseObject({
        table: z.string(),
        column: z.string(),
        mysqlType: z.string(),
        type: z.string(),
        reason: z.string(),
      }),
    ),
  ),
});

/** A run's options, as written and as read back. */
export type RunOptions = Strict<z.infer<typeof runOptionsSchema>>;

/**
 * What a run's converters do with NULs and zero dates, as its copy jobs and its follower apply
 * them. Runs recorded before --nul existed removed NULs, and a retry of one keeps doing so; runs
 * recorded before --zero-date existed wrote zero dates as NULL, today's default.
 */
export function copyPoliciesOf(options: RunOptions): {
  nul: NonNullable<RunOptions['nul']>;
  zeroDate: NonNullable<RunOptions['zeroDate']>;
} {
  return { nul: options.nul ?? 'strip', zeroDate: options.zeroDate ?? 'null' };
}

/** Reads a stored options document; tolerant of older runs (see runOptionsSchema). */
export function parseRunOptions(stored: unknown): RunOptions {
  const parsed = runOptionsSchema.safeParse(stored ?? {});
  // The loose object keeps every stored key; Strict only narrows the type to the known ones.
  return (parsed.success ? parsed.data : {}) as RunOptions;
}
