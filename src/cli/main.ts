import { runCli } from './program.js';

// The one composition root: the `worker` command and the commands that work a run's jobs
// themselves start the worker pool, which lives outside src/ (imports point one way). It loads
// only when a command starts it (BullMQ, TypeORM and the drivers are not worth it for --help).
process.exitCode = await runCli(process.argv, {
  startWorkers: async (config, options) =>
    (await import('../../workers/worker-pool.js')).startWorkerPool(config, options),
});
