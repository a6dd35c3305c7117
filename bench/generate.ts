import mysql from 'mysql2/promise';

/** Row counts of the five seed tables for `users` = N. */
export function tableSizes(users: number): Record<BenchTable, number> {
  return { users, scores: 5 * users, friendships: users, monthly_scores: 5 * users, game_visits: 20 * users };
}

export type BenchTable = 'users' | 'scores' | 'friendships' | 'monthly_scores' | 'game_visits';
export const BENCH_TABLES: BenchTable[] = ['users', 'scores', 'friendships', 'monthly_scores', 'game_visits'];

/**
 * The seed app's schema (fixtures/seed-app/mysql.sql) with the types a real app adds: utf8mb4
 * text in several scripts, JSON, DECIMAL, DATETIME(6), BIGINT UNSIGNED, and NULLs.
 */
const MYSQL_DDL: Record<BenchTable, string> = {
  users: `CREATE TABLE users (
    id INT NOT NULL AUTO_INCREMENT, email VARCHAR(255) NOT NULL, password VARCHAR(255) NOT NULL,
    nickname VARCHAR(50) NOT NULL, birth_date DATE NULL, role VARCHAR(20) NOT NULL DEFAULT 'user',
    is_active TINYINT(1) NOT NULL DEFAULT 1, profile_message TEXT NULL, balance DECIMAL(12,2) NOT NULL DEFAULT 0,
    settings JSON NULL, created_at DATETIME(6) NOT NULL, updated_at DATETIME NULL,
    PRIMARY KEY (id), UNIQUE KEY ix_users_email (email), KEY ix_users_id (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  scores: `CREATE TABLE scores (
    id INT NOT NULL AUTO_INCREMENT, user_id INT NOT NULL, score INT NOT NULL,
    game_name VARCHAR(50) NOT NULL DEFAULT 'tetris', created_at DATETIME(6) NOT NULL, updated_at DATETIME NULL,
    PRIMARY KEY (id), KEY ix_scores_user_id (user_id),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  friendships: `CREATE TABLE friendships (
    id INT NOT NULL AUTO_INCREMENT, requester_id INT NOT NULL, addressee_id INT NOT NULL,
    status ENUM('PENDING','ACCEPTED','REJECTED') NOT NULL DEFAULT 'PENDING', created_at DATETIME NOT NULL, updated_at DATETIME NULL,
    PRIMARY KEY (id), UNIQUE KEY uq_friendship (requester_id, addressee_id),
    FOREIGN KEY (requester_id) REFERENCES users (id) ON DELETE CASCADE,
    FOREIGN KEY (addressee_id) REFERENCES users (id) ON DELETE CASCADE
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  monthly_scores: `CREATE TABLE monthly_scores (
    id INT NOT NULL AUTO_INCREMENT, user_id INT NOT NULL, year INT NOT NULL, month INT NOT NULL,
    score INT NOT NULL DEFAULT 0, updated_at DATETIME NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY uq_user_year_month (user_id, year, month),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  game_visits: `CREATE TABLE game_visits (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, user_id INT NULL, ip_address VARCHAR(45) NOT NULL,
    user_agent VARCHAR(512) NULL, is_logged_in TINYINT(1) NOT NULL DEFAULT 0, bytes_sent BIGINT UNSIGNED NULL,
    visited_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id), KEY ix_game_visits_visited_at (visited_at),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
};

/** Bare PostgreSQL tables (same types as my2pg creates, no key, no index) for the raw floor. */
export const FLOOR_PG_DDL: Record<BenchTable, string> = {
  users: `CREATE TABLE users (id integer, email varchar(255), password varchar(255), nickname varchar(50), birth_date date, role varchar(20), is_active boolean, profile_message text, balance numeric(12,2), settings jsonb, created_at timestamp(6), updated_at timestamp(0))`,
  scores: `CREATE TABLE scores (id integer, user_id integer, score integer, game_name varchar(50), created_at timestamp(6), updated_at timestamp(0))`,
  friendships: `CREATE TABLE friendships (id integer, requester_id integer, addressee_id integer, status text, created_at timestamp(0), updated_at timestamp(0))`,
  monthly_scores: `CREATE TABLE monthly_scores (id integer, user_id integer, year integer, month integer, score integer, updated_at timestamp(0))`,
  game_visits: `CREATE TABLE game_visits (id numeric(20), user_id integer, ip_address varchar(45), user_agent varchar(512), is_logged_in boolean, bytes_sent numeric(20), visited_at timestamp(6))`,
};

/**
 * INSERT … SELECT from a numbers table: the server generates every row, nothing is built in JS.
 * `{n}` is the row number, `{N}` the user count. Values are deterministic.
 */
const FILL: Record<BenchTable, string> = {
  users: `INSERT INTO users (id, email, password, nickname, birth_date, role, is_active, profile_message, balance, settings, created_at, updated_at)
    SELECT n, CONCAT('user', n, '@example.com'), CONCAT('$2b$12$', MD5(n), 'abcdefghijklmnopqrstu'),
      CONCAT(ELT(1 + n % 5, 'player', '게이머', 'joueur', 'игрок', 'プレイヤー'), n, IF(n % 3 = 0, '🎮', '')),
      IF(n % 10 = 0, NULL, DATE('1970-01-01') + INTERVAL (n * 37 % 15000) DAY),
      IF(n % 100 = 0, 'admin', 'user'), n % 17 <> 0,
      IF(n % 4 = 0, NULL, CONCAT('안녕하세요! I play tetris #', n, '\\t"quoted"\\nsecond line \\\\ ✨')),
      (n * 7919 % 10000000) / 100,
      IF(n % 5 = 0, NULL, JSON_OBJECT('theme', IF(n % 2 = 0, 'dark', 'light'), 'lang', ELT(1 + n % 3, 'ko', 'en', 'fr'), 'n', n)),
      TIMESTAMP('2020-01-01 00:00:00') + INTERVAL (n * 1234567) MICROSECOND,
      IF(n % 3 = 0, NULL, TIMESTAMP('2023-01-01 00:00:00') + INTERVAL n SECOND)
    FROM bench_seq WHERE n <= {N}`,
  scores: `INSERT INTO scores (id, user_id, score, game_name, created_at, updated_at)
    SELECT n, 1 + (n * 7) % {N}, (n * 7919) % 1000000, ELT(1 + n % 4, 'tetris', 'snake', '2048', 'pac-man'),
      TIMESTAMP('2021-01-01 00:00:00') + INTERVAL (n * 987654) MICROSECOND,
      IF(n % 2 = 0, NULL, TIMESTAMP('2024-01-01 00:00:00') + INTERVAL n SECOND)
    FROM bench_seq WHERE n <= 5 * {N}`,
  friendships: `INSERT INTO friendships (id, requester_id, addressee_id, status, created_at, updated_at)
    SELECT n, n, 1 + (n * 13) % {N}, ELT(1 + n % 3, 'PENDING', 'ACCEPTED', 'REJECTED'),
      TIMESTAMP('2022-01-01 00:00:00') + INTERVAL n SECOND, IF(n % 3 = 0, NULL, TIMESTAMP('2022-06-01 00:00:00') + INTERVAL n SECOND)
    FROM bench_seq WHERE n <= {N}`,
  monthly_scores: `INSERT INTO monthly_scores (id, user_id, year, month, score, updated_at)
    SELECT n, 1 + (n - 1) % {N}, 2024 + ((n - 1) DIV {N}) DIV 12, 1 + ((n - 1) DIV {N}) % 12, (n * 31) % 100000,
      TIMESTAMP('2024-01-01 00:00:00') + INTERVAL n SECOND
    FROM bench_seq WHERE n <= 5 * {N}`,
  game_visits: `INSERT INTO game_visits (id, user_id, ip_address, user_agent, is_logged_in, bytes_sent, visited_at)
    SELECT n, IF(n % 3 = 0, NULL, 1 + (n * 11) % {N}),
      IF(n % 5 = 0, CONCAT('2001:db8::', HEX(n % 65536)), CONCAT('10.', n % 256, '.', (n DIV 256) % 256, '.', (n DIV 65536) % 256)),
      IF(n % 7 = 0, NULL, CONCAT(ELT(1 + n % 3, 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148', 'curl/8.5.0'), ' #', n)),
      n % 2, IF(n % 11 = 0, NULL, IF(n % 13 = 0, 18446744073709551615 - n, n * 1543)),
      TIMESTAMP('2024-01-01 00:00:00') + INTERVAL (n * 15003) MICROSECOND
    FROM bench_seq WHERE n <= 20 * {N}`,
};

/** Drops and recreates `database` and fills it; returns the row counts. */
export async function generateSourceDatabase(
  serverUrl: string,
  database: string,
  users: number,
  options: {
    tables?: BenchTable[];
    rowsOverride?: Partial<Record<BenchTable, number>>;
    log?: (line: string) => void;
  } = {},
): Promise<Record<string, number>> {
  const log = options.log ?? (() => undefined);
  const tables = options.tables ?? BENCH_TABLES;
  const sizes = { ...tableSizes(users), ...options.rowsOverride };
  const conn = await mysql.createConnection({ uri: serverUrl, multipleStatements: false, charset: 'utf8mb4' });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.query(`USE \`${database}\``);
    await conn.query('SET SESSION foreign_key_checks = 0');
    await conn.query('SET SESSION unique_checks = 0');
    await conn.query("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'");
    // A numbers table built by doubling: works on MySQL and MariaDB, no recursion limits.
    const need = Math.max(1, ...tables.map((t) => sizes[t]));
    await conn.query('CREATE TABLE bench_seq (n INT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB');
    await conn.query('INSERT INTO bench_seq VALUES (1)');
    for (let have = 1; have < need; have *= 2) {
      await conn.query('INSERT INTO bench_seq SELECT n + ? FROM bench_seq WHERE n + ? <= ?', [have, have, need]);
    }
    // users must exist for the foreign keys' DDL even when only some tables are generated.
    for (const table of BENCH_TABLES)
      if (table === 'users' || tables.includes(table)) await conn.query(MYSQL_DDL[table]);
    const counts: Record<string, number> = {};
    for (const table of tables) {
      const started = Date.now();
      const n = sizes[table];
      // The fill formulas scale with N; a row override sets the count by itself.
      const sql = FILL[table]
        .replace(/WHERE n <= [^\n]*$/, `WHERE n <= ${n}`)
        .replaceAll('{N}', String(Math.max(1, users)));
      await conn.query(sql);
      counts[table] = n;
      log(`generated ${table}: ${n} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    await conn.query('DROP TABLE bench_seq');
    await conn.query(`ANALYZE TABLE ${tables.map((t) => `\`${t}\``).join(', ')}`);
    return counts;
  } finally {
    await conn.end();
  }
}

/** Data size in MySQL (DATA_LENGTH, without indexes), bytes. */
export async function sourceDataBytes(serverUrl: string, database: string): Promise<number> {
  const conn = await mysql.createConnection({ uri: serverUrl });
  try {
    const [rows] = await conn.query(
      'SELECT COALESCE(SUM(DATA_LENGTH), 0) AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
      [database],
    );
    return Number((rows as { bytes: string }[])[0]?.bytes ?? 0);
  } finally {
    await conn.end();
  }
}

/** The wide-rows table: each row about `rowMb` MB, half LONGTEXT (tabs, backslashes, newlines, emoji, Hangul), half LONGBLOB. */
export const WIDE_TABLE = 'wide_rows';

/**
 * Drops and recreates `database` with one table of `rows` wide rows, generated by the server
 * (REPEAT of a text piece and of 1 kB of random bytes). Building a value bigger than the
 * server's max_allowed_packet needs a bigger one: the global value is raised for the
 * generating session only and put back at once.
 */
export async function generateWideDatabase(
  serverUrl: string,
  database: string,
  rows: number,
  rowMb: number,
  options: { log?: (line: string) => void } = {},
): Promise<Record<string, number>> {
  const log = options.log ?? (() => undefined);
  const admin = await mysql.createConnection({ uri: serverUrl });
  const [current] = await admin.query('SELECT @@GLOBAL.max_allowed_packet AS m');
  const before = Number((current as { m: number }[])[0]!.m);
  const piece = 'tab\there \\back\\slash 🎮 게임 line\n';
  const textBytes = Math.round((rowMb * 1024 * 1024) / 2);
  await admin.query('SET GLOBAL max_allowed_packet = ?', [Math.max(before, 4 * textBytes + 1024 * 1024)]);
  try {
    const conn = await mysql.createConnection({ uri: serverUrl, charset: 'utf8mb4' });
    try {
      await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
      await conn.query(`USE \`${database}\``);
      await conn.query(
        `CREATE TABLE ${WIDE_TABLE} (id INT NOT NULL PRIMARY KEY, body LONGTEXT NOT NULL, data LONGBLOB NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      );
      const started = Date.now();
      const repeat = Math.max(1, Math.round(textBytes / Buffer.byteLength(piece)));
      for (let id = 1; id <= rows; id += 1) {
        await conn.query(
          `INSERT INTO ${WIDE_TABLE} VALUES (?, CONCAT('row ', ?, ' ', REPEAT(?, ?)), REPEAT(RANDOM_BYTES(1024), ?))`,
          [id, id, piece, repeat, Math.max(1, Math.round(textBytes / 1024))],
        );
      }
      await conn.query(`ANALYZE TABLE ${WIDE_TABLE}`);
      log(
        `generated ${WIDE_TABLE}: ${rows} rows of about ${rowMb} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    } finally {
      await conn.end();
    }
  } finally {
    await admin.query('SET GLOBAL max_allowed_packet = ?', [before]).finally(() => admin.end());
  }
  return { [WIDE_TABLE]: rows };
}

/** Column types of the many-tables schema, a Magento-like mix. */
const MANY_COLUMN_TYPES = [
  ['VARCHAR(255) NULL', (n: string) => `CONCAT('name-', ${n}, IF(${n} % 5 = 0, ' ünïcödé 🎈', ''))`],
  ['INT NOT NULL DEFAULT 0', (n: string) => `${n} * 7 % 1000`],
  ['DECIMAL(12,4) NULL', (n: string) => `IF(${n} % 9 = 0, NULL, ${n} * 3.1415)`],
  ['DATETIME NULL', (n: string) => `'2024-01-01 00:00:00' + INTERVAL ${n} MINUTE`],
  ['TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP', (n: string) => `'2023-06-01 12:00:00' + INTERVAL ${n} SECOND`],
  ['TINYINT(1) NOT NULL DEFAULT 1', (n: string) => `${n} % 2`],
  ['TEXT NULL', (n: string) => `IF(${n} % 4 = 0, NULL, CONCAT('line one\\tand\\\\two\\n', ${n}))`],
  [
    "ENUM('new','processing','complete','canceled') NOT NULL DEFAULT 'new'",
    (n: string) => `ELT(1 + ${n} % 4, 'new', 'processing', 'complete', 'canceled')`,
  ],
  ['SMALLINT UNSIGNED NULL', (n: string) => `${n} % 60000`],
  ['DATE NULL', (n: string) => `'2020-01-01' + INTERVAL ${n} DAY`],
  ['DOUBLE NULL', (n: string) => `${n} / 7`],
  ['JSON NULL', (n: string) => `IF(${n} % 3 = 0, NULL, JSON_OBJECT('k', ${n}, 'tags', JSON_ARRAY('a', 'b')))`],
  ['BIGINT UNSIGNED NULL', (n: string) => `${n} * 1000003`],
  ['VARBINARY(64) NULL', (n: string) => `UNHEX(MD5(${n}))`],
] as const;

/**
 * Drops and recreates `database` with `tables` small tables holding `rows` rows in all (a
 * Magento-like schema: varied types, secondary and unique indexes, foreign keys to earlier
 * tables; a few big tables, most with a handful of rows, some empty). Deterministic.
 */
export async function generateManyTablesDatabase(
  serverUrl: string,
  database: string,
  tables: number,
  rows: number,
  options: { log?: (line: string) => void } = {},
): Promise<Record<string, number>> {
  const log = options.log ?? (() => undefined);
  const conn = await mysql.createConnection({ uri: serverUrl, charset: 'utf8mb4', multipleStatements: true });
  const started = Date.now();
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await conn.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await conn.query(`USE \`${database}\``);
    await conn.query('SET SESSION foreign_key_checks = 0');
    // Rows per table: a long tail (Zipf-like weights), about a tenth of the tables empty.
    const weights = Array.from({ length: tables }, (_, i) => (i % 10 === 9 ? 0 : 1 / (1 + (i % 37))));
    const total = weights.reduce((a, b) => a + b, 0);
    const counts = weights.map((w) => Math.round((w / total) * rows));
    await conn.query('CREATE TABLE many_seq (n INT NOT NULL PRIMARY KEY)');
    const most = Math.max(1, ...counts);
    await conn.query(`INSERT INTO many_seq VALUES ${Array.from({ length: most }, (_, i) => `(${i + 1})`).join(',')}`);
    const out: Record<string, number> = {};
    for (let t = 0; t < tables; t += 1) {
      const name = `t${String(t).padStart(3, '0')}_${['catalog', 'sales', 'customer', 'quote', 'cms', 'eav'][t % 6]}`;
      const columns = Array.from(
        { length: 3 + (t % 9) },
        (_, c) => MANY_COLUMN_TYPES[(t + c * 5) % MANY_COLUMN_TYPES.length]!,
      );
      // Columns an index can cover whole (no TEXT, JSON or prefix).
      const indexable = columns
        .map(([type], c) =>
          /^(VARCHAR|INT|DECIMAL|DATETIME|TIMESTAMP|SMALLINT|DATE |BIGINT)/.test(type) ? `c${c}` : null,
        )
        .filter((c): c is string => c !== null);
      const parents =
        t >= 10
          ? [
              `t${String((t * 7) % t).padStart(3, '0')}`,
              ...(t % 3 === 0 ? [`t${String((t * 13) % t).padStart(3, '0')}`] : []),
            ]
          : [];
      const parentNames = parents.map(
        (p) => `${p}_${['catalog', 'sales', 'customer', 'quote', 'cms', 'eav'][Number(p.slice(1)) % 6]}`,
      );
      const defs = [
        'entity_id INT UNSIGNED NOT NULL AUTO_INCREMENT',
        ...parentNames.map((_p, i) => `parent_${i}_id INT UNSIGNED NULL`),
        ...columns.map(([type], c) => `c${c} ${type}`),
        'PRIMARY KEY (entity_id)',
        ...parentNames.map((_p, i) => `KEY ix_parent_${i} (parent_${i}_id)`),
        ...(t % 4 === 0 && indexable.length > 0 ? [`UNIQUE KEY uq_${indexable[0]} (${indexable[0]}, entity_id)`] : []),
        ...(t % 3 === 1 && indexable.length > 0
          ? [`KEY ix_${indexable.slice(0, 2).join('_')} (${indexable.slice(0, 2).join(', ')})`]
          : []),
        ...parentNames.map(
          (p, i) =>
            `CONSTRAINT fk_${name}_${i} FOREIGN KEY (parent_${i}_id) REFERENCES \`${p}\` (entity_id) ON DELETE CASCADE`,
        ),
      ];
      await conn.query(`CREATE TABLE \`${name}\` (${defs.join(', ')}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      const n = counts[t]!;
      if (n > 0) {
        // Every reference points at a row its parent has (or is NULL): the foreign keys hold.
        const parentValues = parents.map((p, i) => {
          const have = counts[Number(p.slice(1))] ?? 0;
          return have === 0 ? 'NULL' : `IF(n % ${3 + i} = 0, NULL, 1 + n % ${have})`;
        });
        await conn.query(
          `INSERT INTO \`${name}\` (${['entity_id', ...parentNames.map((_p, i) => `parent_${i}_id`), ...columns.map((_c, c) => `c${c}`)].join(', ')})
           SELECT n, ${[...parentValues, ...columns.map(([, value]) => value('n'))].join(', ')} FROM many_seq WHERE n <= ${n}`,
        );
      }
      out[name] = n;
    }
    await conn.query('DROP TABLE many_seq');
    // Foreign keys that point at rows the long tail lacks are set to NULL (MySQL itself would refuse them).
    await conn.query('SET SESSION foreign_key_checks = 1');
    await conn.query(
      `ANALYZE TABLE ${Object.keys(out)
        .map((t) => `\`${t}\``)
        .join(', ')}`,
    );
    log(
      `generated ${tables} tables, ${Object.values(out).reduce((a, b) => a + b, 0)} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return out;
  } finally {
    await conn.end();
  }
}
