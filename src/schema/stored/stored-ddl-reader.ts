import type { StoredStatement } from './stored-ast.js';
import { StoredTokenCursor } from './stored-cursor.js';
import { isWord, textOf } from './stored-tokens.js';

/** The DDL stored code may hold and my2pg translates: a routine's own temporary tables. */
export abstract class StoredDdlReader extends StoredTokenCursor {
  /** CREATE TEMPORARY TABLE t (column type [NOT NULL] [PRIMARY KEY], …, [PRIMARY KEY (…)]). */
  protected createTemporary(line: number): StoredStatement {
    if (!this.accept('TEMPORARY')) this.fail('CREATE of anything but a TEMPORARY TABLE');
    this.expect('TABLE');
    if (isWord(this.peek(), 'IF')) this.fail('CREATE TEMPORARY TABLE IF NOT EXISTS');
    const table = this.name();
    if (!this.punct('(')) this.fail('CREATE TEMPORARY TABLE without a column list');
    const columns: { name: string; type: string; notNull: boolean }[] = [];
    const primaryKey: string[] = [];
    do {
      if (this.accept('PRIMARY')) {
        this.expect('KEY');
        if (!this.punct('(')) this.fail('PRIMARY KEY without columns');
        primaryKey.push(...this.names());
        if (!this.punct(')')) this.fail('PRIMARY KEY (… without )');
        continue;
      }
      const name = this.name();
      const from = this.i;
      let depth = 0;
      while (this.peek() && !(depth === 0 && (this.peek()!.text === ',' || this.peek()!.text === ')'))) {
        if (
          depth === 0 &&
          isWord(this.peek(), 'NOT', 'NULL', 'PRIMARY', 'DEFAULT', 'UNIQUE', 'AUTO_INCREMENT', 'COMMENT')
        )
          break;
        if (this.peek()!.text === '(') depth += 1;
        if (this.peek()!.text === ')') depth -= 1;
        this.i += 1;
      }
      const type = textOf(this.source, this.tokens, from, this.i);
      let notNull = false;
      for (;;) {
        if (this.accept('NOT')) {
          this.expect('NULL');
          notNull = true;
        } else if (this.accept('NULL')) notNull = false;
        else if (this.accept('PRIMARY')) {
          this.expect('KEY');
          primaryKey.push(name);
        } else break;
      }
      if (this.peek()?.text !== ',' && this.peek()?.text !== ')')
        this.fail(`the column definition ${name} ${type} ${this.peek()?.text ?? ''}`);
      columns.push({ name, type, notNull });
    } while (this.punct(','));
    if (!this.punct(')')) this.fail('CREATE TEMPORARY TABLE without its closing )');
    if (this.peek() && this.peek()!.text !== ';') this.fail(`table options (${this.peek()!.text})`);
    return { kind: 'create-temporary', table, columns, primaryKey, line };
  }
}
