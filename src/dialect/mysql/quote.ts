import { escape as escapeLiteral } from 'mysql2';
/** Quotes a MySQL identifier with backticks, doubling embedded backticks. */
export function quoteMysql(identifier: string): string {
  return `\`${identifier.replace(/`/g, '``')}\``;
}

/** A string as a MySQL literal (quotes and backslashes escaped, as mysql2 escapes bound values). */
export function escapeMysql(text: string): string {
  return escapeLiteral(text);
}
