import { describe, expect, it } from 'vitest';
import { encodeCopyValue } from '../../src/dialect/postgres/copy-text.js';
import { quoteMysql } from '../../src/dialect/mysql/quote.js';
import { qualifyPg, quotePg } from '../../src/dialect/postgres/quote.js';

describe('identifier quoting', () => {
  it.each([
    ['users', '`users`', '"users"'],
    ['we`ird', '`we``ird`', '"we`ird"'],
    ['x"; DROP TABLE victims; --', '`x"; DROP TABLE victims; --`', '"x""; DROP TABLE victims; --"'],
    ['사용자 표', '`사용자 표`', '"사용자 표"'],
    ['select', '`select`', '"select"'],
  ])('%s', (name, mysql, pg) => {
    expect(quoteMysql(name)).toBe(mysql);
    expect(quotePg(name)).toBe(pg);
  });
  it('qualifies schema and table', () => {
    expect(qualifyPg('my"s', 't')).toBe('"my""s"."t"');
  });
});

describe('COPY text encoding', () => {
  it.each<[string | null, string]>([
    [null, '\\N'],
    ['plain', 'plain'],
    ['a\tb', 'a\\tb'],
    ['line1\nline2', 'line1\\nline2'],
    ['cr\r', 'cr\\r'],
    ['back\\slash', 'back\\\\slash'],
    ['\\N', '\\\\N'],
    ['', ''],
    ['🎮 게임', '🎮 게임'],
  ])('%j → %j', (value, encoded) => {
    expect(encodeCopyValue(value)).toBe(encoded);
  });
});
