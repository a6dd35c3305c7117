import { writeFileSync } from 'node:fs';
import { redactUrl, type ConfigOverrides } from '../config/config.js';
import { describeError, UsageError } from '../core/errors.js';
import { describePlan, type PlanDocument } from '../run/plan-document.js';
import { followProblemsOf } from '../follow/follow-start.js';
import { fallbackProblemsOf } from '../fallback/preconditions.js';
import { planRun } from '../run/plan-run.js';
import { sourceTableOf } from '../run/run-plan.js';
import { tryPlan } from '../run/plan-trial.js';
import type { Output } from './output.js';
import { formatPlanMarkdown, formatPlanText } from './plan-output.js';
import { resolveRunSettings, type PlanFlags } from './run-settings.js';
import { withDatabases } from './command-services.js';
import { evictionProblem, readEvictionPolicy, uncheckedNotice } from '../queue/redis-policy.js';

/** `plan`'s own flags. */
export interface PlanCommandFlags extends PlanFlags {
  json?: boolean;
  markdown?: string;
  quick?: boolean;
}

/**
 * `my2pg plan`: what a `run` with the same flags and migration file would do, read from both
 * catalogs (and, unless `--quick`, each table once for exact counts), with nothing written:
 * no table, no `my2pg` schema, no Redis key (a Redis queue is asked only its maxmemory-policy). Exit 0 without
 * blockers, 1 with blockers (each named with its fix), 2 for usage or an unreachable service.
 */
export async function planCommand(
  overrides: ConfigOverrides,
  flags: PlanCommandFlags,
  output: Output,
): Promise<number> {
  const settings = await resolveRunSettings(overrides, flags, { need: ['source', 'target'] });
  const documents: PlanDocument[] = [];
  const redisUrl = settings[0]!.config.redisUrl;
  const policy = redisUrl !== undefined ? await readEvictionPolicy(redisUrl, 'unchecked') : undefined;
  const queueProblem = policy && evictionProblem(redisUrl!, policy);
  const notice = policy && uncheckedNotice(redisUrl!, policy);
  if (notice !== undefined) output.err(`warning: ${notice}`);
  for (const { config, input, database } of settings) {
    const reading = flags.quick ? 'quick' : 'count';
    documents.push(
      await withDatabases(config, { source: true }, async ({ source, target }) => {
        try {
          const plan = await planRun(source!, target, input, reading);
          const trial = await tryPlan(target, plan);
          const planned = plan.planned.map((p) => sourceTableOf(plan, p));
          const followProblems = input.follow
            ? [
                ...(await followProblemsOf(source!, planned)),
                ...(input.fallback ? await fallbackProblemsOf(source!, target, plan.catalog.database, planned) : []),
              ]
            : [];
          return await describePlan(source!, plan, trial, {
            sourceLabel: input.sourceLabel,
            targetLabel: redactUrl(config.databaseUrl ?? ''),
            reading,
            where: input.where,
            verify: input.verify ?? 'checksum',
            concurrency: flags.concurrency ?? 2,
            createsSchema: database !== undefined,
            followProblems,
            queueProblem,
          });
        } catch (error) {
          // Exit 1 means blockers: anything else that stops the plan is exit 2, in one line.
          if (error instanceof UsageError) throw error;
          throw new UsageError(`the plan could not be made: ${describeError(error)}`);
        }
      }),
    );
  }
  if (flags.markdown) {
    try {
      writeFileSync(flags.markdown, documents.map(formatPlanMarkdown).join('\n'));
    } catch (error) {
      throw new UsageError(`--markdown ${flags.markdown}: cannot write the file: ${(error as Error).message}`);
    }
  }
  if (flags.json) {
    // One database: the plan itself; several (the migration file's databases): each plan, in file order.
    const blockers = documents.reduce((sum, d) => sum + d.blockers, 0);
    output.out(JSON.stringify(documents.length === 1 ? documents[0] : { plans: documents, blockers }, null, 2));
  } else {
    documents.forEach((document, i) => {
      if (i > 0) output.out('');
      for (const line of formatPlanText(document)) output.out(line);
    });
    if (flags.markdown) output.err(`plan written to ${flags.markdown}`);
  }
  return documents.some((d) => d.blockers > 0) ? 1 : 0;
}
