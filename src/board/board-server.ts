import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import type { HookContext } from '@bull-board/api/typings/app';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { UsageError } from '../core/errors.js';
import { basicAuth, type BoardCredentials } from './board-access.js';
import { formatBoardJobName, formatBoardProgress } from './board-progress.js';
import type { Logger } from '../core/log.js';
import type { AnyQueue, QueueBackend } from '../queue/queue-backend.js';
import type { TargetScope } from '../queue/target-scope.js';

/** How `my2pg board` listens. */
export interface BoardListenOptions {
  host: string;
  port: number;
  /** No retry, clean, pause or add buttons; every changing API call answers 405. */
  readOnly: boolean;
}

/** A listening board. */
export interface RunningBoard {
  /** The address to open, without credentials. */
  url: string;
  port: number;
  /** Stops listening and closes the queue connection. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Refuses to retry a completed job, also through the API (the UI already hides the button):
 * finalize has run by then, and copying the table again behind its back would leave the run's
 * verification describing other rows. A new run is the way to redo a finished table.
 */
async function refuseCompletedRetries(
  context: HookContext,
): Promise<{ allow: false; status: 409; message: string } | undefined> {
  if (context.method !== 'put') return undefined;
  const params = context.request.params as { queueName?: string; jobId?: string; queueStatus?: string };
  // A read-only board refuses every change itself (405).
  if (params.queueName && context.request.queues.get(params.queueName)?.readOnlyMode) return undefined;
  const message = 'a completed my2pg job is not retried: start a new run to copy a finished table again';
  if (context.route === '/api/queues/:queueName/retry/:queueStatus' && params.queueStatus === 'completed')
    return { allow: false, status: 409, message };
  if (context.route === '/api/queues/:queueName/:jobId/retry' && params.queueName && params.jobId) {
    const job = await context.request.queues.get(params.queueName)?.getJob(params.jobId);
    if (job && (await (job as { getState(): Promise<string> }).getState()) === 'completed')
      return { allow: false, status: 409, message };
  }
  return undefined;
}

/** One queue the board shows, with the target it belongs to. */
interface BoardQueue {
  queue: AnyQueue;
  kind: 'copy' | 'finalize';
  target: Pick<TargetScope, 'database' | 'schema'>;
}

/** The board's Express app and a way to add the queues of targets found later. */
interface BoardApp {
  app: express.Express;
  addQueues(queues: readonly BoardQueue[]): void;
}

/** The Express app: basic auth first (when configured), then Bull Board at `/` and its API under `/api`. */
function createBoardApp(
  queues: readonly BoardQueue[],
  options: {
    readOnly: boolean;
    credentials: BoardCredentials | undefined;
    /** Where the queues are (`Redis …, prefix …` or `PostgreSQL schema … of …`), in each queue's description. */
    where: string;
    beforeRequest?: (() => Promise<void>) | undefined;
  },
): BoardApp {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath('/');
  // No Retry button on completed jobs; refuseCompletedRetries closes the API route too.
  const adapterOptions = { readOnlyMode: options.readOnly, allowCompletedRetries: false };
  const adapt = ({ queue, kind, target }: BoardQueue): BullMQAdapter => {
    const whose = `database ${target.database}, schema ${target.schema}, queue in ${options.where}`;
    // Bull Board's adapter is typed for the Redis queue class; it uses only the backend-neutral API.
    const adapter = new BullMQAdapter(queue as ConstructorParameters<typeof BullMQAdapter>[0], {
      ...adapterOptions,
      description:
        kind === 'copy'
          ? `${whose}: one copy-table job per table; progress shows rows, total, rows/s and ETA`
          : `${whose}: one finalize job per run; progress shows its phase, its return value is the verification record`,
    });
    adapter.setFormatter('progress', formatBoardProgress);
    adapter.setFormatter('name', formatBoardJobName);
    return adapter;
  };
  const board = createBullBoard({
    queues: queues.map(adapt),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'my2pg' }, handlerHooks: { before: refuseCompletedRetries } },
  });
  const app = express();
  app.disable('x-powered-by');
  if (options.credentials) app.use(basicAuth(options.credentials));
  if (options.beforeRequest) {
    const before = options.beforeRequest;
    app.use((_req: Request, _res: Response, next: NextFunction) => {
      // A failed look serves the queues known so far; the connection's error listener logged why.
      before().then(
        () => next(),
        () => next(),
      );
    });
  }
  app.use('/', serverAdapter.getRouter() as express.Router);
  return {
    app,
    addQueues: (more) => {
      for (const q of more) board.addQueue(adapt(q));
    },
  };
}

/**
 * Starts Bull Board on the queues of every target of one deployment (a Redis and prefix, or a
 * target database's queue schema): each target has its own copy and finalize queues, listed in
 * the backend's target registry, which the board reads again (at most every 2 s) when a page or
 * the API is requested, so the queues of a target that starts later appear too. The backend's
 * connection reconnects, as the board is long-lived, but a request fails instead of hanging
 * while the queue's server is away.
 */
export async function startBoard(
  backend: QueueBackend,
  options: BoardListenOptions & { credentials: BoardCredentials | undefined; logger: Logger },
): Promise<RunningBoard> {
  const queues = new Map<string, AnyQueue>();
  const queuesOf = (targets: readonly TargetScope[]): BoardQueue[] => {
    const fresh: BoardQueue[] = [];
    for (const target of targets) {
      for (const kind of ['copy', 'finalize'] as const) {
        const name = target.queues[kind];
        if (queues.has(name)) continue;
        const queue = backend.queue(name, { readOnly: options.readOnly });
        queues.set(name, queue);
        fresh.push({ queue, kind, target });
      }
    }
    return fresh;
  };
  let lastLook = 0;
  let looking: Promise<void> | undefined;
  let board: BoardApp | undefined;
  const discover = (): Promise<void> => {
    if (Date.now() - lastLook < 2000) return looking ?? Promise.resolve();
    lastLook = Date.now();
    looking = backend.listTargets().then((targets) => {
      const fresh = queuesOf(targets);
      if (fresh.length > 0) board?.addQueues(fresh);
    });
    return looking;
  };
  board = createBoardApp(queuesOf(await backend.listTargets()), {
    readOnly: options.readOnly,
    credentials: options.credentials,
    where: backend.where,
    beforeRequest: discover,
  });
  lastLook = Date.now();
  const app = board.app;
  const release = (): Promise<void> => backend.close();
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(options.port, options.host);
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
  } catch (error) {
    await release();
    const e = error as NodeJS.ErrnoException;
    throw new UsageError(
      `board: cannot listen on ${options.host}:${options.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use; pick another with --port' : e.message}`,
    );
  }
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  options.logger.info(
    { host: options.host, port, readOnly: options.readOnly, auth: Boolean(options.credentials) },
    'board listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}/`,
    port,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Bull Board polls; idle keep-alive sockets would hold close() open.
          server.closeAllConnections();
        });
        await release();
      })();
      return closing;
    },
  };
}
