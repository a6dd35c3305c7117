import type { BinlogSettings, ReplicationGrants } from '../dialect/mysql/binlog.js';
import type { SourceTable } from '../dialect/mysql/catalog.js';
import { quoteMysql } from '../dialect/mysql/quote.js';

/**
 * The key the follower matches rows by: the primary key, else the first UNIQUE index whose
 * columns are all NOT NULL and whole (not partial/prefix/functional); null when the table has
 * neither. A unique key with a nullable column may hold many rows with NULL there, so it
 * cannot name one row.
 */
export function followKeyOf(table: SourceTable): string[] | null {
  if (table.primaryKey.length > 0) return [...table.primaryKey];
  const columns = new Map(table.columns.map((c) => [c.name, c]));
  for (const index of table.indexes) {
    if (!index.unique || index.partial || index.functional || index.columns.length === 0) continue;
    if ((index.subParts ?? []).some((part) => part !== null)) continue;
    if (index.columns.every((name) => columns.get(name)?.nullable === false)) return [...index.columns];
  }
  return null;
}

/** One precondition of following the binary log that the source does not meet. */
export interface FollowProblem {
  check: 'binlog-off' | 'binlog-format' | 'binlog-row-image' | 'no-key' | 'privileges' | 'retention' | 'fallback';
  /** One line: what is wrong, then the fix (the exact SQL or my.cnf setting). */
  message: string;
}

/** What following needs to know about the source. */
export interface FollowPreconditionInput {
  settings: BinlogSettings;
  grants: ReplicationGrants;
  tables: readonly SourceTable[];
  /** How long the initial copy is expected to take; the binary logs must outlive it with room to spare. */
  estimatedCopySeconds: number;
  /** The source account as `'user'@'host'` for the GRANT the fix names; a placeholder when absent. */
  user?: string;
}

/** `7200 s (2 h)`: seconds with a figure a person reads at a glance. */
function describeSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s >= 86_400) return `${s} s (${+(s / 86_400).toFixed(1)} d)`;
  if (s >= 3_600) return `${s} s (${+(s / 3_600).toFixed(1)} h)`;
  if (s >= 60) return `${s} s (${+(s / 60).toFixed(1)} min)`;
  return `${s} s`;
}

/** Pure: every precondition of following that is not met, each one line naming what is wrong and the fix (the exact SQL or my.cnf setting). */
export function followPreconditionProblems(input: FollowPreconditionInput): FollowProblem[] {
  const { settings, grants, tables } = input;
  const problems: FollowProblem[] = [];
  if (!settings.logBin) {
    problems.push({
      check: 'binlog-off',
      message:
        'binary log is off on the source: start it with log_bin in my.cnf ([mysqld] log_bin, binlog_format=ROW, binlog_row_image=FULL, server_id=<unique number>) and restart the server',
    });
  } else {
    if (settings.format !== 'ROW') {
      problems.push({
        check: 'binlog-format',
        message: `binary log format is ${settings.format || 'unknown'} on the source, following needs ROW: SET GLOBAL binlog_format = 'ROW' (sessions already open keep their format until they reconnect) and binlog_format=ROW in my.cnf`,
      });
    }
    if (settings.rowImage !== 'FULL') {
      problems.push({
        check: 'binlog-row-image',
        message: `binary log row image is ${settings.rowImage || 'unknown'} on the source, following needs FULL: SET GLOBAL binlog_row_image = 'FULL' and binlog_row_image=FULL in my.cnf`,
      });
    }
    const needed = Math.max(3_600, Math.ceil(3 * Math.max(0, input.estimatedCopySeconds)));
    if (settings.retentionSeconds > 0 && settings.retentionSeconds < needed) {
      const days = Math.ceil(needed / 86_400);
      problems.push({
        check: 'retention',
        message: `binary logs are kept ${describeSeconds(settings.retentionSeconds)} on the source, less than the ${describeSeconds(needed)} following needs (3 × the estimated copy of ${describeSeconds(input.estimatedCopySeconds)}, at least 1 h): SET GLOBAL binlog_expire_logs_seconds = ${needed} and binlog_expire_logs_seconds=${needed} in my.cnf (MariaDB before 10.6: SET GLOBAL expire_logs_days = ${days}, expire_logs_days=${days})`,
      });
    }
  }
  for (const table of tables) {
    if (followKeyOf(table)) continue;
    problems.push({
      check: 'no-key',
      message: `table ${table.name} has no primary key and no NOT NULL unique key, so its changed rows cannot be matched: add a PRIMARY KEY or a NOT NULL UNIQUE key (ALTER TABLE ${quoteMysql(table.name)} ADD PRIMARY KEY (…)), or exclude the table`,
    });
  }
  const missing = [
    ...(grants.replicationSlave ? [] : ['REPLICATION SLAVE']),
    ...(grants.replicationClient ? [] : ['REPLICATION CLIENT (BINLOG MONITOR on MariaDB)']),
  ];
  if (missing.length > 0) {
    problems.push({
      check: 'privileges',
      message: `the source user lacks ${missing.join(' and ')}, needed to read the binary log: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${input.user ?? "'user'@'host'"}`,
    });
  }
  return problems;
}
