/**
 * A migration file's `where` condition: a MySQL expression written by the user and placed,
 * inside parentheses, in every SELECT, COUNT and MIN/MAX my2pg runs on that table.
 *
 * Why a lexical guard and not a parser: MySQL itself checks the condition (prepare runs
 * `SELECT 1 FROM t WHERE (cond) LIMIT 0`), so the guard only has to make sure the text stays one
 * expression inside the parentheses it is given. That holds when, outside string literals and
 * quoted identifiers, (1) no `)` closes a parenthesis the condition did not open and every one
 * it opens is closed, (2) there is no `;` (a second statement), and (3) there is no comment
 * (`-- `, `#`, `/* … *\/`, including MySQL's executable `/*! … *\/`), which could hide the closing
 * parenthesis or the key-range conditions after it. Literals must end where they start. Then
 * `x) OR (y` is refused, while `(x) OR (y)` is fine: it cannot reach the AND of a key range.
 * Literals are read as MySQL reads them by default (backslash escapes, doubled quotes); on a
 * server in NO_BACKSLASH_ESCAPES mode a literal ending in a backslash looks unterminated here
 * and is refused, which errs on the safe side.
 */

import { PermanentError } from '../../core/errors.js';

/** Why a condition cannot be used as it is, or undefined when it can. */
export function conditionProblem(condition: string): string | undefined {
  if (condition.trim() === '') return 'the condition is empty';
  let depth = 0;
  let i = 0;
  while (i < condition.length) {
    const c = condition[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = literalEnd(condition, i);
      if (end < 0)
        return `the ${c === '`' ? 'quoted identifier' : 'string literal'} starting at character ${i + 1} is not closed`;
      i = end;
      continue;
    }
    if (c === ';') return 'a condition cannot hold ";" outside a string literal (one expression only)';
    if (
      c === '#' ||
      (c === '-' && condition[i + 1] === '-') ||
      (c === '/' && condition[i + 1] === '*') ||
      (c === '*' && condition[i + 1] === '/')
    ) {
      return `a condition cannot hold a comment (${c === '#' ? '#' : condition.slice(i, i + 2)}) outside a string literal; write "- -" for two minus signs`;
    }
    if (c === '(') depth += 1;
    if (c === ')') {
      depth -= 1;
      if (depth < 0) return `the ")" at character ${i + 1} closes a parenthesis the condition did not open`;
    }
    i += 1;
  }
  if (depth > 0) return `${depth} "(" ${depth > 1 ? 'are' : 'is'} not closed`;
  return undefined;
}

/** The index just past the literal or quoted identifier opening at `start`, or -1 when it is not closed. */
function literalEnd(text: string, start: number): number {
  const quote = text[start]!;
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && quote !== '`') {
      i += 2;
      continue;
    }
    if (c === quote) {
      // A doubled quote stands for one quote inside the literal.
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return -1;
}

/**
 * ` WHERE a AND b AND (condition)`, or '' without any. The user's condition comes last: values
 * bound to `?` placeholders (key-range bounds, keys) are filled in order and the filling stops
 * when they run out, so a `?` inside the condition's literals is never taken for a placeholder.
 */
export function mysqlWhere(conditions: readonly string[], condition?: string | undefined): string {
  const all = [...conditions];
  if (condition !== undefined) {
    const problem = conditionProblem(condition);
    // Conditions are checked when the run is prepared; one changed since (in my2pg.runs) is never run, nor retried.
    if (problem)
      throw new PermanentError(
        `the where condition ${JSON.stringify(condition)} cannot be used: ${problem}; start a new run with a corrected migration file`,
      );
    all.push(`(${condition})`);
  }
  return all.length > 0 ? ` WHERE ${all.join(' AND ')}` : '';
}
