import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMNS, translate } from '../helpers/expression-table.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

/** Rows with the awkward values: NULLs, zero, negatives, multi-byte text. */
const ROWS: (string | number | null)[][] = [
  [
    1,
    'abc',
    'def',
    5,
    '1.50',
    1.5,
    '2024-03-05',
    '2024-03-05 14:07:09',
    '2024-03-05 14:07:09.125',
    '{"name":"Ann","tags":["x","y"],"n":2}',
    1,
  ],
  [2, null, 'zz', 30, null, null, null, null, null, null, 0],
  [
    3,
    'héllo wörld',
    'q',
    -7,
    '-2.25',
    -2.25,
    '1999-12-31',
    '1999-12-31 23:59:59',
    '1999-12-31 23:59:59.999',
    '{"name":"B","tags":[]}',
    null,
  ],
  [4, '', '', 0, '0.00', 0, '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000', '{}', 0],
];

/**
 * Each MySQL expression is evaluated by MySQL (as CAST(… AS CHAR), i.e. as CONCAT would print
 * it) and its translation by PostgreSQL, inside a GENERATED ALWAYS … STORED column (so the
 * translation is proven IMMUTABLE too), on the same rows; the texts must be equal.
 */
const CASES: string[] = [
  "CONCAT(a, ' ', b)",
  "CONCAT(a, '|', n, '|', m, '|', f, '|', flag)",
  "CONCAT(d, ' / ', dt, ' / ', dt3)",
  "CONCAT('x', 'y')",
  "CONCAT_WS('-', a, NULL, b, n)",
  'CONCAT_WS(NULL, a, b)',
  'n / 3',
  'm / 7',
  'n / 0',
  '(n / 3) * 3',
  'm * n / 4',
  'n DIV 3',
  'm DIV 2',
  'n % 4',
  'MOD(n, 0)',
  'n + m * 2 - f',
  'CHAR_LENGTH(a)',
  'LENGTH(a)',
  'LEFT(a, 2)',
  'RIGHT(a, 3)',
  'SUBSTRING(a, 2, 3)',
  'SUBSTR(a, 2)',
  'MID(a, 3, 100)',
  'UPPER(a)',
  'LOWER(b)',
  "TRIM(CONCAT('  ', b, ' '))",
  "TRIM(BOTH 'z' FROM b)",
  "IF(n > 10, 'big', 'small')",
  'IF(flag, n, m)',
  "IFNULL(a, 'none')",
  "COALESCE(a, b, 'x')",
  'NULLIF(n, 5)',
  "CASE WHEN n < 0 THEN 'neg' WHEN n = 0 THEN 'zero' ELSE 'pos' END",
  "CASE n WHEN 5 THEN 'five' WHEN 30 THEN 'thirty' END",
  "JSON_UNQUOTE(JSON_EXTRACT(j, '$.name'))",
  "JSON_UNQUOTE(JSON_EXTRACT(j, '$.tags[1]'))",
  "JSON_EXTRACT(j, '$.name')",
  "JSON_EXTRACT(j, '$.n')",
  'YEAR(dt)',
  'MONTH(d)',
  'DAY(dt3)',
  'HOUR(dt)',
  'DATE(dt)',
  "DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s')",
  "DATE_FORMAT(d, '%W %M %D %Y')",
  "DATE_FORMAT(dt, '%h:%i %p, %a %b %e %c %y %k %l %j')",
  "DATE_FORMAT(dt3, '%T.%f %r %%')",
  "DATE_FORMAT(d, 'no specifiers')",
  "n > 3 AND a IS NOT NULL OR b = 'zz'",
  "b = 'zz' OR n > 3 AND a IS NOT NULL",
  'NOT flag',
  'flag + 1',
  '(n > 3) XOR flag',
  'IF(flag, 1.5, m)',
  'n BETWEEN 1 AND 10',
  'n IN (5, 30)',
  'n NOT IN (5, 30)',
  'GREATEST(n, 3)',
  'LEAST(m, 1)',
  'ROUND(m, 1)',
  'TRUNCATE(m, 1)',
  'ABS(n)',
  'CEIL(m)',
  'FLOOR(m)',
  "REPLACE(a, 'l', 'L')",
  "LPAD(b, 4, '*')",
  'REVERSE(a)',
  "LOCATE('l', a)",
  "a LIKE 'a%'",
  "a REGEXP '^[a-h]'",
  'DATE_ADD(d, INTERVAL 1 MONTH)',
  'd - INTERVAL 2 DAY',
  'dt + INTERVAL 90 MINUTE',
  'DATEDIFF(dt, d)',
  'DAYOFWEEK(d)',
  'WEEKDAY(d)',
  'CAST(m AS SIGNED)',
  'CAST(n AS CHAR)',
  'CAST(f AS DECIMAL(10,3))',
  'CAST(a AS CHAR(2))',
  'f * 2',
  "x'4142' IS NOT NULL",
];

describe('MySQL expressions evaluated on both sides', () => {
  let sandbox: Sandbox;
  let my: mysql.Connection;
  let client: pg.Client;
  beforeAll(async () => {
    sandbox = await createSandbox('translate');
    my = await sandbox.mysql();
    client = await sandbox.pg();
    await my.query(`CREATE TABLE t (id INT PRIMARY KEY, ${COLUMNS.map(([n, t]) => `\`${n}\` ${t}`).join(', ')})`);
    await client.query(
      `CREATE TABLE t (id integer PRIMARY KEY, ${COLUMNS.map(([n, , t]) => `"${n}" ${t}`).join(', ')})`,
    );
    for (const row of ROWS) {
      await my.query(`INSERT INTO t VALUES (${row.map(() => '?').join(', ')})`, row);
      await client.query(
        `INSERT INTO t VALUES (${row.map((_v, i) => `$${i + 1}`).join(', ')})`,
        row.map((v, i) => (i === COLUMNS.length && v !== null ? v === 1 : v)),
      );
    }
  });
  afterAll(async () => {
    await my?.end();
    await client?.end();
    await sandbox?.dispose();
  });

  it.each(CASES.map((c, i) => [c, i]))('%s', async (expression, index) => {
    const { text } = translate(String(expression));
    const [mysqlRows] = await my.query({
      sql: `SELECT id, CAST((${expression}) AS CHAR) FROM t ORDER BY id`,
      rowsAsArray: true,
    });
    const column = `c${String(index)}`;
    await client.query(`ALTER TABLE t ADD COLUMN ${column} text GENERATED ALWAYS AS (${text}) STORED`);
    const pgRows = await client.query({ text: `SELECT id, ${column} FROM t ORDER BY id`, rowMode: 'array' });
    const normalize = (rows: unknown[][]): (string | null)[][] =>
      rows.map((r) => r.map((v) => (v === null ? null : String(v))));
    expect(normalize(pgRows.rows as unknown[][]), `PostgreSQL: ${text}`).toEqual(normalize(mysqlRows as unknown[][]));
  });
});
