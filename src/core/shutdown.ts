/**
 * How my2pg's processes stop, in one place: the `worker` command, `run`/`retry`/`resume` while
 * they work jobs themselves, and `board`.
 *
 * A first SIGINT/SIGTERM asks for a graceful stop; a second one forces it. A graceful stop lets
 * what runs finish within a grace period, after which it is forced; a forced stop ends what
 * runs now. Every step is memoised, so each may be called twice, or both in any order.
 */

/** The exit code of a process stopped by a signal before its work was done (128 + SIGINT). */
export const INTERRUPTED_EXIT_CODE = 130;

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** The steps of stopping something that works (a worker pool). */
export interface StopSteps {
  /** Stops taking new work and resolves once the work under way has finished. */
  drain(): Promise<void>;
  /** Stops the work under way now (it goes back to where another process can take it). */
  abort(): Promise<void>;
  /** Frees what is left once nothing runs: connections, pools. */
  release(): Promise<void>;
}

/** A memoised stop: graceful within a grace period, or forced. */
export interface Shutdown {
  /** Drains; once `graceMs` pass, forces. Resolves when everything is released. */
  close(graceMs: number): Promise<void>;
  /** Aborts now (also ending a graceful close under way), then releases, waiting for that at most `releaseMs`. */
  force(): Promise<void>;
}

/**
 * Builds the stop of one thing from its steps. A forced stop does not wait long for the
 * release: the pools wait for connections still checked out (a COPY that was aborted), while
 * the process is about to go and the servers roll those transactions back.
 */
export function createShutdown(steps: StopSteps, options: { releaseMs?: number } = {}): Shutdown {
  let released: Promise<void> | undefined;
  let forced: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let forceCalled: () => void = () => undefined;
  // Ends a graceful close's wait when force() comes meanwhile: the forced steps stop the work.
  const forcedMeanwhile = new Promise<'forced'>((resolve) => (forceCalled = () => resolve('forced')));
  const release = (): Promise<void> => (released ??= steps.release());
  const force = (): Promise<void> => {
    forceCalled();
    return (forced ??= (async () => {
      await steps.abort();
      await settleWithin([release()], options.releaseMs ?? 1000);
    })());
  };
  const close = (graceMs: number): Promise<void> =>
    (closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'expired'>((resolve) => {
        timer = setTimeout(() => resolve('expired'), graceMs);
      });
      const drained = steps.drain().then(() => 'drained' as const);
      const outcome = await Promise.race([drained, expired, forcedMeanwhile]);
      clearTimeout(timer);
      if (outcome === 'drained') await release();
      else await force();
    })());
  return { close, force };
}

/**
 * Waits until the promises settle or `ms` pass, whichever is first; never rejects: a close
 * only needs each step to have had its chance, whatever it ended with.
 */
export async function settleWithin(promises: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
}

/** The stop requests of the process. */
export interface StopRequests {
  /** Resolves with the first SIGINT/SIGTERM. */
  readonly first: Promise<NodeJS.Signals>;
  /** True once a second signal has come. */
  readonly forced: boolean;
  /** Stops listening, unless a first signal came: then a second one must still force. */
  dispose(): void;
}

/**
 * Listens for SIGINT/SIGTERM: the first resolves `first` (the caller stops gracefully), every
 * later one calls `onForce`, by default an exit with code 130 at once, since the graceful stop
 * under way is what the operator chose not to wait for.
 */
export function listenForStop(onForce: (signal: NodeJS.Signals) => void = exitInterrupted): StopRequests {
  let signals = 0;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => undefined;
  const first = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) resolveFirst(signal);
    else onForce(signal);
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  return {
    first,
    get forced() {
      return signals > 1;
    },
    dispose() {
      if (signals === 0) for (const name of STOP_SIGNALS) process.removeListener(name, onSignal);
    },
  };
}

/** A forced stop of the whole process: nothing it was doing is worth waiting for any more. */
function exitInterrupted(): never {
  process.exit(INTERRUPTED_EXIT_CODE);
}
