import { secretsOf, type ConfigOverrides } from '../config/config.js';
import { resolveCommandConfig } from './command-config.js';
import { describeQueueLocation } from '../queue/open-queue-backend.js';
import { describeError } from '../core/errors.js';
import { createLogger, resolveLogFormat } from '../core/log.js';
import { INTERRUPTED_EXIT_CODE, listenForStop } from '../core/shutdown.js';
import type { StartWorkers } from './command-services.js';
import type { Output } from './output.js';

/**
 * `my2pg worker`: works jobs until a signal. The first SIGINT/SIGTERM takes no new job and
 * lets the active ones finish within the grace period (MY2PG_SHUTDOWN_GRACE_MS), after which
 * they are handed back to the queue: exit 0. A second signal hands them back at once: exit 130.
 */
export async function workerCommand(
  overrides: ConfigOverrides,
  options: { concurrency: number; config?: string },
  output: Output,
  startWorkers: StartWorkers,
): Promise<number> {
  const { config } = resolveCommandConfig(overrides, ['source', 'target', 'queue'], {
    config: options.config,
    logLevel: 'info',
  });
  const logger = createLogger(config.logLevel, secretsOf(config), {
    format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true),
  });
  const graceMs = config.shutdownGraceMs;
  const pool = await startWorkers(config, { concurrency: options.concurrency, logger });
  output.err(
    `my2pg worker: ready (concurrency ${options.concurrency}) on queues ${pool.queues.copy} and ${pool.queues.finalize} (${describeQueueLocation(config)}); SIGINT/SIGTERM to stop`,
  );
  const stop = listenForStop((signal) => {
    logger.warn({ signal }, 'second signal: forcing shutdown');
    // Ends the graceful close awaited below as well.
    void pool.forceClose();
  });
  const signal = await stop.first;
  logger.info({ signal, graceMs }, 'shutting down: no new jobs, active ones finish');
  try {
    await pool.close(graceMs);
  } catch (error) {
    logger.error({ err: describeError(error) }, 'shutdown failed');
    return 1;
  }
  return stop.forced ? INTERRUPTED_EXIT_CODE : 0;
}
