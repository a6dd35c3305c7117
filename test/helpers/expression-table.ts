import { parseMysqlExpression, UntranslatableError } from '../../src/schema/translate/mysql-parse.js';
import { typeOfPgColumn } from '../../src/schema/translate/sql-types.js';
import { ExpressionTranslator, type TranslateScope } from '../../src/schema/translate/translate-expression.js';
import { quotePg } from '../../src/dialect/postgres/quote.js';

// The expression translator's test table, shared by the unit test (translations as text) and the
// integration test (each translation evaluated by PostgreSQL beside MySQL's own result).

/** The test table: the same columns on both sides, typed as my2pg maps them. */
export const COLUMNS: [name: string, mysqlType: string, pgType: string][] = [
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

/** Columns resolve against {@link COLUMNS}; any other name is refused as unknown. */
const scope: TranslateScope = {
  column(ref) {
    const column = COLUMNS.find(([name]) => name === ref.column.toLowerCase());
    if (!column) throw new UntranslatableError(`unknown column ${ref.column}`);
    return { sql: quotePg(column[0]), type: typeOfPgColumn(column[2]) };
  },
};

/** Translates a MySQL expression: its PostgreSQL value and the same value as text. */
export function translate(expression: string): { value: string; text: string } {
  const translator = new ExpressionTranslator(scope, { immutable: true });
  const value = translator.value(parseMysqlExpression(expression));
  return { value: value.sql, text: translator.asText(value).sql };
}
