import type { DataSource } from 'typeorm';

/** How the source server writes its binary log, as far as following it is concerned. */
export interface BinlogSettings {
  flavor: 'mariadb' | 'mysql';
  /** @@log_bin: the server writes a binary log at all. */
  logBin: boolean;
  /** @@GLOBAL.binlog_format, upper case: ROW / STATEMENT / MIXED. */
  format: string;
  /** @@GLOBAL.binlog_row_image, upper case: FULL / MINIMAL / NOBLOB. */
  rowImage: string;
  /** Seconds the server keeps binary logs; 0 = never purged automatically. From binlog_expire_logs_seconds (MySQL 8, MariaDB 10.6+) else expire_logs_days*86400. */
  retentionSeconds: number;
  serverId: number;
}

/** A point in the source's binary log. */
export interface BinlogPosition {
  /** Binary log file name, `binlog.000042`. */
  file: string;
  /** Byte offset inside `file`. */
  position: number;
  /**
   * MariaDB @@gtid_binlog_pos, MySQL @@gtid_executed when gtid_mode=ON, else null. MariaDB's is
   * the empty string until the first transaction is logged.
   */
  gtid: string | null;
}

/** The replication privileges the follower needs, as granted ON *.* to the connecting user. */
export interface ReplicationGrants {
  /** REPLICATION SLAVE (MariaDB also REPLICATION REPLICA): read the binary log as a replica. */
  replicationSlave: boolean;
  /** REPLICATION CLIENT (MariaDB 10.5+: BINLOG MONITOR): SHOW MASTER STATUS, SHOW BINARY LOGS. */
  replicationClient: boolean;
}

type Row = Record<string, unknown>;

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

function isOn(value: string | undefined): boolean {
  return value !== undefined && /^(on|1|yes|true)$/i.test(value.trim());
}

/** Global variables by lower-case name; a variable the server does not have is simply absent. */
async function readGlobalVariables(source: DataSource, names: readonly string[]): Promise<Map<string, string>> {
  const rows: Row[] = await source.query(
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map(() => '?').join(', ')})`,
    [...names],
  );
  const variables = new Map<string, string>();
  for (const row of rows)
    variables.set(text(row.Variable_name ?? row.variable_name).toLowerCase(), text(row.Value ?? row.value));
  return variables;
}

/** The server's version, read once per DataSource: the follower asks for the position every second. */
const versions = new WeakMap<DataSource, Promise<string>>();

function readVersion(source: DataSource): Promise<string> {
  let version = versions.get(source);
  if (!version) {
    version = (source.query('SELECT VERSION() AS version') as Promise<Row[]>).then((rows) => text(rows[0]?.version));
    versions.set(source, version);
    version.catch(() => versions.delete(source));
  }
  return version;
}

function flavorOf(version: string): 'mariadb' | 'mysql' {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/** Reads the source's binary log settings (global values: those are what a new session logs with). */
export async function readBinlogSettings(source: DataSource): Promise<BinlogSettings> {
  const flavor = flavorOf(await readVersion(source));
  const variables = await readGlobalVariables(source, [
    'log_bin',
    'binlog_format',
    'binlog_row_image',
    'binlog_expire_logs_seconds',
    'binlog_expire_logs_auto_purge',
    'expire_logs_days',
    'server_id',
  ]);
  const seconds = Number(variables.get('binlog_expire_logs_seconds') ?? 0) || 0;
  // MariaDB 10.6+ keeps the two in step; MySQL 8 ignores the days when the seconds are set.
  const days = Number(variables.get('expire_logs_days') ?? 0) || 0;
  // MySQL 8.0.29+: with auto purge off nothing expires, whatever the period says.
  const autoPurgeOff =
    variables.has('binlog_expire_logs_auto_purge') && !isOn(variables.get('binlog_expire_logs_auto_purge'));
  return {
    flavor,
    logBin: isOn(variables.get('log_bin')),
    format: (variables.get('binlog_format') ?? '').toUpperCase(),
    rowImage: (variables.get('binlog_row_image') ?? 'FULL').toUpperCase(),
    retentionSeconds: autoPurgeOff ? 0 : seconds > 0 ? seconds : Math.round(days * 86_400),
    serverId: Number(variables.get('server_id') ?? 0) || 0,
  };
}

function isSyntaxError(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; driverError?: { code?: unknown; errno?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  const errno = e?.errno ?? e?.driverError?.errno;
  return code === 'ER_PARSE_ERROR' || errno === 1064;
}

/** MySQL 8.2 renamed SHOW MASTER STATUS (removed in 8.4); MariaDB and older MySQL know only the old name. */
function statusStatementsFor(version: string): [string, string] {
  const binary = 'SHOW BINARY LOG STATUS';
  const master = 'SHOW MASTER STATUS';
  if (flavorOf(version) === 'mariadb') return [master, binary];
  const [major = 0, minor = 0] = version.split(/[.-]/).map(Number);
  return major > 8 || (major === 8 && minor >= 2) ? [binary, master] : [master, binary];
}

/**
 * The current end of the binary log: SHOW BINARY LOG STATUS on MySQL 8.2+, SHOW MASTER STATUS
 * elsewhere (each falls back to the other when refused as a syntax error). Throws a clear Error
 * when the binary log is off (no row). `gtid: false` skips the GTID (null), one query less.
 */
export async function readBinlogPosition(
  source: DataSource,
  options: { gtid?: boolean } = {},
): Promise<BinlogPosition> {
  const version = await readVersion(source);
  const [first, second] = statusStatementsFor(version);
  let rows: Row[];
  try {
    rows = await source.query(first);
  } catch (error) {
    if (!isSyntaxError(error)) throw error;
    rows = await source.query(second);
  }
  const row = rows[0];
  if (!row || !text(row.File)) {
    throw new Error(
      'binary log is off on the source: there is no binary log position to follow from (start the server with log_bin, binlog_format=ROW)',
    );
  }
  const gtid = options.gtid === false ? null : await readGtid(source, version);
  return { file: text(row.File), position: Number(row.Position), gtid };
}

/** MariaDB's @@gtid_binlog_pos; MySQL's @@gtid_executed when gtid_mode is on, else null. */
async function readGtid(source: DataSource, version: string): Promise<string | null> {
  if (flavorOf(version) === 'mariadb') {
    const rows: Row[] = await source.query('SELECT @@GLOBAL.gtid_binlog_pos AS gtid');
    return text(rows[0]?.gtid);
  }
  const variables = await readGlobalVariables(source, ['gtid_mode', 'gtid_executed']);
  return isOn(variables.get('gtid_mode')) ? (variables.get('gtid_executed') ?? '').replace(/\s+/g, '') : null;
}

/** The numeric suffix of a binary log file name (`binlog.000042` → 42), or NaN. */
function binlogFileNumber(file: string): number {
  const match = /\.(\d+)$/.exec(file);
  return match?.[1] ? Number(match[1]) : Number.NaN;
}

/** Orders two binary log positions: by the file's numeric suffix, then by position. Negative when `a` is earlier. */
export function compareBinlogPositions(
  a: Pick<BinlogPosition, 'file' | 'position'>,
  b: Pick<BinlogPosition, 'file' | 'position'>,
): number {
  const fa = binlogFileNumber(a.file);
  const fb = binlogFileNumber(b.file);
  if (!Number.isNaN(fa) && !Number.isNaN(fb) && fa !== fb) return fa - fb;
  if (Number.isNaN(fa) || Number.isNaN(fb)) {
    if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  }
  return a.position - b.position;
}

/**
 * Splits one SHOW GRANTS line into top-level words: backquoted and quoted names stay whole,
 * a parenthesised column list stays attached to its word, and a comma is a word of its own.
 */
function grantWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let depth = 0;
  let quote: string | null = null;
  const flush = (): void => {
    if (word) words.push(word);
    word = '';
  };
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i]!;
    if (quote) {
      word += ch;
      if (ch === quote) {
        if (line[i + 1] === quote) {
          word += quote;
          i += 1;
        } else quote = null;
      } else if (ch === '\\' && quote !== '`' && i + 1 < line.length) {
        word += line[i + 1];
        i += 1;
      }
      continue;
    }
    if (ch === '`' || ch === "'" || ch === '"') {
      quote = ch;
      word += ch;
    } else if (ch === '(') {
      depth += 1;
      word += ch;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      word += ch;
    } else if (depth > 0) {
      word += ch;
    } else if (ch === ',') {
      flush();
      words.push(',');
    } else if (/\s/.test(ch)) {
      flush();
    } else {
      word += ch;
    }
  }
  flush();
  return words;
}

/** The privileges of one grant line when it is ON *.*, upper case and single-spaced; else none. */
function globalPrivilegesOf(line: string): string[] {
  const words = grantWords(line.trim());
  if (words[0]?.toUpperCase() !== 'GRANT') return [];
  const on = words.findIndex((w, i) => i > 0 && w.toUpperCase() === 'ON');
  if (on < 0) return []; // a role grant: GRANT `role`@`%` TO …
  let object = on + 1;
  if (/^(TABLE|FUNCTION|PROCEDURE|PACKAGE)$/i.test(words[object] ?? '')) return [];
  if (words[object] !== '*.*') return [];
  object += 1;
  if (words[object]?.toUpperCase() !== 'TO') return [];
  const privileges: string[] = [];
  let current: string[] = [];
  for (const word of words.slice(1, on)) {
    if (word === ',') {
      privileges.push(current.join(' '));
      current = [];
    } else current.push(word.replace(/\(.*$/s, '').toUpperCase());
  }
  privileges.push(current.join(' '));
  return privileges.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Pure parser used by readReplicationGrants, exported for unit tests. */
export function replicationGrantsOf(grantLines: readonly string[]): ReplicationGrants {
  const grants: ReplicationGrants = { replicationSlave: false, replicationClient: false };
  for (const line of grantLines) {
    for (const privilege of globalPrivilegesOf(line)) {
      if (privilege === 'ALL' || privilege === 'ALL PRIVILEGES') {
        grants.replicationSlave = true;
        grants.replicationClient = true;
      } else if (privilege === 'REPLICATION SLAVE' || privilege === 'REPLICATION REPLICA') {
        grants.replicationSlave = true;
      } else if (privilege === 'REPLICATION CLIENT' || privilege === 'BINLOG MONITOR') {
        grants.replicationClient = true;
      }
    }
  }
  return grants;
}

/**
 * From SHOW GRANTS FOR CURRENT_USER(): only grants ON *.*; ALL PRIVILEGES counts for both;
 * MariaDB's aliases (REPLICATION REPLICA = SLAVE; BINLOG MONITOR = REPLICATION CLIENT). Privileges
 * that reach the user only through a role are not seen.
 */
export async function readReplicationGrants(source: DataSource): Promise<ReplicationGrants> {
  const rows: Row[] = await source.query('SHOW GRANTS FOR CURRENT_USER()');
  return replicationGrantsOf(rows.map((row) => text(Object.values(row)[0])));
}
