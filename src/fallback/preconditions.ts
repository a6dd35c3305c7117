import type { DataSource } from 'typeorm';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { quoteMysql } from '../dialect/mysql/quote.js';
import { quotePg } from '../dialect/postgres/quote.js';

/** One precondition of `--fallback` (the way back from PostgreSQL to MySQL) that is not met. */
export interface FallbackProblem {
  check: 'fallback';
  /** One line: what is wrong, then the fix. */
  message: string;
}

/** What the way back needs to know about both sides (read by fallbackProblemsOf). */
export interface FallbackPreconditionInput {
  walLevel: string;
  /** max_replication_slots minus the slots that exist. */
  freeSlots: number;
  /** The PostgreSQL user has REPLICATION or is a superuser. */
  replication: boolean;
  pgUser: string;
  /** MySQL privileges the source user holds on the source database (INSERT, UPDATE, DELETE, CREATE), per table where granted per table. */
  mysqlPrivileges: { global: Set<string>; database: Set<string>; tables: Map<string, Set<string>> };
  mysqlUser: string;
  database: string;
  tables: readonly SourceTable[];
}

/** What the reverse follower does on MySQL: write rows, and keep its position in a table it creates. */
const WRITE_PRIVILEGES = ['INSERT', 'UPDATE', 'DELETE'];

/** Pure: every precondition of the way back that is not met, each naming its fix. */
export function fallbackPreconditionProblems(input: FallbackPreconditionInput): FallbackProblem[] {
  const problems: string[] = [];
  if (input.walLevel !== 'logical')
    problems.push(
      `PostgreSQL's wal_level is ${input.walLevel}, the way back needs logical: ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL`,
    );
  if (input.freeSlots < 1)
    problems.push(
      'PostgreSQL has no free replication slot (max_replication_slots are all taken): raise max_replication_slots (ALTER SYSTEM SET max_replication_slots = …, restart) or drop an unused slot (SELECT pg_drop_replication_slot(name))',
    );
  if (!input.replication)
    problems.push(
      `the PostgreSQL user ${input.pgUser} has neither REPLICATION nor superuser, needed to create a logical replication slot: ALTER ROLE ${quotePg(input.pgUser)} REPLICATION`,
    );
  const { global, database, tables } = input.mysqlPrivileges;
  const holds = (privilege: string, table?: string): boolean =>
    global.has(privilege) ||
    global.has('ALL PRIVILEGES') ||
    database.has(privilege) ||
    database.has('ALL PRIVILEGES') ||
    (table !== undefined &&
      (tables.get(table)?.has(privilege) === true || tables.get(table)?.has('ALL PRIVILEGES') === true));
  const lacking = input.tables.filter((t) => WRITE_PRIVILEGES.some((p) => !holds(p, t.name))).map((t) => t.name);
  if (lacking.length > 0)
    problems.push(
      `the MySQL user ${input.mysqlUser} cannot write to ${lacking.slice(0, 5).join(', ')}${lacking.length > 5 ? ` and ${lacking.length - 5} more` : ''}, which the way back writes PostgreSQL's changes to: GRANT INSERT, UPDATE, DELETE ON ${quoteMysql(input.database)}.* TO ${input.mysqlUser}`,
    );
  if (!holds('CREATE'))
    problems.push(
      `the MySQL user ${input.mysqlUser} cannot create the table the way back keeps its position in (${quoteMysql(input.database)}.my2pg_fallback): GRANT CREATE ON ${quoteMysql(input.database)}.* TO ${input.mysqlUser}`,
    );
  const keyless = input.tables.filter((t) => t.primaryKey.length === 0).map((t) => t.name);
  if (keyless.length > 0)
    problems.push(
      `tables without a primary key cannot be followed back (PostgreSQL's logical replication names a changed row by it, and refuses UPDATE and DELETE on a published table without one): ${keyless.slice(0, 5).join(', ')}; add a PRIMARY KEY or exclude them`,
    );
  return problems.map((message) => ({ check: 'fallback', message }));
}

/** Every precondition of the way back that is not met (reads only, on both sides). */
export async function fallbackProblemsOf(
  source: DataSource,
  target: DataSource,
  database: string,
  tables: readonly SourceTable[],
): Promise<FallbackProblem[]> {
  const [pg] = (await target.query(
    `SELECT current_setting('wal_level') AS wal_level, current_user AS pg_user,
            current_setting('max_replication_slots')::int - (SELECT count(*)::int FROM pg_replication_slots) AS free_slots,
            (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user) AS replication`,
  )) as { wal_level: string; pg_user: string; free_slots: number; replication: boolean }[];
  const [me] = (await source.query('SELECT CURRENT_USER() AS me')) as { me: string }[];
  const at = (me?.me ?? '').lastIndexOf('@');
  const grantee = `'${(me?.me ?? '').slice(0, at)}'@'${(me?.me ?? '').slice(at + 1)}'`;
  type Row = { privilege: string; scope: string; name: string | null };
  const rows = (await source.query(
    `SELECT PRIVILEGE_TYPE AS privilege, 'global' AS scope, NULL AS name FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?
     UNION ALL SELECT PRIVILEGE_TYPE, 'database', NULL FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?
     UNION ALL SELECT PRIVILEGE_TYPE, 'table', TABLE_NAME FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND TABLE_SCHEMA = ?`,
    [grantee, grantee, database, grantee, database],
  )) as Row[];
  const global = new Set(rows.filter((r) => r.scope === 'global').map((r) => r.privilege));
  const databasePrivileges = new Set(rows.filter((r) => r.scope === 'database').map((r) => r.privilege));
  const tablePrivileges = new Map<string, Set<string>>();
  for (const r of rows.filter((row) => row.scope === 'table')) {
    const set = tablePrivileges.get(r.name ?? '') ?? new Set<string>();
    set.add(r.privilege);
    tablePrivileges.set(r.name ?? '', set);
  }
  return fallbackPreconditionProblems({
    walLevel: pg?.wal_level ?? 'unknown',
    freeSlots: Number(pg?.free_slots ?? 0),
    replication: pg?.replication === true,
    pgUser: pg?.pg_user ?? 'unknown',
    mysqlPrivileges: { global, database: databasePrivileges, tables: tablePrivileges },
    mysqlUser: grantee,
    database,
    tables,
  });
}
