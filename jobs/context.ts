import type { DataSource } from 'typeorm';
import type { Logger } from '../src/log.js';

/** What a processor works with: the process's DataSources and logger, never credentials. */
export interface JobContext {
  source: DataSource;
  target: DataSource;
  logger: Logger;
}
