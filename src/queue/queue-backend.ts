/**
 * The one seam between my2pg and where its BullMQ queues live (docs/queue-backends.md): Redis
 * when a Redis URL is configured, else the PostgreSQL target, in a schema of its own. Everything
 * else builds its queues, flow producers and workers through a {@link QueueBackend} and never
 * asks which one runs.
 */
import type { FlowProducer, IQueueBackend, Job, Queue, Worker } from 'bullmq';
import type { Config } from '../config/config.js';
import type { TargetScope } from './target-scope.js';

// The queue classes are generic in their backend; my2pg code handles either through these.
// biome-ignore lint/suspicious/noExplicitAny: job data is checked by each processor (validate-payload)
export type AnyQueue = Queue<any, any, string, any, any, string, IQueueBackend, any>;
// biome-ignore lint/suspicious/noExplicitAny: the connection options differ by backend
export type AnyFlowProducer = FlowProducer<IQueueBackend, any>;
// biome-ignore lint/suspicious/noExplicitAny: as above
type AnyWorker = Worker<any, any, string, IQueueBackend, any, any>;

/**
 * Who opens the backend: the CLI's producers fail fast while the connection keeps trying, a
 * worker's connections retry forever, the board's retry once per request.
 */
export type QueueRole = 'producer' | 'worker' | 'board';

/** What a worker of the pool is given by the backend. */
interface WorkerSettings {
  concurrency: number;
  /** The process that holds a job (Bull Board, CLIENT LIST, pg_stat_activity). */
  name: string;
  stalledInterval: number;
  lockDuration: number;
}

/** The queues of one deployment (a Redis and a prefix, or a target database's queue schema). */
export interface QueueBackend {
  readonly kind: Config['queueBackend'];
  /** Where the queues are, for messages and the board (no URL): `Redis, prefix my2pg` or `PostgreSQL schema my2pg_queue of the target`. */
  readonly where: string;
  /** The namespace of a queue name, as BullMQ prints it in child keys (`prefix:` on Redis, nothing on PostgreSQL). */
  readonly keyPrefix: string;
  queue(name: string, options?: { readOnly?: boolean }): AnyQueue;
  flowProducer(): AnyFlowProducer;
  worker(name: string, processor: (job: Job, token?: string) => Promise<unknown>, settings: WorkerSettings): AnyWorker;
  /**
   * Puts a job this process holds (with its lock `token`) back in the wait list at once, so
   * another worker takes it now, through a connection that stays open while the workers close.
   */
  handBack(job: Job, token: string | undefined): Promise<void>;
  /** Records a target's queues for the board (idempotent). */
  registerTarget(scope: TargetScope): Promise<void>;
  /** Every target recorded here, sorted by database and schema. */
  listTargets(): Promise<TargetScope[]>;
  /** Closes the connections this backend opened (queues and workers are closed by their owners first). Safe twice. */
  close(): Promise<void>;
}

/** Options common to both implementations. */
export interface OpenBackendOptions {
  role: QueueRole;
  /** Connection trouble the backend survives (a restart of Redis or of the target): logged, never thrown. */
  onError?: ((error: Error) => void) | undefined;
}
