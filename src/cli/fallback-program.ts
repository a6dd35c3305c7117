import type { Command } from 'commander';
import type { Output } from './output.js';
import { addConfigOption, globalOverrides } from './program-options.js';

/** `fallback` and `finish`: the two ends of the way back (docs/fallback.md). */
export function addFallbackCommands(program: Command, output: Output, result: { exitCode: number }): void {
  addConfigOption(program.command('fallback [runId]'))
    .description(
      'go back to MySQL after a --fallback cutover: freeze PostgreSQL writes, drain the way back, verify MySQL, make it writable; exit 0 go, 1 no-go, 2 nothing done',
    )
    .option('--wait', "wait until the way back's job is running")
    .option('--lock', "freeze PostgreSQL's writes to the migrated tables here (LOCK TABLE … IN EXCLUSIVE MODE)")
    .action(
      async (runId: string | undefined, options: { wait?: boolean; lock?: boolean; config?: string }, command) => {
        const { fallbackCommand } = await import('./fallback-command.js');
        result.exitCode = await fallbackCommand(globalOverrides(command as Command), runId, options, output);
      },
    );
  addConfigOption(program.command('finish [runId]'))
    .description(
      "end a --fallback run's way back: drop its replication slot and publication (PostgreSQL keeps no WAL for it)",
    )
    .action(async (runId: string | undefined, options: { config?: string }, command) => {
      const { finishCommand } = await import('./fallback-command.js');
      result.exitCode = await finishCommand(globalOverrides(command as Command), runId, options, output);
    });
}
