import type { DataSource } from 'typeorm';
import { decodeRawField } from '../dialect/mysql/raw-rows.js';
import { rowKeyText } from '../vocabulary/canonical.js';
import type { CheckedTable } from './checked-table.js';
import type { DigestColumns } from './digest-columns.js';
import { keptValue, type DrillContext } from './drill-down.js';
import { FramedHasher } from './row-digest.js';
import type { MysqlRowHasher, PgRowHasher } from './row-hashers.js';
import { mysqlKeyFilter, mysqlRangeFilter, readMysqlRows } from './source-reader.js';
import { readPgRows } from './target-reader.js';

/**
 * How the row-by-row pass reads each side: every row of a range with its key (canonical text
 * and values as read) and its hash in the same digest forms as the first pass, and a row's
 * column hashes, to name the columns of a changed row.
 */
export function drillReaders(
  source: DataSource,
  target: DataSource,
  table: CheckedTable,
  columns: DigestColumns,
  hashers: { mysql: MysqlRowHasher; pg: PgRowHasher },
): Pick<DrillContext, 'readSource' | 'readTarget' | 'sourceColumnHashes'> {
  const { canon, identity, pairs, width } = table;
  const { fromMysql, fromPg, boundedValue } = columns;
  const rowHasher = new FramedHasher();
  const keyValues = new Array<string | null>(width).fill(null);
  /** The hash of each column alone, from `hash(h, i)` feeding column i to h. */
  const columnHashes = (hash: (h: FramedHasher, i: number) => void): string[] =>
    pairs.map((_p, i) => {
      rowHasher.reset();
      hash(rowHasher, i);
      return rowHasher.digest();
    });
  return {
    readSource: (range, onRow) =>
      readMysqlRows(source, table, mysqlRangeFilter(table, range), (buffer, starts, ends, fields, row) => {
        for (const i of identity)
          keyValues[i] = fromMysql[i]!(
            decodeRawField(buffer, starts[i]!, boundedValue(ends[i]!, starts[i]!, i), fields[i]!),
          );
        rowHasher.reset();
        hashers.mysql.hash(rowHasher, buffer, starts, ends, fields, row);
        onRow(rowKeyText(canon, keyValues), rowHasher.digest(), () =>
          identity.map((i) =>
            keptValue(decodeRawField(buffer, starts[i]!, ends[i]!, fields[i]!), canon.keyIndexes.length > 0),
          ),
        );
      }),
    readTarget: (range, onRow) =>
      readPgRows(target, table, columns.pgDrillList, range, (buffer, starts, ends) => {
        identity.forEach((i, n) => {
          const e = ends[width + n]!;
          keyValues[i] = fromPg[i]!(
            e < 0 ? null : buffer.toString('utf8', starts[width + n]!, boundedValue(e, starts[width + n]!, i)),
          );
        });
        rowHasher.reset();
        hashers.pg.hash(rowHasher, buffer, starts, ends);
        onRow(
          rowKeyText(canon, keyValues),
          rowHasher.digest(),
          () => identity.map((i) => keyValues[i] ?? null),
          () => columnHashes((h, i) => hashers.pg.hash(h, buffer, starts, ends, i, i + 1)),
        );
      }),
    sourceColumnHashes: async (key) => {
      let found: string[] | undefined;
      await readMysqlRows(source, table, mysqlKeyFilter(table, key), (buffer, starts, ends, fields) => {
        found = columnHashes((h, i) => hashers.mysql.hash(h, buffer, starts, ends, fields, undefined, i, i + 1));
      });
      return found;
    },
  };
}
