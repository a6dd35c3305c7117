import type { DataSource } from 'typeorm';
import type { CopyTableInput } from '../copy/copy-plan.js';
import type { RunCatalog } from '../state/run-catalog.js';
import type { OnDdl } from './ddl-handler.js';
import type { FollowProgress } from '../queue/contract.js';
import type { FollowVerifier } from './follow-progress.js';

/** A follower's input: the run's databases, catalog, how to reach the source's binary log, and each followed table. */
export interface FollowInput {
  runId: string;
  source: DataSource;
  target: DataSource;
  /** The run's catalog; a FollowedCatalog when verification while following shares it (schema changes show there too). */
  catalog: RunCatalog;
  /** What a statement that changes a followed table does; default apply. */
  onDdl?: OnDdl | undefined;
  /** The source's mysql2 connection options (host, port, user, password, database). */
  sourceConnection: Record<string, unknown>;
  database: string;
  /** Source table → its copy input and the key its rows are matched by. */
  tables: ReadonlyMap<string, { input: CopyTableInput; key: readonly string[] }>;
  signal?: AbortSignal | undefined;
  onProgress?: (progress: FollowProgress) => void | Promise<void>;
  onLog?: (line: string) => void | Promise<void>;
  /** Verification while following; absent: none. */
  verifier?: FollowVerifier | undefined;
}
