import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ConfigOverrides } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { reverifyRun } from '../finalize/finalize-run.js';
import { describeOutcome } from '../finalize/finalize-summary.js';
import type { RunRow } from '../state/entities.js';
import { getRun } from '../state/runs.js';
import { listRunTables } from '../state/run-tables.js';
import type { ReceiptSide, TableChecksum } from '../verify/checksum-types.js';
import { RECEIPT_FORMAT, RECEIPT_VERSION, type Receipt } from '../verify/receipt.js';
import { recheckReceipt } from '../verify/receipt-check.js';
import {
  identitiesOf,
  positionOfVerification,
  readPositionIfLogged,
  readReceiptFile,
  receiptTableOf,
  writeReceiptFile,
} from '../verify/receipt-file.js';
import { withDatabases, withVerifiableRun } from './command-services.js';
import type { Output } from './output.js';
import { formatRunReport } from './report.js';
import { resolveCommandConfig } from './command-config.js';

/** Exit code of a receipt whose seal does not match its content (0 all match, 1 differences, 2 usage). */
const BROKEN_SEAL_EXIT = 3;

/** Flags of `verify --receipt`. */
export interface ReceiptFlags {
  receipt: string;
  side?: ReceiptSide;
  table?: string[];
  range?: string;
  config?: string;
  method?: string;
}

/**
 * `verify [RUN] --receipt FILE`: without FILE, verifies the run and writes a sealed receipt of it;
 * with FILE a receipt, checks its seal and re-checks its ranges; FILE anything else is refused
 * and left as it is.
 */
export async function receiptCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: ReceiptFlags,
  output: Output,
): Promise<number> {
  const found = await readReceiptFile(flags.receipt);
  if (found === null) {
    if (flags.side || flags.table || flags.range)
      throw new UsageError(
        `--side, --table and --range re-check an existing receipt, and ${flags.receipt} does not exist; without them verify writes it`,
      );
    return writeReceipt(overrides, runId, flags, output);
  }
  if (found.kind === 'not-a-receipt')
    throw new UsageError(
      `${flags.receipt} exists and is not a my2pg receipt (${found.why}); it was left as it is: name a new file to write a receipt, or a receipt to re-check it`,
    );
  if (found.kind === 'broken-seal') {
    output.out(
      `receipt ${flags.receipt}: BROKEN SEAL: its content hashes to ${found.found}, its seal says ${found.expected}; it was edited or damaged after it was written, so nothing in it is re-checked`,
    );
    return BROKEN_SEAL_EXIT;
  }
  const receipt = found.receipt;
  if (runId !== undefined && runId !== receipt.runId)
    throw new UsageError(`receipt ${flags.receipt} is of run ${receipt.runId}, not ${runId}`);
  return recheck(overrides, receipt, flags, output);
}

async function writeReceipt(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: ReceiptFlags,
  output: Output,
): Promise<number> {
  if (flags.method === 'count')
    throw new UsageError('a receipt holds content digests: verify --receipt needs --method checksum');
  await access(dirname(flags.receipt)).catch(() => {
    throw new UsageError(`cannot write receipt ${flags.receipt}: its directory does not exist`);
  });
  const { config, forRun } = resolveCommandConfig(overrides, ['source', 'target'], {
    config: flags.config,
    runId,
    logLevel: 'info',
  });
  return withVerifiableRun(config, forRun, runId, async ({ run, source, target, mysqlUrl }) => {
    const digests = new Map<string, TableChecksum['digests']>();
    const before = await readPositionIfLogged(source);
    const summary = await reverifyRun(
      source,
      target,
      run.id,
      'checksum',
      (line) => output.err(line),
      (table, d) => digests.set(table, d),
    );
    const after = await readPositionIfLogged(source);
    const tables = await listRunTables(target, run.id);
    const missing = tables.filter((t) => !digests.has(t.tableName)).map((t) => t.tableName);
    const receipt = await writeReceiptFile(flags.receipt, {
      format: RECEIPT_FORMAT,
      version: RECEIPT_VERSION,
      kind: 'verify',
      runId: run.id,
      createdAt: new Date().toISOString(),
      ...(await identitiesOf(source, target, { mysql: mysqlUrl, pg: config.databaseUrl! }, run.targetSchema)),
      ...positionOfVerification(before, after),
      method: 'checksum',
      naming: run.options.naming ?? null,
      tables: tables
        .filter((t) => digests.has(t.tableName))
        .map((t) => receiptTableOf(run, t, digests.get(t.tableName)!)),
    });
    const after2 = (await getRun(target, run.id)) as RunRow;
    output.out(formatRunReport(after2, tables));
    output.out(`run ${run.id}: ${describeOutcome(summary)}`);
    output.out(
      `receipt ${flags.receipt} written: ${receipt.tables.length} tables, ${receipt.tables.reduce((n, t) => n + t.ranges.length, 0)} ranges, ${receipt.position ? `at ${receipt.position.file}:${receipt.position.position}` : 'no binary-log position'}; seal sha256 ${receipt.seal.digest}${missing.length > 0 ? `; not in it (their verification failed): ${missing.join(', ')}` : ''}`,
    );
    return summary.verified ? 0 : 1;
  });
}

function parseKey(range: string | undefined): bigint | undefined {
  if (range === undefined) return undefined;
  if (!/^-?\d+$/.test(range)) throw new UsageError(`--range ${range}: expected a key value (an integer)`);
  return BigInt(range);
}

async function recheck(
  overrides: ConfigOverrides,
  receipt: Receipt,
  flags: ReceiptFlags,
  output: Output,
): Promise<number> {
  const side = flags.side ?? 'both';
  const key = parseKey(flags.range);
  const { forRun } = resolveCommandConfig(overrides, ['source', 'target'], {
    config: flags.config,
    runId: receipt.runId,
    logLevel: 'info',
  });
  const runConfig = forRun({
    sourceDatabase: receipt.source.database,
    targetSchema: receipt.target.schema ?? 'public',
  });
  output.err(
    `receipt ${flags.receipt}: seal intact (sha256 ${receipt.seal.digest}); run ${receipt.runId}, written ${receipt.createdAt}, ${receipt.position ? `at ${receipt.position.file}:${receipt.position.position}` : 'no binary-log position'}; re-checking on ${side === 'both' ? 'MySQL and PostgreSQL' : side === 'mysql' ? 'MySQL' : 'PostgreSQL'}`,
  );
  return withDatabases(runConfig, { source: true }, async ({ source, target }) => {
    const results = await recheckReceipt(source!, target, receipt, {
      side,
      ...(flags.table ? { tables: flags.table.flatMap((t) => t.split(',')) } : {}),
      ...(key === undefined ? {} : { key }),
    });
    let differing = 0;
    for (const r of results) {
      if (r.differences.length === 0) {
        output.out(`table ${r.table}: ${r.matched.length} ranges match`);
        continue;
      }
      differing += 1;
      const ranges = [...new Set(r.differences.map((d) => d.range))];
      output.out(
        `table ${r.table}: ${ranges.length} ranges differ (${r.matched.length} match): ${r.differences
          .map(
            (d) =>
              `range ${d.range} on ${d.side === 'mysql' ? 'MySQL' : 'PostgreSQL'}: receipt ${d.receipt.rows} rows ${d.receipt.digest ?? '-'}, now ${d.now.rows} rows ${d.now.digest ?? '-'}`,
          )
          .join('; ')}`,
      );
    }
    output.out(
      differing === 0
        ? `receipt ${flags.receipt}: every range re-checked matches (${results.length} tables)`
        : `receipt ${flags.receipt}: ${differing} of ${results.length} tables differ from the receipt`,
    );
    return differing === 0 ? 0 : 1;
  });
}
