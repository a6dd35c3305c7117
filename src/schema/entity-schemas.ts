import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { DataSource, EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import { UsageError } from '../core/errors.js';
import type { TableSelection } from '../vocabulary/table-selection.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { mapColumnType } from './type-map.js';

/**
 * The TypeORM description of a source table as my2pg will create it in PostgreSQL: the
 * entity every table gets when the user brings no entities of their own.
 */
export function entitySchemaFor(table: SourceTable): EntitySchema {
  const columns: Record<string, EntitySchemaColumnOptions> = {};
  for (const column of table.columns) {
    const mapped = mapColumnType(column);
    columns[column.name] = {
      name: column.name,
      type: mapped.enumLabels ? 'enum' : (mapped.sql.replace(/\(.*$/, '') as EntitySchemaColumnOptions['type']),
      ...(mapped.enumLabels ? { enum: mapped.enumLabels } : {}),
      nullable: column.nullable,
      primary: table.primaryKey.includes(column.name),
      ...(column.autoIncrement ? { generated: 'increment' as const } : {}),
      ...(column.comment ? { comment: column.comment } : {}),
    };
  }
  return new EntitySchema({ name: table.name, tableName: table.name, columns });
}

/** The table and database column names an EntitySchema describes. */
export function selectionOfEntitySchema(schema: EntitySchema): TableSelection {
  const options = schema.options;
  const columns = Object.entries(options.columns).map(([key, column]) => column?.name ?? key);
  return { table: options.tableName ?? options.name, columns };
}

function looksLikeEntity(value: unknown): boolean {
  if (value instanceof EntitySchema) return true;
  if (typeof value === 'object' && value !== null && 'options' in value) {
    const options = (value as { options?: { columns?: unknown; name?: unknown } }).options;
    return typeof options?.name === 'string' && typeof options.columns === 'object';
  }
  return typeof value === 'function';
}

/** Imports a module of TypeORM entities (EntitySchemas or decorated classes); `.ts` works via tsx. */
async function importEntities(modulePath: string): Promise<unknown[]> {
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`--entities: no such file ${modulePath}`);
  let mod: Record<string, unknown>;
  try {
    if (/\.[cm]?ts$/.test(file)) {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    }
  } catch (error) {
    throw new UsageError(`--entities: cannot load ${modulePath}: ${(error as Error).message}`);
  }
  const found = new Set<unknown>();
  for (const value of Object.values(mod)) {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) if (looksLikeEntity(item)) found.add(item);
  }
  if (found.size === 0)
    throw new UsageError(`--entities: ${modulePath} exports no TypeORM entity (EntitySchema or @Entity class)`);
  return [...found];
}

/**
 * Reads the tables and columns of a user's entities. TypeORM builds their metadata on a
 * DataSource of the target, the same way the application would see them.
 */
export async function loadEntitySelections(modulePath: string, targetUrl: string): Promise<TableSelection[]> {
  const entities = (await importEntities(modulePath)) as DataSource['options']['entities'];
  const dataSource = new DataSource({
    type: 'postgres',
    url: targetUrl,
    entities,
    poolSize: 1,
    synchronize: false,
    logging: false,
  });
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new UsageError(`--entities: TypeORM rejected the entities of ${modulePath}: ${(error as Error).message}`);
  }
  try {
    return dataSource.entityMetadatas
      .filter((m) => m.tableType === 'regular' || m.tableType === 'junction')
      .map((m) => ({ table: m.tableName, columns: m.columns.map((c) => c.databaseName) }));
  } finally {
    await dataSource.destroy();
  }
}
