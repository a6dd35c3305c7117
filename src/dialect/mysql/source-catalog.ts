import type { SourcePartitioning } from './partitions.js';

/** One column of a MySQL table, as information_schema describes it. */
export interface SourceColumn {
  name: string;
  /** DATA_TYPE, lower case: `int`, `varchar`, `enum`, … */
  dataType: string;
  /** COLUMN_TYPE, lower case: `int(10) unsigned`, `tinyint(1)`, `enum('a','b')`. */
  columnType: string;
  unsigned: boolean;
  nullable: boolean;
  /** COLUMN_DEFAULT as the server reports it (MariaDB quotes literals, MySQL does not). */
  defaultValue: string | null;
  autoIncrement: boolean;
  /** A VIRTUAL or STORED generated column. */
  generated: boolean;
  charset: string | null;
  maxLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  datetimePrecision: number | null;
  /** Labels of an ENUM or SET column. */
  enumValues: string[] | null;
  comment: string;
  /** `current_timestamp()` for `ON UPDATE CURRENT_TIMESTAMP` columns (not migrated: PostgreSQL has no such clause). */
  onUpdate?: string | null;
}

/** A secondary or unique index. */
export interface SourceIndex {
  name: string;
  unique: boolean;
  columns: string[];
  /** BTREE, HASH, FULLTEXT, SPATIAL. */
  kind: string;
  /** True when some part is a column prefix or an expression PostgreSQL cannot index as is. */
  partial: boolean;
  /** Per column: MySQL's prefix length (characters for text, bytes for binary), or null for the whole column. */
  subParts?: (number | null)[];
  /** True when some part is an expression (MySQL 8 functional key part), not a column. */
  functional?: boolean;
}

/** A foreign key of a MySQL table. */
export interface SourceForeignKey {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

/** A MySQL base table. */
export interface SourceTable {
  name: string;
  columns: SourceColumn[];
  primaryKey: string[];
  indexes: SourceIndex[];
  foreignKeys: SourceForeignKey[];
  /** Next AUTO_INCREMENT value, as a decimal string, or null. */
  autoIncrement: string | null;
  estimatedRows: number;
  /** Estimated bytes of the rows (information_schema DATA_LENGTH, off-page values included); 0 when unknown. */
  dataBytes?: number;
  comment: string;
  /** How MySQL partitions the table; absent for a plain table. */
  partitioning?: SourcePartitioning;
}

/** The schema of the source database. */
export interface SourceCatalog {
  database: string;
  /** `MariaDB 10.11.6` or `MySQL 8.0.36`. */
  serverVersion: string;
  tables: SourceTable[];
  /** Objects that are listed but not migrated. */
  views: string[];
  /** Triggers (`table.trigger`), not migrated. */
  triggers?: string[];
  /** Stored procedures and functions (`PROCEDURE name`), not migrated. */
  routines?: string[];
}
