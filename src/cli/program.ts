import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadConfig, scrubSecrets, secretsOf, type ConfigOverrides } from '../config/config.js';
import { exitCodeOf, UsageError } from '../core/errors.js';
import type { InProcessDeps, StartWorkers } from './command-services.js';
import { consoleOutput, type Output } from './output.js';
import { VERIFY_METHODS, type VerifyMethod } from '../verify/verify-method.js';

// Commands load what they use when they run (TypeORM, BullMQ, the drivers): `--help` and a
// usage error stay fast.
const startCommands = (): Promise<typeof import('./start-command.js')> => import('./start-command.js');
const retryCommands = (): Promise<typeof import('./retry-commands.js')> => import('./retry-commands.js');
const statusCommands = (): Promise<typeof import('./status-commands.js')> => import('./status-commands.js');

/** What the process entry point provides: workers live outside src (imports point one way). */
export interface CliDeps {
  startWorkers: StartWorkers;
  output?: Output;
}

/** A number of seconds above 0 (a fraction allowed). */
function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number of seconds above 0');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

function portNumber(value: string): number {
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

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function globalOverrides(command: Command): ConfigOverrides {
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

function addPlanOptions(command: Command): Command {
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
        'split a table with an integer primary key and more rows than this into key-range jobs (0 = never; default: 500000)',
        nonNegativeInt,
      )
  );
}

const CONFIG_HELP =
  'the migration file, YAML or JSON (default: my2pg.yaml in the working directory, when there is one); flags win over it';

/** `--config` of the commands that work on existing runs: they take target, redis, schema (and source) from the file. */
function addConfigOption(command: Command): Command {
  return command.option('--config <file>', CONFIG_HELP);
}

const STALL_TIMEOUT_FLAG = '--stall-timeout <seconds>';
const STALL_TIMEOUT_HELP =
  'a job whose progress has not moved this long fails its attempt, naming where it waited, and is retried (default: MY2PG_STALL_TIMEOUT or 60)';

/** `--work` / `--no-work` / `--concurrency` of the commands that may process a run's jobs themselves. */
function addWorkOptions(command: Command): Command {
  return command
    .option('--work', "process the run's jobs in this process, even when workers are connected (implies waiting)")
    .option('--no-work', "leave the run's jobs to connected workers, even when there is none")
    .option('--concurrency <n>', 'tables copied at once when the jobs are processed here', positiveInt, 2)
    .option(STALL_TIMEOUT_FLAG, STALL_TIMEOUT_HELP);
}

/** Builds the `my2pg` command line. Actions set `exitCode`; nothing here calls process.exit. */
export function buildProgram(deps: CliDeps, result: { exitCode: number }): Command {
  const output = deps.output ?? consoleOutput;
  const inProcess: InProcessDeps = { startWorkers: deps.startWorkers };
  const program = new Command('my2pg')
    .description(
      'Migrate every table of a MySQL/MariaDB database into PostgreSQL through a BullMQ job queue, and verify the copy.',
    )
    .option('--source <url>', 'MySQL source URL (default: MYSQL_URL, or MYSQL_HOST/PORT/USER/PASSWORD/DATABASE)')
    .option('--target <url>', 'PostgreSQL target URL (default: DATABASE_URL)')
    .option('--redis <url>', 'Redis URL (default: REDIS_URL or redis://127.0.0.1:6379)')
    .option('--schema <name>', 'target PostgreSQL schema (default: public)')
    .addOption(
      new Option('--log-level <level>', 'pino log level on stderr').choices([
        'fatal',
        'error',
        'warn',
        'info',
        'debug',
        'trace',
        'silent',
      ]),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines as human sentences or pino JSON (default: human on a terminal, JSON otherwise)',
      ).choices(['human', 'json', 'auto']),
    )
    .showHelpAfterError()
    .exitOverride();

  addPlanOptions(
    program.command('run').description('plan, enqueue, work the jobs in this process, wait, and print the report'),
  )
    .option('--concurrency <n>', 'tables copied at once by the in-process workers', positiveInt, 2)
    .option(STALL_TIMEOUT_FLAG, STALL_TIMEOUT_HELP)
    .action(async (options, command: Command) => {
      const { startCommand } = await startCommands();
      result.exitCode = await startCommand(globalOverrides(command), options, output, inProcess);
    });

  addPlanOptions(
    program
      .command('plan')
      .description(
        'show what run would do, writing nothing: tables, DDL, type mapping, hazards with exact counts, blockers; exit 1 when something would fail',
      ),
  )
    .option('--json', 'print the plan as JSON (documented in docs/planning.md, stable)')
    .option('--markdown <file>', 'also write the plan as Markdown to this file')
    .option('--quick', 'read only the catalogs: no table is read, so value hazards are not counted')
    .option('--concurrency <n>', 'tables copied at once, for the duration estimate', positiveInt, 2)
    .action(async (options, command: Command) => {
      const { planCommand } = await import('./plan-command.js');
      result.exitCode = await planCommand(globalOverrides(command), options, output);
    });

  addPlanOptions(program.command('start').description('plan and enqueue a run for separate workers; prints the run id'))
    .option('--wait', 'wait until every job completed or failed for good, then print the report')
    .option(STALL_TIMEOUT_FLAG, STALL_TIMEOUT_HELP)
    .action(async (options, command: Command) => {
      const { startCommand } = await startCommands();
      result.exitCode = await startCommand(globalOverrides(command), options, output);
    });

  addConfigOption(program.command('worker'))
    .description('process copy and finalize jobs until SIGINT/SIGTERM, then shut down gracefully')
    .option('--concurrency <n>', 'tables copied at once', positiveInt, 2)
    .option(STALL_TIMEOUT_FLAG, STALL_TIMEOUT_HELP)
    .action(async (options: { concurrency: number; config?: string }, command: Command) => {
      const { workerCommand } = await import('./worker-command.js');
      result.exitCode = await workerCommand(globalOverrides(command), options, output, deps.startWorkers);
    });

  addConfigOption(program.command('status [runId]'))
    .description('per-table state, rows, attempts, last error and verification of a run (default: the latest)')
    .option('--json', 'machine-readable output')
    .action(async (runId: string | undefined, options: { json?: boolean; config?: string }, command: Command) => {
      const { statusCommand } = await statusCommands();
      result.exitCode = await statusCommand(globalOverrides(command), runId, options, output);
    });

  addWorkOptions(
    addConfigOption(program.command('retry [runId]'))
      .description("re-queue a run's failed table jobs (default: the latest run, every failed table)")
      .option('--table <name>', 'retry only this table (repeatable)', collect)
      .option(
        '--wait',
        'wait until the run settles, then print the report; the jobs are processed here when no worker is connected',
      ),
  ).action(
    async (
      runId: string | undefined,
      options: { table?: string[]; wait?: boolean; work?: boolean; concurrency: number; config?: string },
      command: Command,
    ) => {
      const { retryCommand } = await retryCommands();
      result.exitCode = await retryCommand(globalOverrides(command), runId, options, output, inProcess);
    },
  );

  addWorkOptions(
    addConfigOption(program.command('resume [runId]')).description(
      'carry an interrupted run (default: the latest) on to its end: re-queue its failed jobs, process its jobs here when no worker is connected, print the report',
    ),
  ).action(
    async (
      runId: string | undefined,
      options: { work?: boolean; concurrency: number; config?: string },
      command: Command,
    ) => {
      const { resumeCommand } = await retryCommands();
      result.exitCode = await resumeCommand(globalOverrides(command), runId, options, output, inProcess);
    },
  );

  addConfigOption(program.command('cancel [runId]'))
    .description(
      'stop a run (default: the latest) for good: remove its jobs, stop the running ones, restore the indexes and foreign keys it dropped, mark it cancelled',
    )
    .option('--yes', 'do not ask for confirmation (needed without a terminal)')
    .action(async (runId: string | undefined, options: { yes?: boolean; config?: string }, command: Command) => {
      const { cancelCommand } = await import('./cancel-command.js');
      result.exitCode = await cancelCommand(globalOverrides(command), runId, options, output);
    });

  addConfigOption(program.command('verify [runId]'))
    .description(
      'verify a finished run again, reading both sides (default: the latest run); exit 0 when equal, 1 when not',
    )
    .addOption(
      new Option('--method <method>', 'content checksums or row counts')
        .choices(['checksum', 'count'])
        .default('checksum'),
    )
    .option('--json', 'print the verification record as JSON')
    .option(
      '--receipt <file>',
      'a new file: write a sealed receipt of the verification (per table and key range, rows and digests of each side); an existing receipt: check its seal and re-check it (exit 3: seal broken)',
    )
    .addOption(
      new Option(
        '--side <side>',
        'with an existing --receipt: re-check it on MySQL, PostgreSQL or both (default: both)',
      ).choices(['mysql', 'postgres', 'both']),
    )
    .option('--table <name>', 'with an existing --receipt: re-check only this table (repeatable)', collect)
    .option('--range <key>', 'with an existing --receipt: re-check only the key range holding this key value')
    .action(
      async (
        runId: string | undefined,
        options: {
          method: VerifyMethod;
          json?: boolean;
          config?: string;
          receipt?: string;
          side?: 'mysql' | 'postgres' | 'both';
          table?: string[];
          range?: string;
        },
        command: Command,
      ) => {
        if (options.receipt !== undefined) {
          const { receiptCommand } = await import('./receipt-command.js');
          result.exitCode = await receiptCommand(
            globalOverrides(command),
            runId,
            { ...options, receipt: options.receipt },
            output,
          );
          return;
        }
        if (options.side || options.table || options.range)
          throw new UsageError('--side, --table and --range re-check a receipt: give it with --receipt FILE');
        const { verifyCommand } = await statusCommands();
        result.exitCode = await verifyCommand(globalOverrides(command), runId, options, output);
      },
    );

  addConfigOption(program.command('cutover [runId]'))
    .description(
      'switch a --follow run (default: the latest): freeze writes, drain the follower, finalize, verify every table; exit 0 go, 1 no-go, 2 nothing done',
    )
    .option('--wait', 'wait until the copy is complete and the follower is within 5 s of the source')
    .option(
      '--lock',
      "freeze the source's writes here (FLUSH TABLES WITH READ LOCK, else read_only) instead of checking that the application stopped",
    )
    .option(
      '--max-freeze <seconds>',
      'refuse (exit 2, nothing frozen) when the predicted freeze is longer; with --wait, wait until it fits (default 10)',
      positiveSeconds,
    )
    .option(
      '--receipt <file>',
      'after a go, write a sealed receipt of every table at the frozen position to this new file (hashed in snapshots taken inside the freeze, after writes resume)',
    )
    .action(
      async (
        runId: string | undefined,
        options: { wait?: boolean; lock?: boolean; config?: string; maxFreeze?: number; receipt?: string },
        command: Command,
      ) => {
        const { cutoverCommand } = await import('./cutover-command.js');
        result.exitCode = await cutoverCommand(globalOverrides(command), runId, options, output);
      },
    );

  addConfigOption(program.command('board'))
    .description(
      'serve Bull Board on the copy and finalize queues: progress, logs, verification results, retry buttons',
    )
    .option(
      '--host <host>',
      'address to listen on; anything but loopback needs BOARD_USER and BOARD_PASSWORD',
      '127.0.0.1',
    )
    .option('--port <n>', 'port to listen on (0 picks a free one)', portNumber, 3000)
    .option('--read-only', 'show everything, change nothing: no retry, clean, pause or add')
    .action(async (options: { host: string; port: number; readOnly?: boolean; config?: string }, command: Command) => {
      // Loaded on demand: Express and Bull Board are not worth their start-up time in other commands.
      const { boardCommand } = await import('../board/board-command.js');
      result.exitCode = await boardCommand(
        globalOverrides(command),
        { host: options.host, port: options.port, readOnly: options.readOnly === true },
        output,
        options.config,
      );
    });

  program
    .command('demo')
    .description(
      `load the seed app (five tables, 447 rows, alembic_version) into MySQL database my2pg_demo and migrate it into PostgreSQL database my2pg_demo`,
    )
    .option('--concurrency <n>', 'tables copied at once', positiveInt, 2)
    .option(STALL_TIMEOUT_FLAG, STALL_TIMEOUT_HELP)
    .action(async (options: { concurrency: number }, command: Command) => {
      const overrides = globalOverrides(command);
      const [{ prepareDemo }, { startCommand }] = await Promise.all([import('../demo/demo.js'), startCommands()]);
      const urls = await prepareDemo(overrides);
      output.err(
        `demo: loaded the seed app into MySQL and prepared the alembic schema in PostgreSQL (database my2pg_demo on both)`,
      );
      result.exitCode = await startCommand(
        { ...overrides, source: urls.source, target: urls.target },
        { batchSize: 5000, concurrency: options.concurrency, ignoreFile: true },
        output,
        inProcess,
      );
    });
  return program;
}

/** Runs the CLI and returns the exit code: 0 verified, 1 settled but not verified, 2 nothing started. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const output = deps.output ?? consoleOutput;
  const result = { exitCode: 0 };
  const program = buildProgram(deps, result);
  program.configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  let secrets: string[] = [];
  try {
    secrets = secretsOf(loadConfig({}, []));
  } catch {
    // a broken configuration is reported by the command itself
  }
  try {
    await program.parseAsync([...argv]);
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    const message = scrubSecrets(error instanceof Error ? error.message : String(error), secrets).replace(/\s+/g, ' ');
    output.err(`my2pg: ${message}`);
    return exitCodeOf(error);
  }
}
