import { runCli } from './program.js';
import { loadConfig, secretsOf, type ConfigOverrides } from '../config/config.js';

// Workers (BullMQ, TypeORM, the drivers) and the logger load only in the commands that run them.
const workerPool = (): Promise<typeof import('../../workers/worker-pool.js')> => import('../../workers/worker-pool.js');

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `my2pg worker`: runs until a signal; the first closes gracefully, a second forces. */
async function runWorker(overrides: ConfigOverrides, options: { concurrency: number }): Promise<number> {
  const config = loadConfig(overrides, ['source', 'target', 'redis']);
  const [{ createLogger, resolveLogFormat }, { startWorkerPool }] = await Promise.all([import('../core/log.js'), workerPool()]);
  const logger = createLogger(config.logLevel, secretsOf(config), { format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true) });
  const graceMs = config.shutdownGraceMs;
  const pool = await startWorkerPool(config, { concurrency: options.concurrency, logger });
  process.stderr.write(`my2pg worker: ready (concurrency ${options.concurrency}) on queues ${pool.queues.copy} and ${pool.queues.finalize} (prefix ${config.queuePrefix}); SIGINT/SIGTERM to stop\n`);
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) {
        logger.info({ signal, graceMs }, 'shutting down: no new jobs, active ones finish');
        // A second signal forces the close, which then ends the graceful one too: still 130.
        pool.close(graceMs).then(() => resolve(signals > 1 ? 130 : 0), () => resolve(1));
      } else {
        logger.warn({ signal }, 'second signal: forcing shutdown');
        pool.forceClose().finally(() => resolve(130));
      }
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
  });
}

/** Resolves on the first SIGINT/SIGTERM (`board`); a second one exits at once. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) resolve(signal);
      else process.exit(130);
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
  });
}

/**
 * While `run`, `retry` or `resume` process jobs here: the first SIGINT/SIGTERM resolves the
 * signal (the command hands its jobs back and exits 130); a second one exits at once.
 */
function interruptions(): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let signals = 0;
  let resolve: (signal: NodeJS.Signals) => void = () => undefined;
  const signal = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const onSignal = (received: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) resolve(received);
    else process.exit(130);
  };
  for (const name of SIGNALS) process.on(name, onSignal);
  return {
    signal,
    dispose() {
      // After the first signal the handlers stay, so that a second one still forces the exit.
      if (signals === 0) for (const name of SIGNALS) process.removeListener(name, onSignal);
    },
  };
}

const code = await runCli(process.argv, {
  startWorkers: async (config, options) => (await workerPool()).startWorkerPool(config, options),
  runWorker,
  untilStopped,
  interruptions,
});
process.exitCode = code;
// Open handles (pools, sockets) must not keep a finished command alive.
setTimeout(() => process.exit(code), 200).unref();
