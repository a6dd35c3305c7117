import type { SourceColumn } from '../../src/dialect/mysql/catalog.js';
import type { TargetColumn } from '../../src/dialect/postgres/catalog.js';

/** A MySQL column named `c` of this DATA_TYPE, for table-driven unit tests. */
export function src(dataType: string, extra: Partial<SourceColumn> = {}): SourceColumn {
  return {
    name: 'c',
    dataType,
    columnType: dataType,
    unsigned: false,
    nullable: true,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    charset: null,
    maxLength: null,
    numericPrecision: null,
    numericScale: null,
    datetimePrecision: null,
    enumValues: null,
    comment: '',
    ...extra,
  };
}

/** A PostgreSQL column named `c` of this base type and pg_type category. */
export function tgt(typeName: string, category: string): TargetColumn {
  return {
    name: 'c',
    formattedType: typeName,
    typeName,
    category,
    elementType: null,
    notNull: false,
    hasDefault: false,
    identity: '',
    generated: false,
    enumLabels: null,
  };
}
