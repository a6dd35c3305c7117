import type { SourceColumn, SourceForeignKey, SourceIndex, SourceTable } from './source-catalog.js';

export type Row = Record<string, unknown>;

export function str(value: unknown): string {
  if (value === null || value === undefined) return '';
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}
export function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : str(value);
}
function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Parses the labels of `enum('a','b''c')` / `set(...)`. */
function parseEnumLabels(columnType: string): string[] | null {
  const match = /^(?:enum|set)\((.*)\)$/is.exec(columnType.trim());
  if (!match?.[1]) return null;
  const body = match[1];
  const labels: string[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] !== "'") {
      i += 1;
      continue;
    }
    let label = '';
    i += 1;
    while (i < body.length) {
      const ch = body[i];
      if (ch === "'" && body[i + 1] === "'") {
        label += "'";
        i += 2;
      } else if (ch === '\\' && i + 1 < body.length) {
        label += body[i + 1];
        i += 2;
      } else if (ch === "'") {
        i += 1;
        break;
      } else {
        label += ch;
        i += 1;
      }
    }
    labels.push(label);
  }
  return labels;
}

/** A column as information_schema.COLUMNS describes it (`isJsonText`: MariaDB's JSON, a text with a json_valid() check). */
export function sourceColumnOf(row: Row, isJsonText: boolean): SourceColumn {
  const columnType = str(row.columnType).toLowerCase();
  const isJson = isJsonText && /text$/.test(str(row.dataType).toLowerCase());
  const dataType = isJson ? 'json' : str(row.dataType).toLowerCase();
  const extra = str(row.extra).toLowerCase();
  const onUpdate = /\bon update (\S+)/.exec(extra)?.[1] ?? null;
  return {
    name: str(row.name),
    dataType,
    columnType,
    unsigned: /\bunsigned\b/.test(columnType),
    nullable: str(row.nullable) === 'YES',
    defaultValue: strOrNull(row.def),
    autoIncrement: extra.includes('auto_increment'),
    // MySQL says VIRTUAL/STORED GENERATED, MariaDB also PERSISTENT; DEFAULT_GENERATED is only a default.
    generated: /\b(virtual|stored|persistent)\b/.test(extra),
    charset: strOrNull(row.charset),
    maxLength: numOrNull(row.maxLength),
    numericPrecision: numOrNull(row.numPrecision),
    numericScale: numOrNull(row.numScale),
    datetimePrecision: numOrNull(row.dtPrecision),
    enumValues: dataType === 'enum' || dataType === 'set' ? parseEnumLabels(str(row.columnType)) : null,
    comment: str(row.comment),
    onUpdate,
  };
}

/** Adds information_schema.STATISTICS' rows to their tables: the primary key, and each index in order. */
export function addIndexes(tables: Map<string, SourceTable>, indexRows: Row[]): void {
  const indexes = new Map<string, SourceIndex & { table: string }>();
  for (const row of indexRows) {
    const table = tables.get(str(row.tbl));
    if (!table) continue;
    const key = `${table.name}\u0000${str(row.name)}`;
    let index = indexes.get(key);
    if (!index) {
      index = {
        table: table.name,
        name: str(row.name),
        unique: Number(row.nonUnique) === 0,
        columns: [],
        kind: str(row.kind).toUpperCase(),
        partial: false,
        subParts: [],
        functional: false,
      };
      indexes.set(key, index);
    }
    if (row.col === null || row.col === undefined) {
      index.partial = true;
      index.functional = true;
    } else {
      index.columns.push(str(row.col));
      index.subParts!.push(row.subPart === null || row.subPart === undefined ? null : Number(row.subPart));
    }
    if (row.subPart !== null && row.subPart !== undefined) index.partial = true;
  }
  for (const index of indexes.values()) {
    const table = tables.get(index.table);
    if (!table) continue;
    const { table: _ignored, ...rest } = index;
    if (index.name === 'PRIMARY') table.primaryKey = [...index.columns];
    else table.indexes.push(rest);
  }
}

/** Adds the foreign keys' rows (KEY_COLUMN_USAGE with their rules) to their tables. */
export function addForeignKeys(tables: Map<string, SourceTable>, fkRows: Row[]): void {
  const fks = new Map<string, SourceForeignKey & { table: string }>();
  for (const row of fkRows) {
    const key = `${str(row.tbl)}\u0000${str(row.name)}`;
    let fk = fks.get(key);
    if (!fk) {
      fk = {
        table: str(row.tbl),
        name: str(row.name),
        columns: [],
        referencedTable: str(row.refTable),
        referencedColumns: [],
        onDelete: str(row.onDelete),
        onUpdate: str(row.onUpdate),
      };
      fks.set(key, fk);
    }
    fk.columns.push(str(row.col));
    fk.referencedColumns.push(str(row.refCol));
  }
  for (const fk of fks.values()) {
    const { table: tableName, ...rest } = fk;
    tables.get(tableName)?.foreignKeys.push(rest);
  }
}
