import type { DataSource } from 'typeorm';
import { PermanentError, TransientError } from '../core/errors.js';
import { getRunStatus } from './runs.js';

/** How often a running job asks whether its run was cancelled, ms. */
const CANCEL_POLL_MS = 1000;

/** A job stops because `my2pg cancel` cancelled its run; permanent, so BullMQ does not retry it. */
export class RunCancelledError extends PermanentError {
  constructor(runId: string, table?: string) {
    super(
      `run ${runId} was cancelled (npx my2pg cancel)${table ? `; table ${table} was not copied and its transaction rolled back` : ''}; start a new run with: npx my2pg run`,
      { table },
    );
  }
}

/** A copy stops because its worker process stops at once; the job is handed back to the queue. */
export class WorkerStoppingError extends TransientError {
  constructor() {
    super('the worker process is stopping: the copy was rolled back and the table goes back to the queue');
  }
}

/** A watch over one run's status while a job of it works. */
export interface CancellationWatch {
  /** Aborted, with a RunCancelledError as reason, once the run is marked cancelled. */
  signal: AbortSignal;
  /** Stops polling; safe to call twice. */
  stop(): void;
}

/**
 * Polls the run's status in `my2pg.runs` while a job works. That table is what `cancel`
 * marks first, and every worker reads it, on whatever machine, with no extra channel: BullMQ
 * cannot remove a locked (active) job and its own cancellation only reaches workers of the
 * process that calls it. A failed poll (the target briefly away) is not a cancellation.
 */
export function watchRunCancellation(
  target: DataSource,
  runId: string,
  table?: string,
  everyMs = CANCEL_POLL_MS,
): CancellationWatch {
  const controller = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async (): Promise<void> => {
    try {
      if ((await getRunStatus(target, runId)) === 'cancelled') controller.abort(new RunCancelledError(runId, table));
    } catch {
      // the next poll tries again
    }
    if (!stopped && !controller.signal.aborted) timer = setTimeout(() => void poll(), everyMs);
  };
  timer = setTimeout(() => void poll(), everyMs);
  return {
    signal: controller.signal,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
