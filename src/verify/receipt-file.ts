import { readFile, writeFile } from 'node:fs/promises';
import type { DataSource } from 'typeorm';
import { UsageError } from '../core/errors.js';
import { compareBinlogPositions, readBinlogPosition, readBinlogSettings } from '../dialect/mysql/binlog.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import type { TableChecksum } from './checksum-types.js';
import {
  identityOfUrl,
  parseReceipt,
  sealReceipt,
  type DatabaseIdentity,
  type ReadReceipt,
  type Receipt,
  type ReceiptPosition,
  type ReceiptTable,
} from './receipt.js';

/** A table's receipt entry from its verification's digests. */
export function receiptTableOf(
  run: Pick<RunRow, 'options'>,
  table: Pick<RunTableRow, 'tableName' | 'targetTable'>,
  digests: TableChecksum['digests'],
): ReceiptTable {
  const columns = run.options.columns?.[table.tableName];
  const sourceRows = digests.ranges.reduce((n, r) => n + r.sourceRows, 0);
  const targetRows = digests.ranges.reduce((n, r) => n + r.targetRows, 0);
  return {
    table: table.tableName,
    targetTable: table.targetTable,
    columns: Array.isArray(columns) ? (columns as string[]) : null,
    where: run.options.where?.[table.tableName] ?? null,
    split: digests.split,
    ranges: digests.ranges,
    totals: {
      sourceRows,
      targetRows,
      ranges: digests.ranges.length,
      equal: digests.ranges.every((r) => r.sourceRows === r.targetRows && r.sourceDigest === r.targetDigest),
    },
  };
}

/** The source's binary-log position now, or null when it writes none. */
export async function readPositionIfLogged(source: DataSource): Promise<ReceiptPosition | null> {
  if (!(await readBinlogSettings(source)).logBin) return null;
  const p = await readBinlogPosition(source);
  return { file: p.file, position: p.position, gtid: p.gtid };
}

/**
 * The position a verification's receipt holds for, from the positions before and after it:
 * the position when the binary log did not move, else null with the reason.
 */
export function positionOfVerification(
  before: ReceiptPosition | null,
  after: ReceiptPosition | null,
): { position: ReceiptPosition | null; positionNote: string } {
  if (before === null || after === null)
    return {
      position: null,
      positionNote:
        'the source writes no binary log (log_bin is OFF): the receipt holds for the moment of the verification, named by no position',
    };
  if (compareBinlogPositions(before, after) === 0)
    return {
      position: after,
      positionNote: 'the binary log did not move during the verification: every range holds for this position',
    };
  return {
    position: null,
    positionNote: `the source was written during the verification (its binary log moved from ${before.file}:${before.position} to ${after.file}:${after.position}): each table holds for a moment between, no single position`,
  };
}

/** Host, port and database of both sides (from their URLs and the servers; never a user or password). */
export async function identitiesOf(
  source: DataSource,
  target: DataSource,
  urls: { mysql: string; pg: string },
  schema: string,
): Promise<{ source: DatabaseIdentity; target: DatabaseIdentity }> {
  const [mysqlDb] = (await source.query('SELECT DATABASE() AS db')) as { db: string | null }[];
  const [pgDb] = (await target.query('SELECT current_database() AS db')) as { db: string }[];
  return {
    source: { ...identityOfUrl(urls.mysql, 3306), database: mysqlDb?.db ?? '' },
    target: { ...identityOfUrl(urls.pg, 5432), database: pgDb?.db ?? '', schema },
  };
}

/** Reads a receipt file: null when there is none; otherwise what parseReceipt finds in it. */
export async function readReceiptFile(file: string): Promise<ReadReceipt | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`cannot read receipt ${file}: ${(error as Error).message}`);
  }
  return parseReceipt(text);
}

/** Seals and writes a new receipt; a file already there is never overwritten (exit 2). */
export async function writeReceiptFile(file: string, unsealed: Omit<Receipt, 'seal'>): Promise<Receipt> {
  const receipt = sealReceipt(unsealed);
  try {
    await writeFile(file, `${JSON.stringify(receipt, null, 2)}\n`, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'EEXIST'
        ? `receipt ${file} appeared while verifying: it is not overwritten; choose another file`
        : `cannot write receipt ${file}: ${(error as Error).message}`,
    );
  }
  return receipt;
}
