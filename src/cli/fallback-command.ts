import type { ConfigOverrides } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { fallBack } from '../fallback/fall-back.js';
import { disarmFallback } from '../fallback/slot.js';
import { followBackJobId } from '../queue/contract.js';
import { queuesOfRun } from '../queue/target-scope.js';
import { getFallback } from '../state/fallback-state.js';
import { resolveCommandConfig } from './command-config.js';
import { resolveRun, withServices } from './command-services.js';
import type { Output } from './output.js';

/** `fallback [RUN_ID] [--wait] [--lock]`. */
export async function fallbackCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { wait?: boolean; lock?: boolean; config?: string },
  output: Output,
): Promise<number> {
  const { config } = resolveCommandConfig(overrides, ['source', 'target', 'queue'], {
    config: flags.config,
    runId,
    logLevel: 'warn',
  });
  if (!flags.lock)
    throw new UsageError(
      "fallback freezes PostgreSQL's writes itself in this version: run it with --lock (the application may keep running; its writes wait for the lock); nothing was done",
    );
  return withServices(config, { source: true }, async ({ source, target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema);
    const state = await getFallback(target, run.id);
    if (!run.options.fallback || !state)
      throw new UsageError(
        `run ${run.id} has no way back: it was ${run.options.fallback ? 'not cut over yet' : 'started without --follow --fallback'}; nothing was done`,
      );
    if (state.status === 'done') {
      output.err(`run ${run.id} already fell back (${JSON.stringify(state.outcome)})`);
      return 0;
    }
    if (state.status === 'finished')
      throw new UsageError(`run ${run.id}'s way back was finished (its slot dropped); nothing was done`);
    if (state.status === 'stopped')
      throw new UsageError(
        `the way back of run ${run.id} stopped: ${state.error ?? 'no reason recorded'}; fix it and retry (npx my2pg retry ${run.id}); nothing was done`,
      );
    const queues = queuesFor(queuesOfRun(run.options));
    for (let shownAt = 0; ; ) {
      const job = await queues.copy.getJob(followBackJobId(run.id));
      const jobState = job ? await job.getState() : 'missing';
      if (jobState === 'active') break;
      if (!flags.wait)
        throw new UsageError(
          `the way back's job is ${jobState} (is a worker running?); run again later or with --wait; nothing was done`,
        );
      if (Date.now() - shownAt > 10_000) {
        output.err(`waiting: the way back's job is ${jobState} (is a worker running?)`);
        shownAt = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const outcome = await fallBack(source!, target, run, { log: (line) => output.err(line) });
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    const freeze = `PostgreSQL writes frozen for ${seconds(outcome.frozenMs)} (drain ${seconds(outcome.drainMs)}, verification ${seconds(outcome.verifyMs)}), at ${outcome.lsn}`;
    if (outcome.go) {
      output.out(
        `fallback: GO, run ${run.id}: every table of MySQL verified equal to PostgreSQL; ${freeze}. ${outcome.madeWritable ? 'MySQL is writable again (SET GLOBAL read_only = OFF). ' : ''}Point the application at MySQL now: writes to PostgreSQL are not followed any more; drop the slot with: npx my2pg finish ${run.id}`,
      );
      return 0;
    }
    for (const problem of outcome.problems) output.out(`  ${problem}`);
    output.out(
      `fallback: NO-GO, run ${run.id}: the differences are above; ${freeze}. The way back goes on following; the application stays on PostgreSQL`,
    );
    return 1;
  });
}

/** `finish [RUN_ID]`: drops the way back's slot and publication. */
export async function finishCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { config?: string },
  output: Output,
): Promise<number> {
  const { config } = resolveCommandConfig(overrides, ['target', 'queue'], {
    config: flags.config,
    runId,
    logLevel: 'warn',
  });
  return withServices(config, { source: false }, async ({ target }) => {
    const run = await resolveRun(target, runId, config.schema);
    if (!run.options.fallback) throw new UsageError(`run ${run.id} has no way back (started without --fallback)`);
    const dropped = await disarmFallback(target, run.id);
    output.out(
      `finish: run ${run.id}: ${dropped.slot ? 'replication slot dropped' : 'no replication slot left'}, ${dropped.publication ? 'publication dropped' : 'no publication left'}; the way back is over`,
    );
    return 0;
  });
}
