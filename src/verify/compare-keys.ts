import type { DataSource } from 'typeorm';
import type { LoggedKey } from '../state/change-log.js';
import { checksumTable, type ChecksumInput } from './checksum.js';
import { describeVerificationProblem } from './verify-run.js';

/** A comparison of logged keys given up because verification while following is stopping. */
export class ComparisonStopped extends Error {
  constructor() {
    super('verification while following stopped');
  }
}

/** Chunks this small are compared key by key. */
const SINGLE_KEYS = 4;

/**
 * The logged keys whose rows differ now between the two sides, and why: the whole list is
 * compared by checksum in one go, and a list that differs is halved until its differing keys
 * are found (most lists are equal, so most cost one comparison).
 */
export async function compareKeysNow(
  source: DataSource,
  target: DataSource,
  input: ChecksumInput,
  keyColumns: readonly string[],
  keys: readonly LoggedKey[],
  stopped: () => boolean = () => false,
): Promise<{ key: LoggedKey; why: string }[]> {
  if (stopped()) throw new ComparisonStopped();
  const check = await checksumTable(source, target, {
    ...input,
    keys: { columns: keyColumns, values: keys.map((k) => k.pgKey) },
  });
  if (check.status === 'verified' || check.status === 'rejected') return [];
  const again = (part: readonly LoggedKey[]) => compareKeysNow(source, target, input, keyColumns, part, stopped);
  if (keys.length <= SINGLE_KEYS) {
    if (keys.length === 1) {
      const key = keys[0]!;
      const what = describeVerificationProblem({ ...check, rejected: 0, at: '' });
      return [
        { key, why: key.outside ? `written in PostgreSQL outside the follower (${key.outside}): ${what}` : what },
      ];
    }
    return (await Promise.all(keys.map((k) => again([k])))).flat();
  }
  const half = Math.ceil(keys.length / 2);
  return [...(await again(keys.slice(0, half))), ...(await again(keys.slice(half)))];
}
