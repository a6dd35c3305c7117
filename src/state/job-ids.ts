import { createHash } from 'node:crypto';

/** Characters BullMQ and my2pg allow in a job id (BullMQ forbids `:`). */
export const SAFE_ID = /^[A-Za-z0-9_.-]+$/;

/**
 * A job id for a table: derived from the run id and the table name only, so re-adding a flow
 * is idempotent. Names outside [A-Za-z0-9_.-] (BullMQ forbids `:`) get a hash instead.
 */
export function copyJobId(runId: string, table: string): string {
  const slug =
    SAFE_ID.test(table) && table.length <= 80
      ? table
      : `t-${createHash('sha1').update(table).digest('hex').slice(0, 16)}`;
  return `${runId}.${slug}`;
}

/** What the job id of a table that joined a following run ends with (BullMQ forbids `:`: no job can have it). */
const JOINED = ':joined';

/**
 * The job id recorded for a table created in MySQL while following, which joined the run at its
 * CREATE TABLE: no copy job exists, as the table was empty there and the follower copies it.
 */
export function joinedJobId(runId: string, table: string): string {
  return `${copyJobId(runId, table)}${JOINED}`;
}

export function isJoinedJobId(jobId: string): boolean {
  return jobId.endsWith(JOINED);
}

/** The job id of one key range of a split table: the table's job id plus `.r<index>`. */
export function rangeJobId(tableJobId: string, index: number): string {
  return `${tableJobId}.r${index}`;
}

/** The `r<index>` a range job's id ends with (rangeJobId), as the operator reads it: `range r3`. */
export function rangeLabelOf(jobId: string): string {
  return jobId.slice(jobId.lastIndexOf('.') + 1);
}

export function finalizeJobId(runId: string): string {
  return `${runId}.finalize`;
}

/** The job id of a `--follow` run's follower. */
export function followJobId(runId: string): string {
  return `${runId}.follow`;
}

/** The job id of a `--fallback` run's way back (the reverse follower, from cutover's go). */
export function followBackJobId(runId: string): string {
  return `${runId}.follow-back`;
}

/** A new run id: sortable by time, unique enough, safe as a BullMQ id. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `run-${stamp}-${createHash('sha1').update(`${now.getTime()}-${process.pid}-${Math.random()}`).digest('hex').slice(0, 6)}`;
}

/** The number of range jobs of each split table, as kept in `my2pg.runs.options.ranges`. */
export type RangeCounts = Record<string, number>;

/** Every job id of a table: its range jobs when it was split, else its one job. */
export function tableJobIds(
  table: { tableName: string; jobId: string },
  ranges: RangeCounts | null | undefined,
): string[] {
  const count = ranges?.[table.tableName] ?? 0;
  if (count <= 1) return [table.jobId];
  return Array.from({ length: count }, (_, i) => rangeJobId(table.jobId, i));
}

/** A table and the jobs that copy it, as the queue reads their states (the queue's TableJobRef). */
export interface TableJobIds {
  table: string;
  jobId: string;
  /** The key-range jobs of a split table; absent: the table is the one job `jobId`. */
  rangeJobIds?: string[];
}

/** The jobs of each table of a run (`ranges`: the run's options.ranges). */
export function tableJobRefs(
  tables: readonly { tableName: string; jobId: string }[],
  ranges: RangeCounts | null | undefined,
): TableJobIds[] {
  return tables.map((t) => {
    const ids = tableJobIds(t, ranges);
    return { table: t.tableName, jobId: t.jobId, ...(ids.length > 1 ? { rangeJobIds: ids } : {}) };
  });
}
