/**
 * Which followed table a statement of the binary log changes the shape of (ALTER, RENAME,
 * DROP, TRUNCATE, CREATE OR REPLACE of its name; CREATE and DROP INDEX … ON it), or null when it touches none of them.
 * Row changes reach the follower as row events; a statement event that names a followed table
 * after one of these verbs means its rows can no longer be matched as the copy planned them.
 */

const DDL =
  /^\s*(?:\/\*.*?\*\/\s*)*(ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE|RENAME\s+TABLES?|DROP\s+(?:TEMPORARY\s+)?TABLES?|TRUNCATE(?:\s+TABLE)?|CREATE\s+(?:OR\s+REPLACE\s+)?TABLE)\b([\s\S]*)$/i;

const INDEX_DDL =
  /^\s*(?:\/\*.*?\*\/\s*)*(CREATE\s+(?:OR\s+REPLACE\s+)?(?:ONLINE\s+|OFFLINE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX|DROP\s+INDEX)\b[\s\S]*?\bON\s+([\s\S]*)$/i;

/** The followed table of that name (any case), or undefined. */
function followedName(followed: ReadonlySet<string>, name: string): string | undefined {
  return [...followed].find((t) => t.toLowerCase() === name.toLowerCase());
}

/** The table names (`db`.`t`, db.t, `t`, t) a statement's text lists first, up to `limit`; keywords between them are skipped. */
function tableNames(text: string, limit: number): { schema: string | null; name: string }[] {
  const names: { schema: string | null; name: string }[] = [];
  const part = '(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$\\u0080-\\uffff]+))';
  const pattern = new RegExp(`${part}(?:\\s*\\.\\s*${part})?`, 'g');
  for (const m of text.matchAll(pattern)) {
    const first = m[1] !== undefined ? m[1].replace(/``/g, '`') : m[2]!;
    const second = m[3] !== undefined ? m[3].replace(/``/g, '`') : m[4];
    if (m[1] === undefined && second === undefined && /^(IF|NOT|EXISTS|TO|AS|WAIT|NOWAIT|\d+)$/i.test(first)) continue;
    names.push(second === undefined ? { schema: null, name: first } : { schema: first, name: second });
    if (names.length >= limit) break;
  }
  return names;
}

/** A DDL statement's verb (`ALTER TABLE`…) and the followed table it names, or null. */
export function ddlOnFollowedTable(
  statement: string,
  database: string,
  defaultDatabase: string | null,
  followed: ReadonlySet<string>,
): { verb: string; table: string } | null {
  const index = INDEX_DDL.exec(statement);
  if (index) {
    // CREATE INDEX … ON t, DROP INDEX … ON t (what Alembic's create_index and drop_index write).
    const [on] = tableNames(index[2]!, 1);
    const table = on === undefined ? undefined : followedName(followed, on.name);
    const inDatabase = on?.schema ?? defaultDatabase;
    if (table === undefined || inDatabase === null || inDatabase.toLowerCase() !== database.toLowerCase()) return null;
    return { verb: index[1]!.replace(/\s+/g, ' ').toUpperCase(), table };
  }
  const match = DDL.exec(statement);
  if (!match) return null;
  const verb = match[1]!.replace(/\s+/g, ' ').toUpperCase();
  // A CREATE TABLE only matters when it replaces a followed table (CREATE OR REPLACE).
  if (verb.startsWith('CREATE') && !/OR\s+REPLACE/i.test(verb)) return null;
  // Quoted strings (a COMMENT '…', a DEFAULT '…') are not names.
  const body = match[2]!.replace(/'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"/g, ' ');
  const lowerFollowed = new Map([...followed].map((t) => [t.toLowerCase(), t]));
  // ALTER, TRUNCATE, CREATE OR REPLACE change the one table they name first; RENAME and DROP
  // every table of their list.
  const names = tableNames(body, /^(RENAME|DROP)/.test(verb) ? Infinity : 1);
  for (const { schema, name } of names) {
    const table = lowerFollowed.get(name.toLowerCase());
    if (table === undefined) continue;
    const inDatabase = schema ?? defaultDatabase;
    if (inDatabase === null || inDatabase.toLowerCase() === database.toLowerCase()) return { verb, table };
  }
  return null;
}

/**
 * The table a `RENAME TABLE` puts in place of followed table `table` while renaming `table`
 * away (`RENAME TABLE t TO _t_old, _t_new TO t`: the swap pt-online-schema-change and gh-ost end
 * with), or null when the statement does not swap it. Names in another database than `database`
 * do not count.
 */
export function swappedIn(statement: string, table: string, database: string): string | null {
  const match = DDL.exec(statement);
  if (!match || !/^RENAME/i.test(match[1]!)) return null;
  const names = tableNames(match[2]!, Infinity).map(({ schema, name }) =>
    schema === null || schema.toLowerCase() === database.toLowerCase() ? name.toLowerCase() : null,
  );
  const t = table.toLowerCase();
  let away = false;
  let inPlace: string | null = null;
  for (let i = 0; i + 1 < names.length; i += 2) {
    if (names[i] === t && names[i + 1] !== t) away = true;
    if (names[i + 1] === t && names[i] !== null && names[i] !== t) inPlace = names[i]!;
  }
  return away ? inPlace : null;
}

const CREATE = /^\s*(?:\/\*.*?\*\/\s*)*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\s\S]*)$/i;

/**
 * The name of the table a plain `CREATE TABLE` (also `IF NOT EXISTS`, `LIKE`, `… SELECT`) makes
 * in `database`, or null: another statement, a `TEMPORARY` or `OR REPLACE` table, another database.
 */
export function createdTable(statement: string, database: string, defaultDatabase: string | null): string | null {
  const match = CREATE.exec(statement);
  if (!match) return null;
  const [named] = tableNames(match[1]!, 1);
  if (named === undefined) return null;
  const inDatabase = named.schema ?? defaultDatabase;
  return inDatabase !== null && inDatabase.toLowerCase() === database.toLowerCase() ? named.name : null;
}

/**
 * Where a `RENAME TABLE` puts followed table `table` (following its chain: `t TO a, a TO b` puts
 * it at b), or null when the statement leaves it where it is or swaps another table in (see
 * swappedIn). `schema` is null for a name in `database`.
 */
export function renamedTo(
  statement: string,
  table: string,
  database: string,
): { schema: string | null; name: string } | null {
  const match = DDL.exec(statement);
  if (!match || !/^RENAME/i.test(match[1]!) || swappedIn(statement, table, database) !== null) return null;
  const names = tableNames(match[2]!, Infinity).map(({ schema, name }) => ({
    schema: schema === null || schema.toLowerCase() === database.toLowerCase() ? null : schema,
    name,
  }));
  const same = (a: { schema: string | null; name: string }, b: { schema: string | null; name: string }): boolean =>
    a.schema?.toLowerCase() === b.schema?.toLowerCase() && a.name.toLowerCase() === b.name.toLowerCase();
  let at: { schema: string | null; name: string } = { schema: null, name: table };
  for (let i = 0; i + 1 < names.length; i += 2) if (same(names[i]!, at)) at = names[i + 1]!;
  return same(at, { schema: null, name: table }) ? null : at;
}
