/** Quotes a MySQL identifier with backticks, doubling embedded backticks. */
export function quoteMysql(identifier: string): string {
  return `\`${identifier.replace(/`/g, '``')}\``;
}
