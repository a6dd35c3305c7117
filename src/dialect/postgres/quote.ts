/** Quotes a PostgreSQL identifier with double quotes, doubling embedded double quotes. */
export function quotePg(identifier: string): string {
  if (identifier.includes('\u0000')) throw new Error('a PostgreSQL identifier cannot contain a NUL character');
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** `"schema"."table"` for PostgreSQL. */
export function qualifyPg(schema: string, table: string): string {
  return `${quotePg(schema)}.${quotePg(table)}`;
}

/** A PostgreSQL string literal, for the few places (DDL defaults, comments) that cannot bind. */
export function literalPg(value: string): string {
  if (value.includes('\u0000')) throw new Error('a PostgreSQL literal cannot contain a NUL character');
  return `'${value.replace(/'/g, "''")}'`;
}
