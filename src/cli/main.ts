import { CommanderError } from 'commander';
import { loadConfig, scrubSecrets, secretsOf } from '../config/config.js';
import { exitCodeOf } from '../core/errors.js';
import { consoleOutput } from './output.js';
import { buildProgram, type CliDeps } from './program.js';

// The one composition root: the `worker` command and the commands that work a run's jobs
// themselves start the worker pool, which lives outside src/ (imports point one way). It loads
// only when a command starts it (BullMQ, TypeORM and the drivers are not worth it for --help).
process.exitCode = await runCli(process.argv, {
  startWorkers: async (config, options) =>
    (await import('../../workers/worker-pool.js')).startWorkerPool(config, options),
});
exitWhenIdle();

/**
 * Every command closes what it opened before it returns, and the process then ends by itself.
 * A socket a client library keeps must not hold it: after a graceful Worker.close() on a Redis
 * Cluster, BullMQ's blocking connection leaves node sockets open (named `…:w:…`, status ready)
 * and a stopped worker stayed forever. Once stdout and stderr are flushed, a process still
 * here after LINGER_MS exits with the command's code.
 */
function exitWhenIdle(): void {
  const LINGER_MS = 2000;
  const check = (): void => {
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) setTimeout(check, 100).unref();
    else process.exit();
  };
  setTimeout(check, LINGER_MS).unref();
}

/** Runs the CLI and returns the exit code: 0 verified, 1 settled but not verified, 2 nothing started. */
async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
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
