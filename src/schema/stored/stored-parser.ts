import type { StoredBlock, StoredHandler, StoredStatement, StoredText } from './stored-ast.js';
import { StoredDdlReader } from './stored-ddl-reader.js';
import { isWord, nameOf, StoredCodeError, textOf } from './stored-tokens.js';

const SQL_STATEMENTS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REPLACE', 'WITH'];
const LOOP_WORDS = ['BEGIN', 'LOOP', 'WHILE', 'REPEAT'];

/**
 * Reads a MySQL routine or trigger body (what information_schema stores: one statement, often
 * a BEGIN … END block) into statements. Expressions and embedded SQL stay text, cut at the
 * keywords that end them; what the reader does not know is refused with its line.
 */
export function parseStoredBody(source: string): StoredStatement {
  return new StoredParser(source).body();
}

class StoredParser extends StoredDdlReader {
  body(): StoredStatement {
    const statement = this.statement();
    if (this.peek()?.text === ';') this.i += 1;
    const rest = this.peek();
    if (rest) throw new StoredCodeError(rest.line, `text after the body's statement (${rest.text})`);
    return statement;
  }

  protected statement(): StoredStatement {
    const line = this.line();
    let label: string | null = null;
    if (this.peek(1)?.text === ':' && LOOP_WORDS.some((w) => isWord(this.peek(2), w))) {
      label = this.name();
      this.i += 1;
    }
    const t = this.peek();
    if (!t) this.fail('a statement expected');
    const word = t.kind === 'word' ? t.text.toUpperCase() : '';
    if (label !== null && !LOOP_WORDS.includes(word)) this.fail(`a label on ${word}`);
    if (SQL_STATEMENTS.includes(word)) return this.sql(line);
    this.i += 1;
    switch (word) {
      case 'BEGIN':
        return this.block(label, line);
      case 'SET':
        return this.set(line);
      case 'IF': {
        const branches = [{ condition: this.text(['THEN']), body: this.thenList(['ELSEIF', 'ELSE', 'END']) }];
        while (this.accept('ELSEIF'))
          branches.push({ condition: this.text(['THEN']), body: this.thenList(['ELSEIF', 'ELSE', 'END']) });
        const otherwise = this.accept('ELSE') ? this.list(['END']) : null;
        this.closing('IF', null);
        return { kind: 'if', branches, otherwise, line };
      }
      case 'CASE': {
        const subject = isWord(this.peek(), 'WHEN') ? null : this.text(['WHEN']);
        const branches: { condition: StoredText; body: StoredStatement[] }[] = [];
        while (this.accept('WHEN'))
          branches.push({ condition: this.text(['THEN']), body: this.thenList(['WHEN', 'ELSE', 'END']) });
        const otherwise = this.accept('ELSE') ? this.list(['END']) : null;
        this.closing('CASE', null);
        return { kind: 'case', subject, branches, otherwise, line };
      }
      case 'WHILE': {
        const condition = this.text(['DO']);
        this.expect('DO');
        const body = this.list(['END']);
        this.closing('WHILE', label);
        return { kind: 'while', label, condition, body, line };
      }
      case 'REPEAT': {
        const body = this.list(['UNTIL']);
        this.expect('UNTIL');
        const condition = this.text(['END']);
        this.closing('REPEAT', label);
        return { kind: 'repeat', label, condition, body, line };
      }
      case 'LOOP': {
        const body = this.list(['END']);
        this.closing('LOOP', label);
        return { kind: 'loop', label, body, line };
      }
      case 'LEAVE':
      case 'ITERATE':
        return { kind: word === 'LEAVE' ? 'leave' : 'iterate', label: this.name(), line };
      case 'RETURN':
        return { kind: 'return', value: this.text([]), line };
      case 'OPEN':
      case 'CLOSE':
        return { kind: word === 'OPEN' ? 'open' : 'close', cursor: this.name(), line };
      case 'FETCH': {
        this.accept('NEXT');
        this.accept('FROM');
        const cursor = this.name();
        this.expect('INTO');
        return { kind: 'fetch', cursor, into: this.names(), line };
      }
      case 'SIGNAL':
        return this.signal(line);
      case 'CREATE':
        return this.createTemporary(line);
      case 'CALL': {
        const procedure = this.name();
        if (this.punct('.')) this.fail('CALL of a procedure of another database');
        const args: StoredText[] = [];
        if (this.punct('(') && !this.punct(')')) {
          do args.push(this.text([], true));
          while (this.punct(','));
          if (!this.punct(')')) this.fail('CALL … without its closing )');
        }
        return { kind: 'call', procedure, args, line };
      }
      case 'DROP': {
        this.accept('TEMPORARY');
        this.expect('TABLE');
        const ifExists = this.accept('IF');
        if (ifExists) this.expect('EXISTS');
        return { kind: 'drop-temporary', table: this.name(), ifExists, line };
      }
      default:
        return this.fail(`the statement ${t.text}`);
    }
  }

  private thenList(until: string[]): StoredStatement[] {
    this.expect('THEN');
    return this.list(until);
  }

  private block(label: string | null, line: number): StoredBlock {
    if (this.accept('NOT')) this.expect('ATOMIC');
    const block: StoredBlock = { kind: 'block', label, variables: [], cursors: [], handler: null, body: [], line };
    while (isWord(this.peek(), 'DECLARE')) {
      const at = this.line();
      this.i += 1;
      if (isWord(this.peek(), 'CONTINUE', 'EXIT', 'UNDO')) {
        if (block.handler) this.fail('a second handler in one block');
        block.handler = this.handler(at);
      } else if (isWord(this.peek(1), 'CURSOR')) {
        const name = this.name();
        this.i += 1;
        this.expect('FOR');
        block.cursors.push({ name, select: this.text([]), line: at });
      } else if (isWord(this.peek(1), 'CONDITION')) {
        this.fail('DECLARE … CONDITION');
      } else {
        const names = this.names();
        const type = this.text(['DEFAULT']);
        const value = this.accept('DEFAULT') ? this.text([]) : null;
        for (const name of names) block.variables.push({ name, type: type.text, default: value, line: at });
      }
      this.end();
    }
    block.body = this.list(['END']);
    this.expect('END');
    if (
      label !== null &&
      (this.peek()?.kind === 'word' || this.peek()?.kind === 'quoted') &&
      !isWord(this.peek(), 'END')
    ) {
      if (nameOf(this.peek()!).toLowerCase() === label.toLowerCase()) this.i += 1;
    }
    return block;
  }

  private handler(line: number): StoredHandler {
    const kind = this.name().toLowerCase();
    if (kind === 'undo') this.fail('an UNDO handler');
    this.expect('HANDLER');
    this.expect('FOR');
    const conditions: string[] = [];
    do {
      if (this.accept('NOT')) {
        this.expect('FOUND');
        conditions.push('NOT FOUND');
      } else if (this.accept('SQLSTATE')) {
        this.accept('VALUE');
        conditions.push(this.peek()?.text.slice(1, -1) ?? '');
        this.i += 1;
      } else conditions.push(this.peek()?.text.toUpperCase() ?? '');
    } while (this.punct(','));
    const other = conditions.find((c) => c !== 'NOT FOUND' && c !== '02000');
    if (other !== undefined) throw new StoredCodeError(line, `a handler for ${other} (only NOT FOUND is translated)`);
    return { kind: kind as 'continue' | 'exit', body: this.statement(), line };
  }

  private set(line: number): StoredStatement {
    const assignments: { target: string; value: StoredText }[] = [];
    do {
      const t = this.peek();
      if (isWord(t, 'SESSION', 'GLOBAL', 'NAMES', 'CHARACTER', 'TRANSACTION', 'AUTOCOMMIT'))
        this.fail(`SET ${t!.text.toUpperCase()}`);
      let target: string;
      if (t?.kind === 'variable') {
        if (t.text.startsWith('@@')) this.fail(`SET ${t.text} (a server variable)`);
        target = t.text;
        this.i += 1;
      } else {
        target = this.name();
        if (this.punct('.')) target = `${target}.${this.name()}`;
      }
      if (!this.punct('=') && !this.punct(':=')) this.fail(`SET ${target} without =`);
      assignments.push({ target, value: this.text([], true) });
    } while (this.punct(','));
    return { kind: 'set', assignments, line };
  }

  private signal(line: number): StoredStatement {
    if (!this.accept('SQLSTATE')) this.fail('SIGNAL of a named condition');
    this.accept('VALUE');
    const state = this.peek();
    if (state?.kind !== 'string') this.fail('SIGNAL SQLSTATE without a literal state');
    this.i += 1;
    let message: StoredText | null = null;
    if (this.accept('SET')) {
      do {
        const item = this.name().toUpperCase();
        if (!this.punct('=')) this.fail(`SIGNAL … SET ${item} without =`);
        const value = this.text([], true);
        if (item === 'MESSAGE_TEXT') message = value;
        else if (item !== 'MYSQL_ERRNO') this.fail(`SIGNAL … SET ${item}`);
      } while (this.punct(','));
    }
    return { kind: 'signal', sqlstate: state!.text.slice(1, -1), message, line };
  }

  /** An embedded SQL statement, with SELECT … INTO's targets taken out of its text. */
  private sql(line: number): StoredStatement {
    const from = this.i;
    const select = isWord(this.peek(), 'SELECT');
    let depth = 0;
    let into: { at: number; names: string[]; end: number } | null = null;
    for (; this.i < this.tokens.length; this.i += 1) {
      const t = this.tokens[this.i]!;
      if (t.kind === 'punct' && t.text === '(') depth += 1;
      else if (t.kind === 'punct' && t.text === ')') depth -= 1;
      else if (depth === 0 && t.kind === 'punct' && t.text === ';') break;
      else if (select && depth === 0 && isWord(t, 'INTO')) {
        if (into) this.fail('two INTO clauses');
        const at = this.i;
        this.i += 1;
        if (isWord(this.peek(), 'OUTFILE', 'DUMPFILE')) this.fail('SELECT … INTO OUTFILE');
        const names = this.names();
        into = { at, names, end: this.i };
        this.i -= 1;
      }
    }
    const to = this.i;
    const text = into
      ? `${textOf(this.source, this.tokens, from, into.at)} ${into.end < to ? textOf(this.source, this.tokens, into.end, to) : ''}`
      : textOf(this.source, this.tokens, from, to);
    return { kind: 'sql', statement: { text: text.trim(), line }, into: into?.names ?? null, line };
  }
}
