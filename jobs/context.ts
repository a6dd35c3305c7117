import type { DataSource } from 'typeorm';
import type { Logger } from '../src/core/log.js';

/** What a processor works with: the process's DataSources and logger, never credentials. */
export interface JobContext {
  source: DataSource;
  target: DataSource;
  logger: Logger;
  /** Aborted when the process stops at once (a forced shutdown): running copies roll back. */
  shutdown?: AbortSignal | undefined;
  /** Aborted when the process begins a graceful stop: a follower stops at its last commit and hands its job back. */
  draining?: AbortSignal | undefined;
}
