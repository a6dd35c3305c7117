import type mysql from 'mysql2/promise';
import type pg from 'pg';

/**
 * Reads a table from both sides as text, each side with its own driver and SQL, and
 * returns the rows in key order. Booleans are compared as 0/1.
 */
export async function readBothSides(
  my: mysql.Connection,
  pgClient: pg.Client,
  table: string,
  columns: string[],
  key: string[],
  options: { schema?: string; booleans?: string[] } = {},
): Promise<{ source: (string | null)[][]; target: (string | null)[][] }> {
  const schema = options.schema ?? 'public';
  const [mysqlRows] = await my.query({
    sql: `SELECT ${columns.map((c) => `CAST(\`${c}\` AS CHAR)`).join(', ')} FROM \`${table}\` ORDER BY ${key.map((k) => `\`${k}\``).join(', ')}`,
    rowsAsArray: true,
  });
  const pgResult = await pgClient.query({
    text: `SELECT ${columns.map((c) => (options.booleans?.includes(c) ? `("${c}")::int::text` : `("${c}")::text`)).join(', ')} FROM "${schema}"."${table}" AS t ORDER BY ${key.map((k) => `t."${k}"`).join(', ')}`,
    rowMode: 'array',
  });
  return {
    source: (mysqlRows as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v)))),
    target: pgResult.rows.map((r: unknown[]) => r.map((v) => (v === null ? null : String(v)))),
  };
}

/** The seed app's tables with their columns and boolean columns. */
export const SEED_TABLES: { table: string; columns: string[]; booleans: string[] }[] = [
  { table: 'users', columns: ['id', 'email', 'password', 'nickname', 'birth_date', 'role', 'is_active', 'profile_message', 'created_at', 'updated_at'], booleans: ['is_active'] },
  { table: 'scores', columns: ['id', 'user_id', 'score', 'game_name', 'created_at', 'updated_at'], booleans: [] },
  { table: 'friendships', columns: ['id', 'requester_id', 'addressee_id', 'status', 'created_at', 'updated_at'], booleans: [] },
  { table: 'monthly_scores', columns: ['id', 'user_id', 'year', 'month', 'score', 'updated_at'], booleans: [] },
  { table: 'game_visits', columns: ['id', 'user_id', 'ip_address', 'user_agent', 'is_logged_in', 'visited_at'], booleans: ['is_logged_in'] },
];

export const SEED_COUNTS: Record<string, number> = { users: 31, scores: 4, friendships: 6, monthly_scores: 31, game_visits: 375 };
export const SEED_NEXT_IDS: Record<string, number> = { users: 34, scores: 5, friendships: 11, monthly_scores: 46, game_visits: 764 };
