import type { SourceColumn } from '../../dialect/mysql/catalog.js';
import { mapColumnType } from '../type-map.js';
import { typeOfPgColumn, type SqlType } from '../translate/sql-types.js';
import { StoredCodeError } from './stored-tokens.js';

/** A MySQL type of stored code (parameter, variable, return) in PostgreSQL. */
export interface StoredType {
  /** The PostgreSQL type, with its length/precision (a RETURN is cast to it, as MySQL converts). */
  pg: string;
  type: SqlType;
}

/**
 * Maps a type as stored code writes it (`DECIMAL(5,2)`, `varchar(32) CHARSET utf8mb4`,
 * `BOOLEAN`) through the table type map. `tinyint(1)`/BOOLEAN become smallint: MySQL returns
 * 1/0 (or any other small number) from them, and a condition over them reads non-zero as true.
 */
export function mapStoredType(text: string, line: number): StoredType {
  const m =
    /^\s*([a-z ]+?)\s*(?:\(\s*([^)]*)\))?\s*(unsigned|signed)?\s*(zerofill)?\s*(?:(?:character set|charset|collate)\s+\w+\s*)*$/i.exec(
      text,
    );
  if (!m) throw new StoredCodeError(line, `the type ${text}`);
  const dataType = m[1]!.toLowerCase().replace(/\s+/g, ' ');
  const args = (m[2] ?? '').split(',').map((a) => a.trim());
  if (dataType === 'bool' || dataType === 'boolean' || (dataType === 'tinyint' && args[0] === '1'))
    return { pg: 'smallint', type: { kind: 'int' } };
  const number = (i: number): number | null => (args[i] && /^\d+$/.test(args[i]!) ? Number(args[i]) : null);
  const enumValues = dataType === 'enum' || dataType === 'set' ? args.map((a) => a.replace(/^'|'$/g, '')) : null;
  const column: SourceColumn = {
    name: 'value',
    dataType: dataType === 'integer' ? 'int' : dataType === 'dec' ? 'decimal' : dataType,
    columnType: text.toLowerCase().trim(),
    unsigned: /unsigned/i.test(m[3] ?? ''),
    nullable: true,
    defaultValue: null,
    autoIncrement: false,
    generated: false,
    charset: null,
    maxLength: /char|binary/.test(dataType) ? (number(0) ?? 1) : null,
    numericPrecision: /decimal|numeric|dec|fixed/.test(dataType) ? (number(0) ?? 10) : null,
    numericScale: /decimal|numeric|dec|fixed/.test(dataType) ? (number(1) ?? 0) : null,
    datetimePrecision: /datetime|timestamp|time/.test(dataType) ? (number(0) ?? 0) : null,
    enumValues,
    comment: '',
  };
  const mapped = mapColumnType(column);
  if (mapped.warning) throw new StoredCodeError(line, `the type ${text} (${mapped.warning})`);
  return { pg: mapped.sql, type: typeOfPgColumn(mapped.sql) };
}
