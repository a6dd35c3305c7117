import { literalPg } from '../dialect/postgres/quote.js';

/**
 * A MySQL ENUM that gains labels while following (`MODIFY e ENUM('a','x','b')`): PostgreSQL's
 * enum type takes them with `ALTER TYPE … ADD VALUE`, in MySQL's order, so that values and their
 * order stay as MySQL has them. Anything else (a label removed, renamed or moved) holds. Pure.
 */

/** Whether `part` is `whole` with some labels left out, in the same order. */
function within(part: readonly string[], whole: readonly string[]): boolean {
  let at = 0;
  for (const label of whole) if (at < part.length && part[at] === label) at += 1;
  return at === part.length;
}

/**
 * The statements that give the enum type `type` (as format_type() prints it: quoted and
 * qualified as needed) MySQL's new labels, or why they cannot. `target` is the type's labels
 * now: the old ones, or some of the new ones too when an earlier attempt committed part of them
 * (IF NOT EXISTS makes each statement safe to run again).
 */
export function addedLabels(
  type: string,
  before: readonly string[],
  after: readonly string[],
  target: readonly string[] | null,
): { statements: string[]; added: string[] } | { hold: string } {
  if (!within(before, after)) return { hold: 'labels were removed, renamed or reordered, not only added' };
  if (target === null || target.length === 0 || !within(before, target) || !within(target, after))
    return { hold: `its target column is not the run's enum type with MySQL's labels (${type})` };
  const statements: string[] = [];
  after.forEach((label, i) => {
    if (target.includes(label)) return;
    // In MySQL's order: the label before it is in the type by now (an old one, or added just before).
    const place = i > 0 ? `AFTER ${literalPg(after[i - 1]!)}` : `BEFORE ${literalPg(target[0]!)}`;
    statements.push(`ALTER TYPE ${type} ADD VALUE IF NOT EXISTS ${literalPg(label)} ${place}`);
  });
  return { statements, added: after.filter((label) => !before.includes(label)) };
}
