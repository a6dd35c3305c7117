import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DataSource } from 'typeorm';
import { describeError, UsageError } from '../core/errors.js';
import type { BinlogPosition } from '../dialect/mysql/binlog.js';
import type { RunRow } from '../state/entities.js';
import { listRunTables } from '../state/run-tables.js';
import { RECEIPT_FORMAT, RECEIPT_VERSION, type ReceiptTable } from '../verify/receipt.js';
import { digestReceiptTable } from '../verify/receipt-check.js';
import { identitiesOf, readReceiptFile, receiptTableOf, writeReceiptFile } from '../verify/receipt-file.js';
import { openReadSnapshots, type HeldSnapshots } from '../verify/receipt-snapshot.js';

/** Refuses, before anything is frozen, a receipt file that exists (it is never overwritten) or cannot be written. */
export async function checkReceiptTarget(file: string): Promise<void> {
  if ((await readReceiptFile(file)) !== null)
    throw new UsageError(`receipt ${file} exists and is not overwritten: name a new file; nothing was done`);
  await access(dirname(file)).catch(() => {
    throw new UsageError(`cannot write receipt ${file}: its directory does not exist; nothing was done`);
  });
}

/**
 * A cutover's receipt: `atGo` opens both snapshots inside the freeze (two statements), `write`
 * hashes every table in them once writes have resumed, writes the sealed receipt and releases
 * the snapshots. Returns the line to print.
 */
export function cutoverReceipt(
  source: DataSource,
  target: DataSource,
  file: string,
  urls: { mysql: string; pg: string },
): {
  atGo: () => Promise<void>;
  write: (run: RunRow, frozenAt: BinlogPosition) => Promise<string>;
  release: () => Promise<void>;
} {
  let held: HeldSnapshots | undefined;
  let failed: unknown;
  return {
    atGo: async () => {
      try {
        held = await openReadSnapshots(source, target);
      } catch (error) {
        // The go stands; only the receipt is lost, and the output says why.
        failed = error;
      }
    },
    release: async () => {
      await held?.release();
    },
    write: async (run, frozenAt) => {
      if (!held)
        return `no receipt written: its snapshots could not be opened during the freeze (${describeError(failed)})`;
      const started = Date.now();
      try {
        const tables: ReceiptTable[] = [];
        for (const t of await listRunTables(target, run.id)) {
          const columns = run.options.columns?.[t.tableName];
          const check = await digestReceiptTable(
            source,
            target,
            { schema: run.targetSchema, naming: run.options.naming ?? null },
            {
              table: t.tableName,
              targetTable: t.targetTable,
              columns: Array.isArray(columns) ? (columns as string[]) : null,
              where: run.options.where?.[t.tableName] ?? null,
            },
            { side: 'both', snapshot: held.snapshot },
          );
          tables.push(receiptTableOf(run, t, check.digests));
        }
        const position = held.position ?? { file: frozenAt.file, position: frozenAt.position, gtid: frozenAt.gtid };
        const receipt = await writeReceiptFile(file, {
          format: RECEIPT_FORMAT,
          version: RECEIPT_VERSION,
          kind: 'cutover',
          runId: run.id,
          createdAt: new Date().toISOString(),
          ...(await identitiesOf(source, target, urls, run.targetSchema)),
          position,
          positionNote: held.position
            ? 'the position of the MySQL consistent snapshot (binlog_snapshot_file/position), opened while writes were frozen and the follower drained to it; the PostgreSQL snapshot was exported at the same moment'
            : 'the frozen position the follower drained to; both snapshots were opened while writes were frozen there',
          method: 'checksum',
          naming: run.options.naming ?? null,
          tables,
          ...(run.options.skippedTables?.length ? { skippedTables: run.options.skippedTables } : {}),
        });
        const unequal = tables.filter((t) => !t.totals.equal).map((t) => t.table);
        return `receipt ${file} written ${((Date.now() - started) / 1000).toFixed(1)} s after the freeze (computed in snapshots taken inside it): ${tables.length} tables, ${tables.reduce((n, t) => n + t.ranges.length, 0)} ranges, at ${position.file}:${position.position}${unequal.length > 0 ? `; ranges differ in ${unequal.join(', ')}` : ''}; seal sha256 ${receipt.seal.digest}`;
      } finally {
        await held.release();
      }
    },
  };
}
