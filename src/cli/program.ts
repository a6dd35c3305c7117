import { Command, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import type { InProcessDeps, StartWorkers } from './command-services.js';
import { consoleOutput, type Output } from './output.js';
import {
  STALL_TIMEOUT_FLAG,
  STALL_TIMEOUT_HELP,
  addConfigOption,
  addPlanOptions,
  addWorkOptions,
  collect,
  globalOverrides,
  portNumber,
  positiveInt,
  positiveSeconds,
} from './program-options.js';
import type { VerifyMethod } from '../verify/verify-method.js';
import { addFallbackCommands } from './fallback-program.js';

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
    addConfigOption(program.command('resume [runId]'))
      .description(
        'carry an interrupted run (default: the latest) on to its end: re-queue its failed jobs, process its jobs here when no worker is connected, print the report',
      )
      .option(
        '--skip-table <table>',
        'a following run held at a schema change of this table: drop the table from the run (no longer followed, verified or counted at cutover) and follow on without it',
      ),
  ).action(
    async (
      runId: string | undefined,
      options: { work?: boolean; concurrency: number; config?: string; skipTable?: string },
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

  addFallbackCommands(program, output, result);

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
      const { boardCommand } = await import('./board-command.js');
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
