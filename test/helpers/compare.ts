import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { expect } from 'vitest';
import { compareAllTables } from './canonical.js';
import type { Sandbox } from './sandbox.js';

// The one place tests open both databases and compare the sides. Each side is read with its own
// driver and SQL, never through my2pg's code. Two ways to compare:
// - readSides / expectSidesEqual: named columns as text in key order (booleans as 0/1), for tables
//   whose text forms agree (the seed app, test tables);
// - compareCanonical: every column of every table in canonical form (helpers/canonical.ts), for
//   the type matrix and real schemas where text forms differ (floats, zero dates, JSON, bytes…).

/** Both databases of a test: a Sandbox is one. */
export type Databases = Pick<Sandbox, 'mysql' | 'pg'>;

/** One table to read on both sides. */
export interface SideSpec {
  table: string;
  columns: readonly string[];
  /** Columns both sides are ordered by (default `id`). */
  key?: readonly string[];
  /** Columns PostgreSQL holds as boolean: read as 0/1, as MySQL prints its TINYINT(1). */
  booleans?: readonly string[];
  /** The target's schema (default public). */
  schema?: string;
  /** The table's name in PostgreSQL when my2pg renamed it (default `table`). */
  targetTable?: string;
  /** The columns' names in PostgreSQL when renamed, in the order of `columns` (default `columns`). */
  targetColumns?: readonly string[];
  /** Only the MySQL rows matching this condition (a run's `where`); the target's rows are all read. */
  where?: string;
}

/** Rows as text, NULL as null. */
export type TextRows = (string | null)[][];

/** Opens MySQL and PostgreSQL, runs `body` with both, and closes both whatever happens. */
async function withBothSides<T>(
  db: Databases,
  body: (my: mysql.Connection, pgClient: pg.Client) => Promise<T>,
): Promise<T> {
  const my = await db.mysql();
  try {
    const pgClient = await db.pg();
    try {
      return await body(my, pgClient);
    } finally {
      await pgClient.end();
    }
  } finally {
    await my.end();
  }
}

// Quoted here, not by my2pg's helpers: the comparison shares no code with what it checks.
const q = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
const qq = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const text = (rows: unknown[][]): TextRows => rows.map((r) => r.map((v) => (v === null ? null : String(v))));

/** Reads a table on both sides as text (MySQL's CAST … AS CHAR, PostgreSQL's ::text) in key order. */
export async function readSides(db: Databases, spec: SideSpec): Promise<{ source: TextRows; target: TextRows }> {
  const key = spec.key ?? ['id'];
  const targetColumns = spec.targetColumns ?? spec.columns;
  const targetName = (column: string): string => qq(targetColumns[spec.columns.indexOf(column)] ?? column);
  return withBothSides(db, async (my, pgClient) => {
    const [mysqlRows] = await my.query({
      sql: `SELECT ${spec.columns.map((c) => `CAST(${q(c)} AS CHAR)`).join(', ')} FROM ${q(spec.table)}${spec.where ? ` WHERE (${spec.where})` : ''} ORDER BY ${key.map(q).join(', ')}`,
      rowsAsArray: true,
    });
    const pgResult = await pgClient.query({
      text: `SELECT ${spec.columns.map((c) => (spec.booleans?.includes(c) ? `${targetName(c)}::int::text` : `${targetName(c)}::text`)).join(', ')} FROM ${qq(spec.schema ?? 'public')}.${qq(spec.targetTable ?? spec.table)} AS t ORDER BY ${key.map((k) => `t.${targetName(k)}`).join(', ')}`,
      rowMode: 'array',
    });
    return { source: text(mysqlRows as unknown[][]), target: text(pgResult.rows as unknown[][]) };
  });
}

/**
 * Expects every value of each table in PostgreSQL to equal MySQL's, row by row in key order, and
 * returns the source's row count of each table. A failure names the table and its first
 * differing row (a whole table in one message would print every row of a big one).
 */
export async function expectSidesEqual(
  db: Databases,
  specs: SideSpec | readonly SideSpec[],
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const spec of Array.isArray(specs) ? specs : [specs as SideSpec]) {
    const { source, target } = await readSides(db, spec);
    expect(target.length, `${spec.table}: row count`).toBe(source.length);
    const firstDiff = source.findIndex((row, i) => JSON.stringify(row) !== JSON.stringify(target[i]));
    expect(
      firstDiff === -1 ? null : { row: firstDiff, source: source[firstDiff], target: target[firstDiff] },
      `${spec.table}: first differing row`,
    ).toBeNull();
    counts[spec.table] = source.length;
  }
  return counts;
}

/**
 * Compares every base table of the source (or the `only` ones) with the target's in canonical
 * form, MySQL's session in UTC like the target's timestamps. Returns how many tables and
 * values were compared and one line per differing row (empty when all are equal).
 */
export async function compareCanonical(
  db: Databases,
  options: { schema?: string; only?: readonly string[]; searchPath?: string } = {},
): Promise<{ tables: number; values: number; differences: string[] }> {
  return withBothSides(db, async (my, pgClient) => {
    // The search path reaches PostGIS where the test installed it in a schema of its own.
    if (options.searchPath) await pgClient.query(`SET search_path = ${options.searchPath}`);
    // DATE_FORMAT of a TIMESTAMP prints it in the session zone: UTC, like the target's check.
    await my.query("SET SESSION time_zone = '+00:00'");
    return compareAllTables(my, pgClient, options.schema ?? 'public', options.only);
  });
}

/** The seed app's tables with their columns and boolean columns. */
export const SEED_TABLES: { table: string; columns: string[]; booleans: string[] }[] = [
  {
    table: 'users',
    columns: [
      'id',
      'email',
      'password',
      'nickname',
      'birth_date',
      'role',
      'is_active',
      'profile_message',
      'created_at',
      'updated_at',
    ],
    booleans: ['is_active'],
  },
  { table: 'scores', columns: ['id', 'user_id', 'score', 'game_name', 'created_at', 'updated_at'], booleans: [] },
  {
    table: 'friendships',
    columns: ['id', 'requester_id', 'addressee_id', 'status', 'created_at', 'updated_at'],
    booleans: [],
  },
  { table: 'monthly_scores', columns: ['id', 'user_id', 'year', 'month', 'score', 'updated_at'], booleans: [] },
  {
    table: 'game_visits',
    columns: ['id', 'user_id', 'ip_address', 'user_agent', 'is_logged_in', 'visited_at'],
    booleans: ['is_logged_in'],
  },
];

export const SEED_COUNTS: Record<string, number> = {
  users: 31,
  scores: 4,
  friendships: 6,
  monthly_scores: 31,
  game_visits: 375,
};
export const SEED_NEXT_IDS: Record<string, number> = {
  users: 34,
  scores: 5,
  friendships: 11,
  monthly_scores: 46,
  game_visits: 764,
};
