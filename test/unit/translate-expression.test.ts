import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixLogicalPrecedence, normalizeMysqlSql, parseMysqlExpression, UntranslatableError } from '../../src/schema/translate/mysql-parse.js';
import { typeOfPgColumn } from '../../src/schema/translate/sql-types.js';
import { ExpressionTranslator, translateJsonPath, type TranslateScope } from '../../src/schema/translate/translate-expression.js';
import { quotePg } from '../../src/dialect/postgres/quote.js';
import { createSandbox, type Sandbox } from '../helpers/sandbox.js';

/** The test table: the same columns on both sides, typed as my2pg maps them. */
const COLUMNS: [name: string, mysqlType: string, pgType: string][] = [
  ['a', 'VARCHAR(20)', 'varchar(20)'],
  ['b', 'VARCHAR(20)', 'varchar(20)'],
  ['n', 'INT', 'integer'],
  ['m', 'DECIMAL(10,2)', 'numeric(10,2)'],
  ['f', 'DOUBLE', 'double precision'],
  ['d', 'DATE', 'date'],
  ['dt', 'DATETIME', 'timestamp(0)'],
  ['dt3', 'DATETIME(3)', 'timestamp(3)'],
  ['j', 'JSON', 'jsonb'],
  ['flag', 'TINYINT(1)', 'boolean'],
];

/** Rows with the awkward values: NULLs, zero, negatives, multi-byte text. */
const ROWS: (string | number | null)[][] = [
  [1, 'abc', 'def', 5, '1.50', 1.5, '2024-03-05', '2024-03-05 14:07:09', '2024-03-05 14:07:09.125', '{"name":"Ann","tags":["x","y"],"n":2}', 1],
  [2, null, 'zz', 30, null, null, null, null, null, null, 0],
  [3, 'héllo wörld', 'q', -7, '-2.25', -2.25, '1999-12-31', '1999-12-31 23:59:59', '1999-12-31 23:59:59.999', '{"name":"B","tags":[]}', null],
  [4, '', '', 0, '0.00', 0, '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00.000', '{}', 0],
];

const scope: TranslateScope = {
  column(ref) {
    const column = COLUMNS.find(([name]) => name === ref.column.toLowerCase());
    if (!column) throw new UntranslatableError(`unknown column ${ref.column}`);
    return { sql: quotePg(column[0]), type: typeOfPgColumn(column[2]) };
  },
};

function translate(expression: string): { value: string; text: string } {
  const translator = new ExpressionTranslator(scope, { immutable: true });
  const value = translator.value(parseMysqlExpression(expression));
  return { value: value.sql, text: translator.asText(value).sql };
}

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
    await client.query(`CREATE TABLE t (id integer PRIMARY KEY, ${COLUMNS.map(([n, , t]) => `"${n}" ${t}`).join(', ')})`);
    for (const row of ROWS) {
      await my.query(`INSERT INTO t VALUES (${row.map(() => '?').join(', ')})`, row);
      await client.query(`INSERT INTO t VALUES (${row.map((_v, i) => `$${i + 1}`).join(', ')})`, row.map((v, i) => (i === COLUMNS.length && v !== null ? v === 1 : v)));
    }
  });
  afterAll(async () => {
    await my?.end();
    await client?.end();
    await sandbox?.dispose();
  });

  it.each(CASES.map((c, i) => [c, i]))('%s', async (expression, index) => {
    const { text } = translate(String(expression));
    const [mysqlRows] = await my.query({ sql: `SELECT id, CAST((${expression}) AS CHAR) FROM t ORDER BY id`, rowsAsArray: true });
    const column = `c${String(index)}`;
    await client.query(`ALTER TABLE t ADD COLUMN ${column} text GENERATED ALWAYS AS (${text}) STORED`);
    const pgRows = await client.query({ text: `SELECT id, ${column} FROM t ORDER BY id`, rowMode: 'array' });
    const normalize = (rows: unknown[][]): (string | null)[][] => rows.map((r) => r.map((v) => (v === null ? null : String(v))));
    expect(normalize(pgRows.rows as unknown[][]), `PostgreSQL: ${text}`).toEqual(normalize(mysqlRows as unknown[][]));
  });
});

describe('translations, as text', () => {
  it.each([
    ["CONCAT(a, ' ', b)", `("a" || ' ' || "b")`],
    ["concat(`a`,_utf8mb4' ',`b`)", `("a" || ' ' || "b")`],
    ['`n` DIV 3', '("n" / NULLIF(3, 0))'],
    ["json_unquote(json_extract(`j`,_utf8mb4'$.name'))", `("j" #>> ARRAY['name'])`],
    ["`j` ->> _utf8mb4'$.a.b[2]'", `("j" #>> ARRAY['a', 'b', '2'])`],
    ['`n` >= 0 and `n` < 1000 or `n` is null', '((("n" >= 0) AND ("n" < 1000)) OR ("n" IS NULL))'],
    ['((`n` >= 0) and (`n` < 1000))', '(("n" >= 0) AND ("n" < 1000))'],
    ["if(`flag`,'y','n')", `CASE WHEN "flag" THEN 'y' ELSE 'n' END`],
    ["'it''s' = 'it\\'s'", "('it''s' = 'it''s')"],
  ])('%s → %s', (mysqlText, expected) => {
    expect(translate(mysqlText).value).toBe(expected);
  });

  it.each([
    ['UUID()', /UUID/],
    ['RAND()', /RAND/],
    ['SUBSTRING(a, -2)', /position/],
    ["TRIM(BOTH 'ab' FROM a)", /longer than one character/],
    ['(SELECT 1)', /subquery/],
    ['NOW()', /changes over time/],
    ['ROUND(f)', /floating-point/],
    ["DATE_FORMAT(dt, '%U')", /week/],
    ['SOUNDEX(a)', /SOUNDEX/],
    ['n & 3', /operator/],
    ['n > 3 XOR flag', /XOR/],
    ['COUNT(*)', /aggregate/],
    ['missing_column + 1', /unknown column/],
  ])('%s is refused with a reason', (mysqlText, reason) => {
    expect(() => translate(mysqlText)).toThrow(UntranslatableError);
    expect(() => translate(mysqlText)).toThrow(reason);
  });
});

describe('parsing the stored forms', () => {
  it("drops charset introducers and MariaDB's left-nested join parentheses", () => {
    const sql = "select concat(`c`.`a`,_utf8mb4' ',`c`.`b`) AS `x` from ((`db`.`c` join `db`.`d` on(`c`.`id` = `d`.`id`)) left join `db`.`e` on(`e`.`id` = `d`.`id`)) where trim(both 'x' from (`c`.`a`)) <> ''";
    expect(normalizeMysqlSql(sql)).toBe(
      "select concat(`c`.`a`,' ',`c`.`b`) AS `x` from   `db`.`c` join `db`.`d` on(`c`.`id` = `d`.`id`)  left join `db`.`e` on(`e`.`id` = `d`.`id`)  where trim(both 'x' from (`c`.`a`)) <> ''",
    );
  });

  it('groups AND before XOR before OR, left to right, as MySQL does', () => {
    const shape = (node: unknown): string => {
      const n = node as { type: string; operator?: string; left?: unknown; right?: unknown; column?: string };
      return n.type === 'binary_expr' ? `(${shape(n.left)} ${n.operator} ${shape(n.right)})` : String(n.column);
    };
    expect(shape(fixLogicalPrecedence(parseMysqlExpression('a and b or c and d')))).toBe('((a AND b) OR (c AND d))');
    expect(shape(fixLogicalPrecedence(parseMysqlExpression('a or b xor c and d or e')))).toBe('((a OR (b XOR (c AND d))) OR e)');
    expect(shape(parseMysqlExpression('a and (b or c)'))).toBe('(a AND (b OR c))');
  });

  it('translates JSON paths', () => {
    expect(translateJsonPath('$."a b".c[0]')).toBe("ARRAY['a b', 'c', '0']");
    expect(() => translateJsonPath('$.*')).toThrow(UntranslatableError);
  });
});
