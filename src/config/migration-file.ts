/**
 * The migration file (docs/configuration.md: "The migration file"): `my2pg.yaml` in the working directory, or
 * the file `--config` names, in YAML or JSON. It holds everything a run needs except secrets;
 * any string may take `${VAR}` from the environment (and `.env`). Every problem is reported at
 * once, each with its path in the file, as one UsageError (exit 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../core/errors.js';

/** The file read when `--config` is not given and it exists in the working directory. */
const DEFAULT_MIGRATION_FILE = 'my2pg.yaml';

const names = z.array(z.string().min(1, 'must not be empty'));

const filter = z.strictObject({
  /** Names or globs (`wp_*`); only these. */
  include: names.optional(),
  /** Names or globs; every one but these. */
  exclude: names.optional(),
});

/** A PostgreSQL identifier as the file may give it (renames, schemas). */
const identifier = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => Buffer.byteLength(s, 'utf8') <= 63, 'is longer than 63 bytes, the most PostgreSQL keeps');

const migrationFileSchema = z.strictObject({
  /** MySQL source URL; `${MYSQL_PASSWORD}` keeps the secret out of the file. */
  source: z.string().optional(),
  /** PostgreSQL target URL. */
  target: z.string().optional(),
  /** Redis URL. */
  redis: z.string().optional(),
  /** Target schema of a single-database run. */
  schema: identifier.optional(),
  /** Several source databases into several target schemas: `{ shop: shop, blog: blog }`. */
  databases: z.record(z.string().min(1), identifier).optional(),
  tables: filter.optional(),
  views: z.strictObject({ exclude: names.optional() }).optional(),
  /** Source table → MySQL condition: only those rows are copied and verified. */
  where: z.record(z.string().min(1), z.string().min(1, 'must not be empty')).optional(),
  rename: z
    .strictObject({
      tables: z.record(z.string().min(1), identifier).optional(),
      columns: z.record(z.string().min(1), z.record(z.string().min(1), identifier)).optional(),
    })
    .optional(),
  identifierCase: z.enum(['keep', 'lower', 'snake']).optional(),
  /** MySQL type → PostgreSQL type, as `--type`. */
  types: z.record(z.string().min(1), z.string().min(1)).optional(),
  /** `table.column` → PostgreSQL type, as `--column-type`. */
  columnTypes: z.record(z.string().min(1), z.string().min(1)).optional(),
  enum: z.enum(['type', 'check']).optional(),
  nul: z.enum(['reject', 'strip', 'bytea']).optional(),
  zeroDate: z.enum(['null', 'reject']).optional(),
  /** Partitioned tables: `keep` (PostgreSQL declarative partitioning where it can express them, the default) or `flatten`. */
  partitions: z.enum(['keep', 'flatten']).optional(),
  fulltextConfig: z.string().min(1).optional(),
  batchSize: z.number().int().positive().optional(),
  rangeRows: z.number().int().nonnegative().optional(),
  verify: z.enum(['checksum', 'count', 'none']).optional(),
  allowRejects: z.boolean().optional(),
  /** With `--follow`, a schema change of a followed table: `apply` (default), `hold` or `stop`, as `--on-ddl`. */
  onDdl: z.enum(['apply', 'hold', 'stop']).optional(),
});

/** A validated migration file. */
export type MigrationFile = z.infer<typeof migrationFileSchema> & {
  /** The path it was read from, for messages. */
  path: string;
};

/** `a.b[2].c`: where a problem is, as the user reads the file. */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * Replaces `${VAR}` in every string of the document; an unset variable is a problem at its
 * path, unless `used` is given and the top-level key is not in it (left as written then).
 */
function expandVariables(
  value: unknown,
  env: Record<string, string | undefined>,
  path: PropertyKey[],
  problems: string[],
  used?: readonly string[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const found = env[name];
      if (found === undefined) {
        if (used && !used.includes(String(path[0]))) return whole;
        problems.push(`${pathText(path)}: \${${name}} is not set in the environment or .env`);
        return whole;
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => expandVariables(item, env, [...path, i], problems, used));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, expandVariables(item, env, [...path, key], problems, used)]),
    );
  }
  return value;
}

/** The keys an object of the file takes at `path` (records and optional values looked through). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType | undefined = migrationFileSchema;
  for (const part of [...path, undefined]) {
    while (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
    if (part === undefined) break;
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.ZodType>)[String(part)];
    else if (schema instanceof z.ZodRecord) schema = schema.valueType as z.ZodType;
    else return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** What a zod issue says, in the file's words. */
function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(issue.path);
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`;
  }
  return issue.message;
}

/**
 * Reads the migration file: the one `--config` names (it must exist), else `my2pg.yaml` in
 * `cwd` when there is one, else undefined. `used`: the top-level keys the command reads
 * (default all), so that `status` does not need the source's password variable set.
 */
export function readMigrationFile(
  configPath: string | undefined,
  env: Record<string, string | undefined>,
  cwd = process.cwd(),
  used?: readonly (keyof MigrationFile)[],
): MigrationFile | undefined {
  const path = resolve(cwd, configPath ?? DEFAULT_MIGRATION_FILE);
  if (!existsSync(path)) {
    if (configPath === undefined) return undefined;
    throw new UsageError(`migration file ${configPath} not found`);
  }
  const label = configPath ?? DEFAULT_MIGRATION_FILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`migration file ${label} cannot be read: ${(error as Error).message}`);
  }
  // YAML 1.2 is a superset of JSON, so one parser reads both. Pretty errors name the line.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new UsageError(
      `migration file ${label} is not valid YAML or JSON: ${document.errors.map((e) => (e.message.split('\n')[0] ?? '').replace(/:$/, '')).join('; ')}`,
    );
  }
  const raw: unknown = document.toJS() ?? {};
  const problems: string[] = [];
  const expanded = expandVariables(raw, env, [], problems, used);
  const parsed = migrationFileSchema.safeParse(expanded);
  if (!parsed.success)
    problems.push(...parsed.error.issues.map((issue) => `${pathText(issue.path)}: ${issueText(issue)}`));
  if (parsed.success && parsed.data.schema !== undefined && parsed.data.databases !== undefined) {
    problems.push(
      'schema: give either schema (one database) or databases (each source database into its schema), not both',
    );
  }
  if (parsed.success && parsed.data.databases !== undefined) {
    // Two databases in one schema would fill each other's tables.
    const bySchema = new Map<string, string[]>();
    for (const [database, schema] of Object.entries(parsed.data.databases))
      bySchema.set(schema, [...(bySchema.get(schema) ?? []), database]);
    for (const [schema, owners] of bySchema) {
      if (owners.length > 1)
        problems.push(
          `databases: ${owners.join(' and ')} both go into schema ${schema}; give each database a schema of its own`,
        );
    }
  }
  if (problems.length > 0 || !parsed.success) throw new UsageError(`migration file ${label}: ${problems.join('; ')}`);
  return { ...parsed.data, path: label };
}
