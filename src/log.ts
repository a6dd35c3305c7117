import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger: pino JSON on stderr, so stdout stays for reports. */
export function createLogger(level: string, secrets: readonly string[] = []): Logger {
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
    pino.destination(2),
  );
}
