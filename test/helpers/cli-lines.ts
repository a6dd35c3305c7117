import type { Command, Option } from 'commander';
import { buildProgram } from '../../src/cli/program.js';

// Command lines written outside the code (the docs) checked against the real commander program,
// as test/unit/compose.test.ts checks docker-compose.yml: the command exists, each flag is one of
// its options or a global one.

/** The my2pg program with actions that never run: only its commands and options are looked at. */
export function cliProgram(): Command {
  const never = () => {
    throw new Error('not called');
  };
  return buildProgram({ startWorkers: never }, { exitCode: 0 });
}

function findOption(options: readonly Option[], token: string): Option | undefined {
  return options.find((o) => o.long === token || o.short === token);
}

/** The long flags (`--tables`) a command takes, its own and the global ones, `--help` included. */
export function optionsOf(root: Command, command: Command): Set<string> {
  const longs = [...command.options, ...root.options].map((o) => o.long).filter((l): l is string => l !== undefined);
  return new Set([...longs, '--help']);
}

interface CheckLineOptions {
  /**
   * Run each value through the option's parser and choices. Off for the docs, whose values are
   * placeholders (`--concurrency N`, `--table NAME`).
   */
  values: boolean;
}

/**
 * Checks `args` (what follows `my2pg`) with commander's own definitions: global flags may come
 * first, then the command, its flags and operands. Throws naming the first problem; returns the
 * command and its flags.
 */
export function checkCommandLine(
  args: readonly string[],
  options: CheckLineOptions = { values: true },
): { name: string; flags: Record<string, string | true> } {
  const root = cliProgram();
  let i = 0;
  const flags: Record<string, string | true> = {};
  const takeFlag = (command: Command | undefined, label: string): void => {
    const token = args[i] as string;
    const [flag, inline] = token.split('=', 2) as [string, string | undefined];
    const option = (command ? findOption(command.options, flag) : undefined) ?? findOption(root.options, flag);
    if (!option && (flag === '--help' || flag === '-h')) {
      flags[flag] = true;
      return;
    }
    if (!option) throw new Error(`${label} has no option ${flag}`);
    if (option.required || option.optional) {
      const value = inline ?? args[(i += 1)];
      if (value === undefined) throw new Error(`${label} ${flag} needs a value`);
      if (options.values) {
        if (option.argChoices && !option.argChoices.includes(value))
          throw new Error(`${label} ${flag}: ${value} is not one of ${option.argChoices.join(', ')}`);
        option.parseArg?.(value, undefined);
      }
      flags[flag] = value;
    } else {
      flags[flag] = true;
    }
  };
  for (; i < args.length && (args[i] as string).startsWith('-'); i += 1) takeFlag(undefined, 'my2pg');
  const name = args[i];
  if (name === undefined) return { name: '', flags };
  const sub = root.commands.find((c) => c.name() === name);
  if (!sub)
    throw new Error(`"${name}" is not a my2pg command (known: ${root.commands.map((c) => c.name()).join(', ')})`);
  const operands: string[] = [];
  for (i += 1; i < args.length; i += 1) {
    const token = args[i] as string;
    if (token.startsWith('-')) takeFlag(sub, `my2pg ${name}`);
    else operands.push(token);
  }
  const declared = sub.registeredArguments.length;
  if (operands.length > declared)
    throw new Error(`my2pg ${name} takes ${declared} argument(s), got ${operands.join(' ')}`);
  return { name, flags };
}
