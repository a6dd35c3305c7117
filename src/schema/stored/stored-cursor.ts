import type { StoredStatement, StoredText } from './stored-ast.js';
import { isWord, nameOf, StoredCodeError, textOf, tokenizeStored, type StoredToken } from './stored-tokens.js';

/** Reading through the tokens of a body: looking ahead, keywords, names, expression text cut at its stop words. */
export abstract class StoredTokenCursor {
  protected readonly tokens: StoredToken[];
  protected i = 0;

  constructor(protected readonly source: string) {
    this.tokens = tokenizeStored(source);
  }

  protected abstract statement(): StoredStatement;

  protected peek(offset = 0): StoredToken | undefined {
    return this.tokens[this.i + offset];
  }

  protected line(): number {
    return this.peek()?.line ?? this.tokens.at(-1)?.line ?? 1;
  }

  protected fail(construct: string): never {
    throw new StoredCodeError(this.line(), construct);
  }

  protected expect(...words: string[]): void {
    if (!isWord(this.peek(), ...words))
      this.fail(`expected ${words.join(' or ')}, found ${this.peek()?.text ?? 'the end'}`);
    this.i += 1;
  }

  protected accept(...words: string[]): boolean {
    if (!isWord(this.peek(), ...words)) return false;
    this.i += 1;
    return true;
  }

  protected punct(text: string): boolean {
    if (this.peek()?.kind !== 'punct' || this.peek()?.text !== text) return false;
    this.i += 1;
    return true;
  }

  protected name(): string {
    const t = this.peek();
    if (!t || (t.kind !== 'word' && t.kind !== 'quoted')) this.fail(`expected a name, found ${t?.text ?? 'the end'}`);
    this.i += 1;
    return nameOf(t);
  }

  /** Text up to (not including) a stop word or `;` outside parentheses and CASE … END. */
  protected text(stops: string[], commaStops = false): StoredText {
    const from = this.i;
    let depth = 0;
    let cases = 0;
    for (; this.i < this.tokens.length; this.i += 1) {
      const t = this.tokens[this.i]!;
      if (t.kind === 'punct' && t.text === '(') depth += 1;
      else if (t.kind === 'punct' && t.text === ')') {
        // A list item (SET a = …, CALL p(…, …)) ends at the list's closing parenthesis.
        if (depth === 0 && commaStops) break;
        depth -= 1;
      } else if (depth === 0 && t.kind === 'punct' && (t.text === ';' || (commaStops && t.text === ','))) break;
      else if (isWord(t, 'CASE')) cases += 1;
      else if (cases > 0 && isWord(t, 'END')) cases -= 1;
      else if (depth === 0 && cases === 0 && isWord(t, ...stops)) break;
    }
    if (this.i === from) this.fail(`an empty expression before ${this.peek()?.text ?? 'the end'}`);
    return { text: textOf(this.source, this.tokens, from, this.i), line: this.tokens[from]!.line };
  }

  protected end(): void {
    if (!this.punct(';') && this.peek() !== undefined && !isWord(this.peek(), 'END'))
      this.fail(`expected ; found ${this.peek()!.text}`);
  }

  /** Statements up to one of `until` (which is left for the caller). */
  protected list(until: string[]): StoredStatement[] {
    const out: StoredStatement[] = [];
    while (this.peek() && !isWord(this.peek(), ...until)) {
      out.push(this.statement());
      this.end();
    }
    if (!this.peek()) this.fail(`expected ${until.join(' or ')} before the end of the body`);
    return out;
  }

  protected closing(word: string, label: string | null): void {
    this.expect('END');
    this.expect(word);
    if (label !== null && (this.peek()?.kind === 'word' || this.peek()?.kind === 'quoted')) {
      if (nameOf(this.peek()!).toLowerCase() !== label.toLowerCase()) this.fail(`END ${word} ${this.peek()!.text}`);
      this.i += 1;
    }
  }

  protected names(): string[] {
    const out = [this.name()];
    while (this.punct(',')) out.push(this.name());
    return out;
  }
}
