import { literalPg, quotePg } from '../../dialect/postgres/quote.js';
import type { ColumnBinding, ColumnReference } from '../translate/translate-expression.js';
import type { Relation } from '../translate/view-relations.js';
import { TEXT } from '../translate/sql-types.js';
import type { StoredBlock, StoredHandler, StoredStatement, StoredText } from './stored-ast.js';
import { StoredSqlTranslator, type StoredNames } from './stored-sql.js';
import { StoredCodeError } from './stored-tokens.js';
import { mapStoredType, type StoredType } from './stored-types.js';
import { createTemporaryTable } from './stored-temporary.js';
import { emitCall, emitFetch } from './stored-emit-calls.js';

/** A variable or parameter in reach: how PostgreSQL names it, and its type. */
export interface StoredVariableBinding {
  sql: string;
  type: StoredType;
}

/** Where the body runs: a function (its return type), a procedure, or a trigger (its table, timing and event). */
export type StoredBodyKind =
  | { kind: 'function'; returns: StoredType }
  | { kind: 'procedure' }
  | { kind: 'trigger'; relation: Relation; timing: 'BEFORE' | 'AFTER'; event: 'INSERT' | 'UPDATE' | 'DELETE' };

/**
 * Writes a parsed MySQL body as PL/pgSQL: blocks with their DECLAREs, MySQL's control flow,
 * SELECT … INTO that leaves its targets unchanged when no row comes (as MySQL does) or runs the
 * NOT FOUND handler, FETCH likewise, result sets of procedures as refcursor parameters.
 */
export class StoredEmitter {
  readonly sql: StoredSqlTranslator;
  /** Procedures: one refcursor parameter per SELECT that returns rows to the client. */
  readonly resultCursors: string[] = [];
  private readonly scopes: Map<string, StoredVariableBinding>[] = [];
  private handlers: { handler: StoredHandler; label: string }[] = [];
  /** A counter for the names my2pg makes up (labels, FETCH's temporaries). */
  generated = 0;
  /** The run's tables, and the temporary tables the body creates (in pg_temp). */
  private readonly relations: Map<string, Relation>;
  /** Temporary tables a result set reads: dropped at commit, after the caller fetched it. */
  private readonly resultReads = new Set<string>();

  constructor(
    readonly names: Omit<StoredNames, 'variable'>,
    parameters: Map<string, StoredVariableBinding>,
    private readonly body: StoredBodyKind,
  ) {
    this.scopes.push(parameters);
    this.relations = new Map(names.relations);
    this.sql = new StoredSqlTranslator({ ...names, relations: this.relations, variable: (ref) => this.variable(ref) });
  }

  private variable(ref: ColumnReference): ColumnBinding | null {
    if (ref.table === null) {
      const found = this.find(ref.column);
      return found ? { sql: found.sql, type: found.type.type } : null;
    }
    const row = ref.table.toLowerCase();
    if (this.body.kind !== 'trigger' || ref.db !== null || (row !== 'new' && row !== 'old')) return null;
    const column = this.body.relation.columns.find((c) => c.name.toLowerCase() === ref.column.toLowerCase());
    if (!column) return null;
    return { sql: `${row.toUpperCase()}.${quotePg(column.target ?? column.name)}`, type: column.type };
  }

  private find(name: string): StoredVariableBinding | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i -= 1) {
      const found = this.scopes[i]!.get(name.toLowerCase());
      if (found) return found;
    }
    return undefined;
  }

  target(name: string, line: number): StoredVariableBinding {
    const found = this.find(name);
    if (!found) throw new StoredCodeError(line, `${name} is no declared variable or parameter`);
    return found;
  }

  private label(name: string | null): string | null {
    return name === null ? null : quotePg(name.toLowerCase());
  }

  /** The body as PL/pgSQL statements. */
  emit(statement: StoredStatement): string[] {
    return statement.kind === 'block' ? this.block(statement) : this.statement(statement);
  }

  private list(statements: StoredStatement[]): string[] {
    const out = statements.flatMap((s) => this.statement(s));
    return out.length > 0 ? out : ['NULL;'];
  }

  private block(block: StoredBlock): string[] {
    const scope = new Map<string, StoredVariableBinding>();
    const declarations: string[] = [];
    this.scopes.push(scope);
    const handlersBefore = this.handlers;
    try {
      for (const v of block.variables) {
        const type = mapStoredType(v.type, v.line);
        const sql = quotePg(v.name.toLowerCase());
        const initial = v.default ? ` := ${this.sql.convert(this.sql.value(v.default), type.type, v.default).sql}` : '';
        declarations.push(`${sql} ${type.pg}${initial};`);
        scope.set(v.name.toLowerCase(), { sql, type });
      }
      for (const c of block.cursors)
        declarations.push(`${quotePg(c.name.toLowerCase())} CURSOR FOR ${this.sql.select(c.select).sql};`);
      let label = this.label(block.label);
      if (block.handler) {
        if (block.handler.kind === 'exit' && label === null) label = quotePg(`my2pg_block_${++this.generated}`);
        this.handlers = [...this.handlers, { handler: block.handler, label: label ?? '' }];
      }
      const body = this.list(block.body).map((l) => `  ${l}`);
      return [
        ...(label ? [`<<${label}>>`] : []),
        ...(declarations.length > 0 ? ['DECLARE', ...declarations.map((d) => `  ${d}`)] : []),
        'BEGIN',
        ...body,
        `END${label ? ` ${label}` : ''};`,
      ];
    } finally {
      this.scopes.pop();
      this.handlers = handlersBefore;
    }
  }

  /** What NOT FOUND does here: the handler in reach (run outside its own reach), else null. */
  notFound(): string[] | null {
    const top = this.handlers.at(-1);
    if (!top) return null;
    const saved = this.handlers;
    this.handlers = this.handlers.slice(0, -1);
    try {
      const body = this.statement(top.handler.body);
      return top.handler.kind === 'exit' ? [...body, `EXIT ${top.label};`] : body;
    } finally {
      this.handlers = saved;
    }
  }

  private statement(s: StoredStatement): string[] {
    switch (s.kind) {
      case 'block':
        return this.block(s);
      case 'set':
        return s.assignments.flatMap((a) => this.assign(a.target, a.value, s.line));
      case 'if':
        return [
          ...s.branches.flatMap((b, i) => [
            `${i === 0 ? 'IF' : 'ELSIF'} ${this.sql.condition(b.condition)} THEN`,
            ...this.list(b.body).map((l) => `  ${l}`),
          ]),
          ...(s.otherwise ? ['ELSE', ...this.list(s.otherwise).map((l) => `  ${l}`)] : []),
          'END IF;',
        ];
      case 'case':
        return [
          'CASE',
          ...s.branches.flatMap((b) => {
            const condition: StoredText = s.subject
              ? { text: `(${s.subject.text}) = (${b.condition.text})`, line: b.condition.line }
              : b.condition;
            return [`  WHEN ${this.sql.condition(condition)} THEN`, ...this.list(b.body).map((l) => `    ${l}`)];
          }),
          ...(s.otherwise ? ['  ELSE', ...this.list(s.otherwise).map((l) => `    ${l}`)] : []),
          'END CASE;',
        ];
      case 'while':
      case 'repeat':
      case 'loop': {
        const label = this.label(s.label);
        const head = s.kind === 'while' ? `WHILE ${this.sql.condition(s.condition)} LOOP` : 'LOOP';
        const until = s.kind === 'repeat' ? [`  EXIT WHEN ${this.sql.condition(s.condition)};`] : [];
        return [
          `${label ? `<<${label}>> ` : ''}${head}`,
          ...this.list(s.body).map((l) => `  ${l}`),
          ...until,
          `END LOOP${label ? ` ${label}` : ''};`,
        ];
      }
      case 'leave':
        return [`EXIT ${this.label(s.label)};`];
      case 'iterate':
        return [`CONTINUE ${this.label(s.label)};`];
      case 'return': {
        if (this.body.kind !== 'function') throw new StoredCodeError(s.line, 'RETURN outside a function');
        const { returns } = this.body;
        const value = this.sql.convert(this.sql.value(s.value), returns.type, s.value);
        return [`RETURN (${value.sql})::${returns.pg};`];
      }
      case 'sql':
        return this.embedded(s.statement, s.into);
      case 'open':
      case 'close':
        return [`${s.kind.toUpperCase()} ${quotePg(s.cursor.toLowerCase())};`];
      case 'fetch':
        return emitFetch(this, s.cursor, s.into, s.line);
      case 'call':
        return [emitCall(this, s.procedure, s.args, s.line)];
      case 'create-temporary':
        return [createTemporaryTable(s, this.relations)];
      case 'drop-temporary': {
        const table = this.relations.get(s.table);
        if (table?.schema !== 'pg_temp')
          throw new StoredCodeError(s.line, `DROP TABLE ${s.table}, which is no temporary table of this routine`);
        // A result set still reads it (a cursor the caller fetches later): ON COMMIT DROP removes it.
        if (this.resultReads.has(table.targetName))
          return [`NULL; -- DROP TABLE ${quotePg(table.targetName)} at commit`];
        return [`DROP TABLE ${s.ifExists ? 'IF EXISTS ' : ''}pg_temp.${quotePg(table.targetName)};`];
      }
      case 'signal': {
        if (/^0[0-2]/.test(s.sqlstate))
          throw new StoredCodeError(s.line, `SIGNAL SQLSTATE '${s.sqlstate}' (a warning or NOT FOUND, not an error)`);
        const message = s.message
          ? this.sql.convert(this.sql.value(s.message), TEXT, s.message).sql
          : literalPg('Unhandled user-defined exception condition');
        return [`RAISE EXCEPTION USING ERRCODE = ${literalPg(s.sqlstate)}, MESSAGE = ${message};`];
      }
    }
  }

  private assign(target: string, value: StoredText, line: number): string[] {
    const translated = this.sql.value(value);
    if (target.startsWith('@')) {
      // A user variable lives in the session: kept as a setting of the session (written only; reading one is not translated).
      const text = this.sql.convert(translated, TEXT, value).sql;
      return [`PERFORM set_config(${literalPg(`my2pg.${target.slice(1).toLowerCase()}`)}, ${text}, false);`];
    }
    const dot = target.indexOf('.');
    if (dot >= 0) {
      const row = target.slice(0, dot).toLowerCase();
      const body = this.body;
      if (body.kind !== 'trigger' || row !== 'new' || body.timing !== 'BEFORE' || body.event === 'DELETE')
        throw new StoredCodeError(line, `SET ${target} (only NEW.column in a BEFORE INSERT/UPDATE trigger)`);
      const column = body.relation.columns.find((c) => c.name.toLowerCase() === target.slice(dot + 1).toLowerCase());
      if (!column) throw new StoredCodeError(line, `SET ${target}: the table has no such column in the target`);
      const converted = this.sql.convert(translated, column.type, value).sql;
      return [`NEW.${quotePg(column.target ?? column.name)} := ${converted};`];
    }
    const variable = this.target(target, line);
    return [`${variable.sql} := ${this.sql.convert(translated, variable.type.type, value).sql};`];
  }

  private embedded(statement: StoredText, into: string[] | null): string[] {
    if (!/^\s*(select|with)\b/i.test(statement.text)) return [`${this.sql.write(statement)};`];
    const select = this.sql.select(statement);
    if (into === null) {
      if (this.body.kind !== 'procedure')
        throw new StoredCodeError(statement.line, 'a SELECT that returns rows to the client outside a procedure');
      for (const r of this.relations.values())
        if (r.schema === 'pg_temp' && select.sql.includes(`"pg_temp".${quotePg(r.targetName)}`))
          this.resultReads.add(r.targetName);
      const cursor = quotePg(`result${this.resultCursors.length + 1}`);
      this.resultCursors.push(cursor);
      return [`OPEN ${cursor} FOR ${select.sql};`];
    }
    if (select.columns !== into.length)
      throw new StoredCodeError(
        statement.line,
        `SELECT … INTO with ${select.columns} columns and ${into.length} variables`,
      );
    const targets = into.map((name) => this.target(name, statement.line).sql).join(', ');
    if (!select.hasFrom) return [`${select.sql} INTO ${targets};`];
    // STRICT: no row leaves the targets as they were (MySQL's rule), more than one is an error as in MySQL.
    return [
      'BEGIN',
      `  ${select.sql} INTO STRICT ${targets};`,
      'EXCEPTION WHEN no_data_found THEN',
      ...(this.notFound() ?? ['NULL;']).map((l) => `  ${l}`),
      'END;',
    ];
  }
}
