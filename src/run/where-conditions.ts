import type { DataSource } from 'typeorm';
import { conditionProblem, mysqlWhere } from '../dialect/mysql/condition.js';
import { prepareSourceSession, queryMysql, withMysqlConnection } from '../dialect/mysql/connection.js';
import { quoteMysql } from '../dialect/mysql/quote.js';

/**
 * Checks the migration file's `where` before anything is written: each key must be a source
 * table the run copies, each condition must pass the guard (conditionProblem) and then MySQL
 * itself, in the session the copy reads in (`SELECT 1 … WHERE (cond) LIMIT 0` reads no row).
 * Returns every problem, each naming its key.
 */
export async function checkWhereConditions(
  source: DataSource,
  where: Readonly<Record<string, string>>,
  sourceTables: readonly string[],
  selectedTables: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  const toAsk: [string, string][] = [];
  for (const [table, condition] of Object.entries(where)) {
    if (!sourceTables.includes(table)) problems.push(`where.${table}: the source has no table ${table}`);
    else if (!selectedTables.includes(table))
      problems.push(
        `where.${table}: table ${table} is not copied by this run (see tables/exclude); remove the condition or include the table`,
      );
    else {
      const problem = conditionProblem(condition);
      if (problem) problems.push(`where.${table}: ${problem}`);
      else toAsk.push([table, condition]);
    }
  }
  if (toAsk.length > 0) {
    await withMysqlConnection(source, async (mysql) => {
      await prepareSourceSession(mysql);
      for (const [table, condition] of toAsk) {
        try {
          await queryMysql(mysql, `SELECT 1 FROM ${quoteMysql(table)}${mysqlWhere([], condition)} LIMIT 0`);
        } catch (error) {
          problems.push(`where.${table}: MySQL refused the condition: ${(error as Error).message}`);
        }
      }
    });
  }
  return problems;
}
