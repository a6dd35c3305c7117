import { quotePg } from '../../dialect/postgres/quote.js';
import type { StoredText } from './stored-ast.js';
import type { StoredNames, StoredSqlTranslator } from './stored-sql.js';
import type { StoredType } from './stored-types.js';
import { StoredCodeError } from './stored-tokens.js';

/** What CALL and FETCH need of the emitter. */
interface EmitContext {
  readonly sql: StoredSqlTranslator;
  readonly names: Omit<StoredNames, 'variable'>;
  generated: number;
  target(name: string, line: number): { sql: string; type: StoredType };
  notFound(): string[] | null;
}

const NO_DATA =
  "RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = 'No data - zero rows fetched, selected, or processed';";

/** CALL of another procedure: IN arguments converted to the parameter's type, OUT/INOUT ones must be variables. */
export function emitCall(ctx: EmitContext, procedure: string, args: StoredText[], line: number): string {
  const callee = ctx.names.procedures.get(procedure.toLowerCase());
  ctx.sql.effects.calls.add(procedure.toLowerCase());
  // The callee may write: a function that calls a procedure is VOLATILE.
  ctx.sql.effects.writes = true;
  if (!callee) throw new StoredCodeError(line, `CALL ${procedure}, which is no procedure of this database`);
  if (args.length !== callee.params.length)
    throw new StoredCodeError(
      line,
      `CALL ${procedure} with ${args.length} arguments (it takes ${callee.params.length})`,
    );
  const values = args.map((arg, i) => {
    const param = callee.params[i]!;
    if (param.mode === 'IN') return `(${ctx.sql.convert(ctx.sql.value(arg), param.type, arg).sql})::${param.pg}`;
    if (!/^\s*`?[A-Za-z_$][\w$]*`?\s*$/.test(arg.text))
      throw new StoredCodeError(line, `CALL ${procedure}: its ${param.mode} argument ${arg.text} is no variable`);
    return ctx.target(arg.text.trim().replace(/`/g, ''), line).sql;
  });
  return `CALL ${callee.sql}(${values.join(', ')});`;
}

export function emitFetch(ctx: EmitContext, cursor: string, into: string[], line: number): string[] {
  const targets = into.map((name) => ctx.target(name, line));
  const temps = targets.map((t) => ({ name: quotePg(`my2pg_fetched_${++ctx.generated}`), target: t }));
  return [
    'DECLARE',
    ...temps.map((t) => `  ${t.name} ${t.target.type.pg};`),
    'BEGIN',
    `  FETCH ${quotePg(cursor.toLowerCase())} INTO ${temps.map((t) => t.name).join(', ')};`,
    '  IF FOUND THEN',
    ...temps.map((t) => `    ${t.target.sql} := ${t.name};`),
    '  ELSE',
    ...(ctx.notFound() ?? [NO_DATA]).map((l) => `    ${l}`),
    '  END IF;',
    'END;',
  ];
}
