import { createHash } from 'node:crypto';
import { literalPg, qualifyPg, quotePg } from '../db/quote.js';
import type { SourceColumn, SourceTable } from './source-catalog.js';
import { mapColumnType } from './type-map.js';
import { DEFAULT_TYPE_MAP_OPTIONS, type TypeMapOptions } from './type-overrides.js';

/** A definition my2pg applies after the load (indexes, foreign keys, CHECK constraints). */
export interface DeferredDefinition {
  kind: 'index' | 'foreign_key' | 'check';
  name: string;
  /** For an index the CREATE INDEX statement; for a foreign key or CHECK the constraint definition. */
  definition: string;
}

/** Everything needed to create one missing target table. */
export interface CreateTablePlan {
  /** Run in order, in the prepare transaction. */
  statements: string[];
  /** Applied by finalize, after the data is in. */
  deferred: DeferredDefinition[];
  warnings: string[];
}

/** A PostgreSQL identifier of at most 63 bytes: long names are cut and given a hash suffix. */
export function fitIdentifier(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= 63) return name;
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 8);
  let cut = name;
  while (Buffer.byteLength(cut, 'utf8') > 54) cut = cut.slice(0, -1);
  return `${cut}_${hash}`;
}

const RULES = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION']);

/**
 * Translates a MySQL column default into PostgreSQL, or null (no default). MariaDB reports
 * defaults as SQL expressions ('text' quoted, NULL as NULL), MySQL reports the bare literal.
 */
export function translateDefault(column: SourceColumn, pgType: string, isMariaDb: boolean): { sql: string | null; warning?: string } {
  const raw = column.defaultValue;
  if (raw === null || column.autoIncrement || column.generated) return { sql: null };
  const trimmed = raw.trim();
  if (/^null$/i.test(trimmed) && (isMariaDb || column.nullable)) return { sql: null };
  if (/^(current_timestamp|now|localtimestamp|localtime)(\(\d*\))?$/i.test(trimmed)) {
    return { sql: pgType === 'date' ? 'CURRENT_DATE' : 'CURRENT_TIMESTAMP' };
  }
  if (/^curdate\(\)$|^current_date(\(\))?$/i.test(trimmed)) return { sql: 'CURRENT_DATE' };
  let literal: string | null = null;
  if (isMariaDb) {
    const quoted = /^'((?:[^'\\]|''|\\.)*)'$/s.exec(trimmed);
    if (quoted) literal = (quoted[1] ?? '').replace(/''/g, "'").replace(/\\(.)/g, '$1');
    else if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(trimmed)) literal = trimmed;
  } else if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(trimmed) || !/[()]/.test(trimmed) || ['char', 'varchar', 'enum', 'set'].includes(column.dataType)) {
    literal = raw;
  }
  const bitLiteral = /^b'([01]+)'$/i.exec(trimmed);
  if (bitLiteral?.[1]) {
    if (/^bit/.test(pgType)) {
      // Same width as the values the copy writes (see convert.ts): the source column's.
      const width = column.numericPrecision ?? bitLiteral[1].length;
      return { sql: `B'${bitLiteral[1].padStart(width, '0').slice(-width)}'` };
    }
    literal = BigInt('0b' + bitLiteral[1]).toString();
  }
  if (literal === null) return { sql: null, warning: `default ${raw} of column ${column.name} is an expression my2pg does not translate; the column has no default` };
  if (pgType === 'boolean') {
    if (literal === '0') return { sql: 'false' };
    if (literal === '1') return { sql: 'true' };
    return { sql: null, warning: `default ${raw} of boolean column ${column.name} is not 0 or 1; dropped` };
  }
  if (/^\d{4}-00-|^\d{4}-\d{2}-00|^0000-/.test(literal)) {
    return { sql: null, warning: `zero-date default ${raw} of column ${column.name} dropped` };
  }
  if (pgType === 'text[]') return { sql: `${literalPg('{' + literal.split(',').filter((x) => x !== '').map((x) => '"' + x.replace(/(["\\])/g, '\\$1') + '"').join(',') + '}')}::text[]` };
  return { sql: literalPg(literal) };
}

/**
 * The DDL for a target table that does not exist yet, from the MySQL definition. Indexes and
 * foreign keys are deferred so the load runs without them.
 */
export function buildCreateTable(
  table: SourceTable,
  schema: string,
  options: {
    columns?: readonly string[] | undefined;
    isMariaDb: boolean;
    knownTables: ReadonlySet<string>;
    /** Overrides, enum mode, PostGIS. */
    types?: TypeMapOptions;
    /** NOT NULL columns that hold zero dates: created nullable, since those values land as NULL. */
    zeroDateColumns?: readonly string[];
    /**
     * Generated columns to create as `GENERATED ALWAYS AS (sql) STORED`, by column (see
     * src/schema/translate). When given, the caller reports the generated columns left plain.
     */
    generated?: ReadonlyMap<string, string>;
  },
): CreateTablePlan {
  const statements: string[] = [];
  const deferred: DeferredDefinition[] = [];
  const warnings: string[] = [];
  const columns = options.columns ? table.columns.filter((c) => options.columns!.includes(c.name)) : table.columns;
  const included = new Set(columns.map((c) => c.name));
  const lines: string[] = [];
  const comments: string[] = [];
  const qualified = qualifyPg(schema, table.name);
  for (const column of columns) {
    const mapped = mapColumnType(column, options.types ?? DEFAULT_TYPE_MAP_OPTIONS, table.name);
    if (mapped.warning) warnings.push(`${table.name}: ${mapped.warning}`);
    let type = mapped.sql;
    let check = '';
    if (mapped.checkLabels) check = ` CHECK (${quotePg(column.name)} IN (${mapped.checkLabels.map(literalPg).join(', ')}))`;
    if (mapped.enumLabels) {
      const typeName = fitIdentifier(`${table.name}_${column.name}`);
      const labels = mapped.enumLabels.map(literalPg).join(', ');
      statements.push(
        `DO $my2pg$ BEGIN CREATE TYPE ${qualifyPg(schema, typeName)} AS ENUM (${labels}); EXCEPTION WHEN duplicate_object THEN NULL; END $my2pg$`,
      );
      type = qualifyPg(schema, typeName);
    }
    let line = `${quotePg(column.name)} ${type}`;
    if (column.autoIncrement) {
      if (!['smallint', 'integer', 'bigint'].includes(type)) {
        warnings.push(`${table.name}: auto-increment column ${column.name} (${column.columnType}) becomes a bigint identity`);
        line = `${quotePg(column.name)} bigint`;
      }
      line += ' GENERATED BY DEFAULT AS IDENTITY';
    } else if (column.generated && options.generated?.has(column.name)) {
      line += ` GENERATED ALWAYS AS (${options.generated.get(column.name)}) STORED`;
    } else {
      const def = translateDefault(column, type, options.isMariaDb);
      if (def.warning) warnings.push(`${table.name}: ${def.warning}`);
      if (def.sql) line += ` DEFAULT ${def.sql}`;
    }
    if (column.generated && !options.generated) warnings.push(`${table.name}: generated column ${column.name} becomes a plain column holding the copied values`);
    if (column.onUpdate) warnings.push(`${table.name}: ON UPDATE ${column.onUpdate} of column ${column.name} is not migrated (PostgreSQL needs a trigger for it)`);
    if (!column.nullable && options.zeroDateColumns?.includes(column.name)) {
      warnings.push(`${table.name}: column ${column.name} is NOT NULL in MySQL but holds zero dates, which land as NULL; created without NOT NULL`);
    } else if (!column.nullable) line += ' NOT NULL';
    line += check;
    lines.push(line);
    if (column.comment) comments.push(`COMMENT ON COLUMN ${qualified}.${quotePg(column.name)} IS ${literalPg(column.comment)}`);
  }
  const pk = table.primaryKey.filter((c) => included.has(c));
  if (pk.length > 0 && pk.length === table.primaryKey.length) lines.push(`PRIMARY KEY (${pk.map(quotePg).join(', ')})`);
  statements.push(`CREATE TABLE ${qualified} (\n  ${lines.join(',\n  ')}\n)`);
  if (table.comment) statements.push(`COMMENT ON TABLE ${qualified} IS ${literalPg(table.comment)}`);
  statements.push(...comments);

  for (const index of table.indexes) {
    if (index.kind === 'FULLTEXT' || index.kind === 'SPATIAL') {
      warnings.push(`${table.name}: ${index.kind} index ${index.name} is not migrated`);
      continue;
    }
    if (index.columns.length === 0 || !index.columns.every((c) => included.has(c))) continue;
    const textual = index.columns.some((c) => {
      const col = table.columns.find((x) => x.name === c);
      return col !== undefined && /text|blob/.test(col.dataType);
    });
    if (index.partial && textual) {
      warnings.push(`${table.name}: prefix index ${index.name} on a TEXT/BLOB column is not migrated`);
      continue;
    }
    const name = fitIdentifier(`${table.name}_${index.name}`);
    deferred.push({
      kind: 'index',
      name,
      definition: `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quotePg(name)} ON ${qualified} (${index.columns.map(quotePg).join(', ')})`,
    });
  }
  for (const fk of table.foreignKeys) {
    if (!fk.columns.every((c) => included.has(c))) continue;
    if (!options.knownTables.has(fk.referencedTable)) {
      warnings.push(`${table.name}: foreign key ${fk.name} references ${fk.referencedTable}, which is not in the target; not created`);
      continue;
    }
    const onDelete = RULES.has(fk.onDelete) ? ` ON DELETE ${fk.onDelete}` : '';
    const onUpdate = RULES.has(fk.onUpdate) ? ` ON UPDATE ${fk.onUpdate}` : '';
    deferred.push({
      kind: 'foreign_key',
      name: fitIdentifier(fk.name),
      definition: `FOREIGN KEY (${fk.columns.map(quotePg).join(', ')}) REFERENCES ${qualifyPg(schema, fk.referencedTable)} (${fk.referencedColumns.map(quotePg).join(', ')})${onDelete}${onUpdate}`,
    });
  }
  return { statements, deferred, warnings };
}
