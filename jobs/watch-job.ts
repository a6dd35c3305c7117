import type { Job } from 'bullmq';
import type { Logger } from '../src/core/log.js';
import { runWatched, Watchdog } from '../src/core/watchdog.js';
import { FOLLOW_BACK_JOB, FOLLOW_JOB } from '../src/queue/contract.js';

/**
 * Runs one attempt of a job under a watchdog (src/core/watchdog.ts). The job's progress reports
 * and log lines count as progress (a copy's report only when its rows moved; a follower's every
 * report, since it reports once a second from the loop that reads the binary log). Quiet for a
 * while, the job's progress says since when and where it waits (status, Bull Board); quiet for
 * `stallTimeoutMs`, the attempt fails with the watchdog's message, its connections are
 * destroyed, and BullMQ retries it.
 */
export async function runWatchedJob<R>(
  job: Job,
  stallTimeoutMs: number,
  logger: Logger,
  processor: (job: Job) => Promise<R>,
): Promise<R> {
  // A retry shows what the previous attempt reported until it reports itself.
  let last: Record<string, unknown> | null =
    typeof job.progress === 'object' && job.progress !== null ? { ...(job.progress as Record<string, unknown>) } : null;
  if (last) delete last.stalled;
  let lastKey = '';
  let quiet: { since: number; where: string } | null = null;
  const publish = job.updateProgress.bind(job);
  const log = job.log.bind(job);
  const shown = (): Record<string, unknown> =>
    quiet
      ? { ...(last ?? {}), stalled: { since: new Date(quiet.since).toISOString(), where: quiet.where } }
      : (last ?? {});
  const watchdog = new Watchdog({
    timeoutMs: stallTimeoutMs,
    onQuiet: (q) => {
      quiet = q;
      // Shown before the watchdog acts; a report that fails (Redis away) is retried by the next one.
      publish(shown()).catch(() => undefined);
      if (q)
        log(
          `no progress since ${new Date(q.since).toISOString()} while ${q.where}; the attempt ends at ${stallTimeoutMs / 1000} s`,
        ).catch(() => undefined);
    },
  });
  job.updateProgress = async (progress: number | object): Promise<void> => {
    if (typeof progress !== 'object' || progress === null) return publish(progress);
    const { rowsPerSecond: _rate, eventsPerSecond: _events, ...moving } = progress as Record<string, unknown>;
    const key = JSON.stringify(moving);
    if (job.name === FOLLOW_JOB || job.name === FOLLOW_BACK_JOB || key !== lastKey) watchdog.moved();
    lastKey = key;
    last = progress as Record<string, unknown>;
    return publish(shown());
  };
  job.log = (line: string): Promise<number> => {
    watchdog.moved();
    return log(line);
  };
  try {
    return await runWatched(watchdog, () => Promise.race([processor(job), watchdog.stalled]));
  } catch (error) {
    if (watchdog.error && error === watchdog.error) {
      logger.warn({ jobId: job.id, queue: job.queueName, err: watchdog.error.message }, 'job stalled');
      await log(`attempt ${job.attemptsMade + 1} ended by the watchdog: ${watchdog.error.message}`).catch(
        () => undefined,
      );
    }
    throw error;
  } finally {
    watchdog.stop();
    job.updateProgress = publish;
    job.log = log;
  }
}
