import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ConfigOverrides } from '../config/config.js';
import { VERIFY_METHODS } from '../verify/verify-method.js';

/** The options and value parsers the commands share (program.ts builds the commands from them). */

/** A number of seconds above 0 (a fraction allowed). */
export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('must be a port number from 0 to 65535 (0 picks a free one)');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function globalOverrides(command: Command): ConfigOverrides {
  const o = command.optsWithGlobals<{
    source?: string;
    target?: string;
    redis?: string;
    schema?: string;
    logLevel?: string;
    logFormat?: string;
    stallTimeout?: string;
  }>();
  return {
    source: o.source,
    target: o.target,
    redis: o.redis,
    schema: o.schema,
    logLevel: o.logLevel,
    logFormat: o.logFormat,
    stallTimeout: o.stallTimeout,
  };
}

export function addPlanOptions(command: Command): Command {
  return (
    command
      .option('--tables <names>', 'only these tables (comma separated, repeatable)', collect)
      .option('--exclude <names>', 'every table but these (comma separated, repeatable)', collect)
      .option(
        '--exclude-view <names>',
        'neither create nor verify these source views (comma separated, repeatable)',
        collect,
      )
      .option('--entities <module>', 'migrate the tables (and columns) of these TypeORM entities (.js or .ts module)')
      .option('--config <file>', CONFIG_HELP)
      .option('--batch-size <n>', 'rows per COPY write (default: 5000)', positiveInt)
      .addOption(
        new Option(
          '--verify <method>',
          'how finalize verifies each table: content checksums, row counts, or not at all (default: checksum)',
        ).choices([...VERIFY_METHODS]),
      )
      .option('--allow-rejects', 'a run whose only differences are rejected rows still counts as verified (exit 0)')
      .option(
        '--follow',
        "follow the source's binary log after the copy (a live database), until `my2pg cutover` verifies and switches",
      )
      .option(
        '--fallback',
        "with --follow, arm the way back at cutover: PostgreSQL's writes flow back to MySQL until `my2pg fallback` or `my2pg finish`",
      )
      .addOption(
        new Option(
          '--on-ddl <mode>',
          'with --follow, a schema change of a followed table: apply it (default), hold the follower until resumed, or stop for good',
        ).choices(['apply', 'hold', 'stop']),
      )
      // Type mapping of the tables my2pg creates (docs/type-mapping.md).
      .option(
        '--type <mysql=pg>',
        "map a MySQL type to a PostgreSQL type, e.g. 'tinyint(1)=smallint' (repeatable)",
        collect,
      )
      .option('--column-type <table.column=pg>', "map one column, e.g. 'users.bio=text' (repeatable)", collect)
      .addOption(
        new Option(
          '--enum <mode>',
          'ENUM columns as PostgreSQL enum types or as text with a CHECK (default: type)',
        ).choices(['type', 'check']),
      )
      .addOption(
        new Option(
          '--nul <policy>',
          'text holding NUL characters: reject the row, strip the NULs, or create such columns as bytea (default: reject)',
        ).choices(['reject', 'strip', 'bytea']),
      )
      .addOption(
        new Option(
          '--partitions <mode>',
          'partitioned MySQL tables: keep them partitioned in PostgreSQL where it can express the scheme, or flatten them into plain tables (default: keep)',
        ).choices(['keep', 'flatten']),
      )
      .addOption(
        new Option(
          '--zero-date <policy>',
          "MySQL's zero dates: write NULL (counted) or reject the row (default: null)",
        ).choices(['null', 'reject']),
      )
      .option(
        '--fulltext-config <name>',
        'text search configuration of the GIN indexes made from FULLTEXT indexes (default: simple)',
      )
      .option(
        '--range-rows <n>',
        'split a table with an integer or binary primary key and more rows than this into key-range jobs (0 = never; default: 500000)',
        nonNegativeInt,
      )
  );
}

const CONFIG_HELP =
  'the migration file, YAML or JSON (default: my2pg.yaml in the working directory, when there is one); flags win over it';

/** `--config` of the commands that work on existing runs: they take target, redis, schema (and source) from the file. */
export function addConfigOption(command: Command): Command {
  return command.option('--config <file>', CONFIG_HELP);
}

export const STALL_TIMEOUT_FLAG = '--stall-timeout <seconds>';
export const STALL_TIMEOUT_HELP =
  'a job whose progress has not moved this long fails its attempt, naming where it waited, and is retried (default: MY2PG_STALL_TIMEOUT or 60)';

/** `--work` / `--no-work` / `--concurrency` of the commands that may process a run's jobs themselves. */
export function addWorkOptions(command: Command): Command {
  return command
    .option('--work', "process the run's jobs in this process, even when workers are connected (implies waiting)")
    .option('--no-work', "leave the run's jobs to connected workers, even when there is none")
    .option('--concurrency <n>', 'tables copied at once when the jobs are processed here', positiveInt, 2)
    .option(STALL_TIMEOUT_FLAG, STALL_TIMEOUT_HELP);
}
