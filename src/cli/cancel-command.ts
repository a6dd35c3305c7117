import type { ConfigOverrides } from '../config/config.js';
import { resolveCommandConfig } from './command-config.js';
import { UsageError } from '../core/errors.js';
import { queuesOfRun } from '../queue/target-scope.js';
import { guardRunStart } from '../run/run-guard.js';
import { listRunTables } from '../state/run-tables.js';
import { cancelRun, describeCancelOutcome, type CancelOutcome } from '../run/cancel-run.js';
import type { Output } from './output.js';
import { jobRefs, resolveRun, withServices } from './command-services.js';
import { copyStatusOf } from '../state/table-status.js';

/**
 * `cancel`: stops a run for good. Its jobs leave Redis (running ones are asked to stop, and
 * their transactions roll back), every index and foreign key it dropped is restored, and it
 * is marked `cancelled`. Asks first on a terminal; elsewhere it needs --yes.
 */
export async function cancelCommand(
  overrides: ConfigOverrides,
  runId: string | undefined,
  flags: { yes?: boolean; config?: string },
  output: Output,
): Promise<number> {
  const { config } = resolveCommandConfig(overrides, ['target', 'queue'], {
    config: flags.config,
    runId,
    logLevel: 'warn',
  });
  return withServices(config, { source: false }, async ({ target, queuesFor }) => {
    const run = await resolveRun(target, runId, config.schema);
    if (run.status !== 'running' && run.status !== 'cancelled') {
      throw new UsageError(
        `run ${run.id} has finished (${run.status}); there is nothing to cancel; see it with: npx my2pg status ${run.id}`,
      );
    }
    const queues = queuesFor(queuesOfRun(run.options));
    const tables = await listRunTables(target, run.id);
    const copied = tables.filter((t) => copyStatusOf(t) === 'copied').length;
    const what = `cancel run ${run.id} (schema ${run.targetSchema}, ${copied}/${tables.length} tables copied): remove its jobs from Redis, stop the running ones, restore the indexes and foreign keys it dropped${run.options.follow ? ', drop the write guards of its followed tables' : ''}`;
    if (!flags.yes) {
      if (!output.confirm)
        throw new UsageError(
          `${what}? There is no terminal to ask on; add --yes to confirm: npx my2pg cancel ${run.id} --yes`,
        );
      if (!(await output.confirm(`${what}?`))) {
        output.err(`run ${run.id}: not cancelled`);
        return 2;
      }
    }
    // Held throughout: a start on the schema now would adopt the constraints being restored.
    const guard = await guardRunStart(target, queuesFor, run.targetSchema, { of: run.id, action: 'cancel' });
    let outcome: CancelOutcome;
    try {
      outcome = await cancelRun(target, queues, run, jobRefs(run, tables), {
        stopWaitMs: config.lockDurationMs + 10_000,
        say: (line) => output.err(line),
      });
    } finally {
      await guard.release();
    }
    for (const line of describeCancelOutcome(run.id, outcome)) output.out(line);
    return outcome.stuckJobs.length > 0 || outcome.constraints.some((c) => c.status === 'failed') ? 1 : 0;
  });
}
