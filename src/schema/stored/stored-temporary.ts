import { quotePg } from '../../dialect/postgres/quote.js';
import type { Relation } from '../translate/view-relations.js';
import type { StoredStatement } from './stored-ast.js';
import { StoredCodeError } from './stored-tokens.js';
import { mapStoredType } from './stored-types.js';

/** A temporary table: PostgreSQL's lives in the session as MySQL's does; later statements read it by name. */
export function createTemporaryTable(
  s: Extract<StoredStatement, { kind: 'create-temporary' }>,
  relations: Map<string, Relation>,
): string {
  const columns = s.columns.map((c) => ({ ...c, mapped: mapStoredType(c.type, s.line) }));
  const keys = s.primaryKey.map((key) => {
    const column = columns.find((c) => c.name.toLowerCase() === key.toLowerCase());
    if (!column) throw new StoredCodeError(s.line, `PRIMARY KEY (${key}) names no column`);
    return quotePg(column.name);
  });
  relations.set(s.table, {
    name: s.table,
    targetName: s.table,
    schema: 'pg_temp',
    columns: columns.map((c) => ({ name: c.name, type: c.mapped.type })),
  });
  const definitions = [
    ...columns.map((c) => `${quotePg(c.name)} ${c.mapped.pg}${c.notNull ? ' NOT NULL' : ''}`),
    ...(keys.length > 0 ? [`PRIMARY KEY (${keys.join(', ')})`] : []),
  ];
  // ON COMMIT DROP as well: a result set that reads it keeps it until the caller has fetched it.
  return `CREATE TEMPORARY TABLE ${quotePg(s.table)} (${definitions.join(', ')}) ON COMMIT DROP;`;
}
