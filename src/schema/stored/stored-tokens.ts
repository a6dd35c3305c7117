import { UntranslatableError } from '../translate/mysql-parse.js';

/** A token of MySQL stored code, with where it stands (comments and spaces are dropped). */
export interface StoredToken {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'punct' | 'variable';
  text: string;
  /** 1-based line in the body. */
  line: number;
  start: number;
  end: number;
}

/** A construct my2pg does not translate, with the body line it stands on. */
export class StoredCodeError extends UntranslatableError {
  constructor(
    readonly line: number,
    readonly construct: string,
  ) {
    super(`line ${line}: ${construct}`);
  }
}

const OPERATORS = ['<=>', '->>', '<=', '>=', '<>', '!=', ':=', '||', '&&', '->', '<<', '>>'];

/** Splits a routine or trigger body into tokens; strings and `quoted` names are kept whole. */
export function tokenizeStored(source: string): StoredToken[] {
  const tokens: StoredToken[] = [];
  let i = 0;
  let line = 1;
  const n = source.length;
  const advance = (to: number): void => {
    for (let j = i; j < to; j += 1) if (source[j] === '\n') line += 1;
    i = to;
  };
  while (i < n) {
    const ch = source[i]!;
    const start = i;
    const startLine = line;
    const push = (kind: StoredToken['kind'], end: number): void => {
      advance(end);
      tokens.push({ kind, text: source.slice(start, end), line: startLine, start, end });
    };
    if (/\s/.test(ch)) {
      advance(i + 1);
    } else if (ch === '#' || (ch === '-' && source[i + 1] === '-' && /\s/.test(source[i + 2] ?? ' '))) {
      const end = source.indexOf('\n', i);
      advance(end < 0 ? n : end);
    } else if (ch === '/' && source[i + 1] === '*') {
      if (source[i + 2] === '!') throw new StoredCodeError(line, 'a versioned comment (/*! … */)');
      const end = source.indexOf('*/', i + 2);
      advance(end < 0 ? n : end + 2);
    } else if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < n) {
        if (source[j] === '\\' && ch !== '`') j += 2;
        else if (source[j] === ch && source[j + 1] === ch) j += 2;
        else if (source[j] === ch) {
          j += 1;
          break;
        } else j += 1;
      }
      push(ch === '`' ? 'quoted' : 'string', j);
    } else if (ch === '@') {
      let j = i + 1;
      if (source[j] === '@') j += 1;
      while (j < n && /[A-Za-z0-9_$.]/.test(source[j]!)) j += 1;
      push('variable', j);
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      let j = i;
      while (j < n && /[0-9a-zA-Z_.]/.test(source[j]!)) j += 1;
      push('number', j);
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(ch)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(source[j]!)) j += 1;
      push('word', j);
    } else {
      const op = OPERATORS.find((o) => source.startsWith(o, i));
      push('punct', i + (op?.length ?? 1));
    }
  }
  return tokens;
}

/** A name as written: backticks removed (doubled ones undone), else the word. */
export function nameOf(token: StoredToken): string {
  return token.kind === 'quoted' ? token.text.slice(1, -1).replace(/``/g, '`') : token.text;
}

/** Whether the token is the keyword `word` (any case). */
export function isWord(token: StoredToken | undefined, ...words: string[]): boolean {
  return token?.kind === 'word' && words.some((w) => w.toUpperCase() === token.text.toUpperCase());
}

/**
 * The source text of tokens[from, to) for the SQL parser: spacing kept, comments dropped,
 * `<=>` (which the parser lacks) spelled as the `<=>` marker operator the translator knows.
 */
export function textOf(source: string, tokens: readonly StoredToken[], from: number, to: number): string {
  let out = '';
  for (let k = from; k < to; k += 1) {
    const t = tokens[k]!;
    if (k > from) {
      const gap = source.slice(tokens[k - 1]!.end, t.start);
      out += gap.trim() === '' ? gap : ' ';
    }
    if (t.kind === 'word' && /^(rlike|sounds)$/i.test(t.text))
      throw new StoredCodeError(t.line, `${t.text.toUpperCase()} (not translated in stored code)`);
    out += t.kind === 'punct' && t.text === '<=>' ? ' RLIKE ' : t.text;
  }
  return out;
}
