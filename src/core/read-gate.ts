/**
 * Lets a long streaming read give way to more urgent work on the same machine: the reader asks
 * `closed()` as rows arrive and, when it is, stops reading its socket (the server waits on the
 * send, the snapshot stays open) until `opened()` resolves. A gate decides only when a read
 * goes on, never what it reads.
 */
export interface ReadGate {
  /** Whether the read should stop now. Asked for every row: cheap. */
  closed(): boolean;
  /** Resolves when the read may go on; never rejects, and resolves within a bounded time. */
  opened(): Promise<void>;
}

/**
 * The check a reader calls as rows arrive: with the gate closed it pauses once, and resumes
 * when the gate opens. Without a gate, a check that does nothing.
 */
export function gateReads(gate: ReadGate | undefined, pause: () => void, resume: () => void): () => void {
  if (!gate) return () => undefined;
  let waiting = false;
  return () => {
    if (waiting || !gate.closed()) return;
    waiting = true;
    pause();
    void gate.opened().then(() => {
      waiting = false;
      resume();
    });
  };
}
