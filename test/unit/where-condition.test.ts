import { describe, expect, it } from 'vitest';
import { conditionProblem, mysqlWhere } from '../../src/dialect/mysql/condition.js';

describe('where condition guard', () => {
  it.each([
    "created_at >= '2024-01-01'",
    "name <> 'O''Brien' AND name <> 'O\\'Neil'",
    '(a = 1) OR (b = 2)',
    "note = 'semi; colon -- not # a /* comment */ (' AND `odd)col` = 1",
    'id IN (SELECT id FROM t WHERE x > 0)',
    "title LIKE '%?%'",
    'a - -1 > 0',
  ])('accepts %s', (condition) => {
    expect(conditionProblem(condition)).toBeUndefined();
  });

  it.each([
    ['1; DROP TABLE x', /";"/],
    ['1=1) OR (1=1', /closes a parenthesis the condition did not open/],
    ['1) UNION SELECT 1 FROM mysql.user WHERE (1', /closes a parenthesis/],
    ['(a = 1', /1 "\(" is not closed/],
    ['a = 1 -- the rest', /comment \(--\)/],
    ['a = 1 # the rest', /comment \(#\)/],
    ['a = 1 /*! OR 1 */', /comment \(\/\*\)/],
    ['a = 1 */', /comment \(\*\/\)/],
    ["name = 'open", /string literal starting at character 8 is not closed/],
    ["name = 'ends in a backslash\\'", /not closed/],
    ['`open = 1', /quoted identifier/],
    ['   ', /empty/],
  ])('refuses %s', (condition, message) => {
    expect(conditionProblem(condition)).toMatch(message);
  });

  it('puts the condition last, in parentheses, after bound conditions; refuses an unsafe one', () => {
    expect(mysqlWhere([])).toBe('');
    expect(mysqlWhere(['`id` >= ?'])).toBe(' WHERE `id` >= ?');
    expect(mysqlWhere(['`id` >= ?'], "a = 'x?'")).toBe(" WHERE `id` >= ? AND (a = 'x?')");
    expect(mysqlWhere([], 'a OR b')).toBe(' WHERE (a OR b)');
    expect(() => mysqlWhere([], '1) OR (1')).toThrow(/cannot be used: the "\)" at character 2/);
  });
});
