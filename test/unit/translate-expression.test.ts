import { describe, expect, it } from 'vitest';
import {
  fixLogicalPrecedence,
  normalizeMysqlSql,
  parseMysqlExpression,
  UntranslatableError,
} from '../../src/schema/translate/mysql-parse.js';
import { translateJsonPath } from '../../src/schema/translate/translate-expression.js';
import { translate } from '../helpers/expression-table.js';

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
    const sql =
      "select concat(`c`.`a`,_utf8mb4' ',`c`.`b`) AS `x` from ((`db`.`c` join `db`.`d` on(`c`.`id` = `d`.`id`)) left join `db`.`e` on(`e`.`id` = `d`.`id`)) where trim(both 'x' from (`c`.`a`)) <> ''";
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
    expect(shape(fixLogicalPrecedence(parseMysqlExpression('a or b xor c and d or e')))).toBe(
      '((a OR (b XOR (c AND d))) OR e)',
    );
    expect(shape(parseMysqlExpression('a and (b or c)'))).toBe('(a AND (b OR c))');
  });

  it('translates JSON paths', () => {
    expect(translateJsonPath('$."a b".c[0]')).toBe("ARRAY['a b', 'c', '0']");
    expect(() => translateJsonPath('$.*')).toThrow(UntranslatableError);
  });
});
