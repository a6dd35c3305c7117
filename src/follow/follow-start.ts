import type { DataSource } from 'typeorm';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { readBinlogSettings, readReplicationGrants } from '../dialect/mysql/binlog.js';
import { followPreconditionProblems, type FollowProblem } from './preconditions.js';

/** What a `--follow` run records before its copy: the binary log position the follower starts at, and each table's key. */
export interface FollowStart {
  file: string;
  position: number;
  gtid: string | null;
  /** Source table → the key columns its rows are matched by. */
  keys: Record<string, string[]>;
}

/**
 * A deliberately low copy rate for the retention check (bytes per second): the binary log must
 * outlive the copy with room to spare, so the estimate errs on the long side.
 */
const SLOW_COPY_BYTES_PER_SECOND = 5 * 1024 * 1024;

/** The copy's duration as the retention check assumes it: the tables' bytes at a slow rate. */
function estimatedCopySeconds(tables: readonly SourceTable[]): number {
  return Math.ceil(tables.reduce((sum, t) => sum + (t.dataBytes ?? 0), 0) / SLOW_COPY_BYTES_PER_SECOND);
}

/** Every precondition of following these tables that the source does not meet (reads only). */
export async function followProblemsOf(source: DataSource, tables: readonly SourceTable[]): Promise<FollowProblem[]> {
  const [settings, grants] = await Promise.all([readBinlogSettings(source), readReplicationGrants(source)]);
  return followPreconditionProblems({ settings, grants, tables, estimatedCopySeconds: estimatedCopySeconds(tables) });
}
