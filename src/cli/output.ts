import type { TtyStream } from './progress.js';

/** Where a command writes: stdout for reports, stderr for progress. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** The terminal behind `err`, when it is one: progress is then drawn as live bars. */
  tty?: TtyStream | undefined;
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  tty: process.stderr.isTTY ? process.stderr : undefined,
};
