import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BIN, type Sandbox } from './sandbox.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface TtyOptions {
  timeoutMs?: number;
  /** Width of the pseudo terminal, columns (30 rows). Default 160. */
  cols?: number;
  /** `answer` is typed once the screen shows `prompt`. */
  reply?: { prompt: string; answer: string };
}

/**
 * Runs `my2pg …` under a real pseudo terminal (util-linux `script`), pointed at the sandbox;
 * returns its exit code and everything it drew.
 */
export function cliOnTty(
  sandbox: Sandbox,
  args: string[],
  options: TtyOptions = {},
): Promise<{ code: number | null; screen: string }> {
  const { timeoutMs = 90_000, cols = 160, reply } = options;
  const command = `stty rows 30 cols ${cols}; exec ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: ROOT,
      env: sandbox.env,
      stdio: [reply ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let screen = '';
    let replied = false;
    child.stdout!.on('data', (d: Buffer) => {
      screen += d.toString();
      if (reply && !replied && screen.includes(reply.prompt)) {
        replied = true;
        child.stdin?.write(reply.answer);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (screen += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`my2pg ${args.join(' ')} on a TTY timed out: ${screen}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}
