import type { TtyStream } from './progress.js';

/** Where a command writes: stdout for reports, stderr for progress. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** The terminal behind `err`, when it is one: progress is then drawn as live bars. */
  tty?: TtyStream | undefined;
  /** Asks a yes/no question on the terminal; absent when there is no terminal to ask on. */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
}

/** Asks on stderr, reads the answer from stdin; only yes/y confirms. */
async function confirmOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  tty: process.stderr.isTTY ? process.stderr : undefined,
  confirm: process.stdin.isTTY && process.stderr.isTTY ? confirmOnTerminal : undefined,
};
