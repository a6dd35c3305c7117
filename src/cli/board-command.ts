import { secretsOf, type ConfigOverrides } from '../config/config.js';
import { resolveCommandConfig } from './command-config.js';
import { createLogger, resolveLogFormat } from '../core/log.js';
import { checkQueueReachable, openQueueBackend } from '../queue/open-queue-backend.js';
import { listenForStop } from '../core/shutdown.js';
import type { Output } from './output.js';
import { resolveBoardAccess } from '../board/board-access.js';
import { startBoard, type BoardListenOptions } from '../board/board-server.js';

/**
 * `my2pg board`: Bull Board on this deployment's queues until the first SIGINT/SIGTERM, which
 * closes it (exit 0); a second signal exits at once (130). Access is checked before anything
 * connects, so a refused host costs no queue connection.
 */
export async function boardCommand(
  overrides: ConfigOverrides,
  flags: BoardListenOptions,
  output: Output,
  configFile?: string,
): Promise<number> {
  // Every target's queues are shown: the file's databases need no choice here.
  const { config } = resolveCommandConfig(overrides, ['queue'], {
    config: configFile,
    logLevel: 'info',
    pickSchema: false,
  });
  const credentials = resolveBoardAccess(flags.host, config.boardUser, config.boardPassword);
  await checkQueueReachable(config);
  const logger = createLogger(config.logLevel, secretsOf(config), {
    format: resolveLogFormat(config.logFormat, output.tty !== undefined),
  });
  const backend = openQueueBackend(config, {
    role: 'board',
    onError: (error) => logger.warn({ err: error.message }, 'board: queue connection error'),
  });
  const board = await startBoard(backend, { ...flags, credentials, logger }).catch(async (error: unknown) => {
    await backend.close();
    throw error;
  });
  const notes = [
    `the copy and finalize queues of every target in ${backend.where}`,
    credentials ? 'basic auth' : 'no auth (loopback only)',
  ];
  if (flags.readOnly) notes.push('read-only');
  output.err(`my2pg board: listening on ${board.url} (${notes.join(', ')}); SIGINT/SIGTERM to stop`);
  await listenForStop().first;
  await board.close();
  return 0;
}
