import type { QueueNames } from './target-scope.js';

/**
 * Workers this process runs (`worker`; `run`, `retry`/`resume` without a worker, for the wait):
 * what workers/worker-pool.ts starts.
 */
export interface InProcessPool {
  /** Stops taking jobs, lets active ones finish within `graceMs`, then forces. Safe to call twice. */
  close(graceMs?: number): Promise<void>;
  /** Hands the active jobs back to the queue now; also ends a close under way. Safe to call twice. */
  forceClose(): Promise<void>;
  /** The queues the workers take jobs from. */
  queues: QueueNames;
}
