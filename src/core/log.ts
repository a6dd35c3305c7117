import { pino, type Logger } from 'pino';

export type { Logger };

/** `json`: pino's lines, for pipes, files and log collectors. `human`: one short sentence a line. */
export type LogFormat = 'json' | 'human';

/** How a logger writes. */
export interface LoggerOptions {
  /** Default `json`. */
  format?: LogFormat | undefined;
  /** Where each finished line goes (without its newline); default: stderr. */
  write?: ((line: string) => void) | undefined;
}

/** `auto` is human on a terminal and JSON anywhere else. */
export function resolveLogFormat(setting: LogFormat | 'auto', terminal: boolean): LogFormat {
  return setting === 'auto' ? (terminal ? 'human' : 'json') : setting;
}

const LEVEL_WORDS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
// Fields every line has, or that say nothing to a person reading a terminal.
const QUIET_FIELDS = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'msg',
  'table',
  'err',
  'runId',
  'jobId',
  'permanent',
]);

function brief(value: unknown): string {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/**
 * One pino JSON line as a sentence: level word, table, message, the error, then other fields
 * briefly: `error users: copy failed: table users: the target table … (permanent true)`.
 */
export function formatHumanLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.trimEnd();
  }
  const level = LEVEL_WORDS[Number(entry.level)] ?? String(entry.level);
  const table = typeof entry.table === 'string' ? `${entry.table}: ` : '';
  const error =
    entry.err === undefined
      ? ''
      : `: ${typeof entry.err === 'object' && entry.err !== null && 'message' in entry.err ? String((entry.err as { message: unknown }).message) : brief(entry.err)}`;
  const extra = Object.entries(entry)
    .filter(
      ([key, value]) =>
        !QUIET_FIELDS.has(key) &&
        value !== undefined &&
        value !== null &&
        !(typeof value === 'object' && Object.keys(value).length === 0),
    )
    .map(([key, value]) => `${key} ${brief(value)}`);
  return `${level} ${table}${String(entry.msg ?? '')}${error}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`
    .replace(/\s+/g, ' ')
    .trimEnd();
}

/** The process logger, on stderr unless told otherwise, so that stdout stays for reports. */
export function createLogger(level: string, secrets: readonly string[] = [], options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'json';
  const write = options.write;
  const destination =
    format === 'human'
      ? { write: (line: string) => (write ?? ((l: string) => process.stderr.write(`${l}\n`)))(formatHumanLine(line)) }
      : write
        ? { write: (line: string) => write(line.replace(/\n$/, '')) }
        : pino.destination(2);
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['password', '*.password', 'config.*Url'], censor: '***' },
      hooks: {
        streamWrite(line: string): string {
          let out = line;
          for (const secret of secrets) out = out.split(secret).join('***');
          return out;
        },
      },
    },
    destination,
  );
}
