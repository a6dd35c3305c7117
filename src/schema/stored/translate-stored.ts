import { qualifyPg, quotePg } from '../../dialect/postgres/quote.js';
import type { StoredFunctionSignature } from '../translate/translate-expression.js';
import type { Relation } from '../translate/view-relations.js';
import { UntranslatableError } from '../translate/mysql-parse.js';
import type { StoredStatement } from './stored-ast.js';
import { StoredEmitter, type StoredBodyKind, type StoredVariableBinding } from './stored-emitter.js';
import { parseStoredBody } from './stored-parser.js';
import type { StoredNames, StoredProcedureSignature } from './stored-sql.js';
import { StoredCodeError } from './stored-tokens.js';
import { mapStoredType } from './stored-types.js';
import type { SourceRoutine, SourceTrigger } from './source-stored-code.js';

/** A routine or trigger translated to PostgreSQL, or why not. */
export interface TranslatedStored {
  /** The statements that create it, in order (empty when not translated). */
  statements: string[];
  /** Why it is not translated: the construct, with its line in the body. */
  reason: string | null;
  /** Lower-case names of the stored functions it calls (it cannot be created without them). */
  calls: string[];
  /** IMMUTABLE/STABLE/VOLATILE (functions), `sql`/`plpgsql`. */
  notes: string[];
  /** A procedure's result sets (refcursor parameters): a CALL from stored code cannot pass them on. */
  resultSets?: number;
}

type Names = Omit<StoredNames, 'variable'>;

const DOLLAR = '$my2pg$';

/** Modes a body was stored under that change what its text means. */
function refuseSqlMode(sqlMode: string): void {
  for (const mode of ['ANSI_QUOTES', 'PIPES_AS_CONCAT'])
    if (sqlMode.toUpperCase().split(',').includes(mode))
      throw new StoredCodeError(1, `it was created under sql_mode ${mode}, which changes what its text means`);
}

/** Why it is not translated; an unexpected failure of the translator excludes the one object, named. */
function refused(error: unknown): TranslatedStored {
  const reason =
    error instanceof UntranslatableError ? error.message : `my2pg failed to translate it: ${(error as Error).message}`;
  return { statements: [], reason, calls: [], notes: [] };
}

function plpgsql(lines: string[], tail: string[] = []): string {
  const body = [
    '#variable_conflict use_variable',
    'BEGIN',
    ...lines.map((l) => `  ${l}`),
    ...tail.map((l) => `  ${l}`),
    'END',
  ];
  const text = body.join('\n');
  if (text.includes(DOLLAR)) throw new UntranslatableError(`its text holds ${DOLLAR}`);
  return `${DOLLAR}\n${text}\n${DOLLAR}`;
}

/** The signature callers of a stored function see (types through the routine type map). */
export function signatureOf(routine: SourceRoutine, schema: string): StoredFunctionSignature | null {
  try {
    const returns = mapStoredType(routine.returns ?? '', 1);
    return {
      sql: qualifyPg(schema, routine.name.toLowerCase()),
      params: routine.parameters.map((p) => mapStoredType(p.type, 1)).map((t) => ({ type: t.type, pg: t.pg })),
      returns: returns.type,
    };
  } catch {
    return null;
  }
}

/** The signature a CALL of a procedure sees (types through the routine type map). */
export function procedureSignatureOf(routine: SourceRoutine, schema: string): StoredProcedureSignature | null {
  try {
    return {
      sql: qualifyPg(schema, routine.name.toLowerCase()),
      params: routine.parameters.map((p) => ({ mode: p.mode, ...mapStoredType(p.type, 1) })),
    };
  } catch {
    return null;
  }
}

/** A one-expression function body (`RETURN expr`), which becomes LANGUAGE sql. */
function singleReturn(body: StoredStatement): StoredStatement | null {
  if (body.kind === 'return') return body;
  if (
    body.kind === 'block' &&
    body.variables.length === 0 &&
    body.cursors.length === 0 &&
    !body.handler &&
    body.label === null
  )
    return body.body.length === 1 && body.body[0]!.kind === 'return' ? body.body[0]! : null;
  return null;
}

/**
 * A stored function or procedure as CREATE OR REPLACE FUNCTION/PROCEDURE: a one-expression
 * function in LANGUAGE sql (parameters by position: in SQL functions columns win over
 * parameter names, in MySQL parameters win), anything else in PL/pgSQL.
 */
export function translateRoutine(routine: SourceRoutine, names: Names): TranslatedStored {
  try {
    refuseSqlMode(routine.sqlMode);
    // information_schema shows a routine's body only to its definer or a user with SHOW_ROUTINE/SELECT on mysql.proc.
    if (routine.body.trim() === '')
      throw new UntranslatableError(
        "its body is not readable by the source's MySQL user (grant SHOW_ROUTINE, or SELECT on mysql.proc in MariaDB)",
      );
    const body = parseStoredBody(routine.body);
    const params = routine.parameters.map((p, i) => ({ ...p, index: i + 1, mapped: mapStoredType(p.type, 1) }));
    const name = qualifyPg(names.schema, routine.name.toLowerCase());
    if (routine.kind === 'function') {
      const returns = mapStoredType(routine.returns ?? '', 1);
      const single = singleReturn(body);
      const bindings = new Map<string, StoredVariableBinding>(
        params.map((p) => [
          p.name.toLowerCase(),
          { sql: single ? `$${p.index}` : quotePg(p.name.toLowerCase()), type: p.mapped },
        ]),
      );
      const emitter = new StoredEmitter(names, bindings, { kind: 'function', returns });
      const lines = emitter.emit(single ?? body);
      const { reads, writes, calls } = emitter.sql.effects;
      const text = lines.join('\n');
      const changing = /LOCALTIMESTAMP|CURRENT_DATE/.test(text) || calls.size > 0;
      const volatility =
        writes || routine.dataAccess === 'MODIFIES SQL DATA'
          ? 'VOLATILE'
          : routine.deterministic || routine.dataAccess === 'NO SQL'
            ? reads || changing
              ? 'STABLE'
              : 'IMMUTABLE'
            : routine.dataAccess === 'READS SQL DATA' || reads
              ? 'STABLE'
              : 'VOLATILE';
      const signature = params.map((p) => `${quotePg(p.name.toLowerCase())} ${p.mapped.pg}`).join(', ');
      const language = single && !writes ? 'sql' : 'plpgsql';
      const definition =
        language === 'sql'
          ? `${DOLLAR}\nSELECT ${/^RETURN (.*);$/s.exec(text)?.[1] ?? text}\n${DOLLAR}`
          : plpgsql(lines);
      return {
        statements: [
          `CREATE OR REPLACE FUNCTION ${name}(${signature}) RETURNS ${returns.pg}\nLANGUAGE ${language} ${volatility} AS ${definition}`,
        ],
        reason: null,
        calls: [...calls],
        notes: [`LANGUAGE ${language}`, volatility],
      };
    }
    const bindings = new Map<string, StoredVariableBinding>(
      params.map((p) => [p.name.toLowerCase(), { sql: quotePg(p.name.toLowerCase()), type: p.mapped }]),
    );
    const emitter = new StoredEmitter(names, bindings, { kind: 'procedure' });
    const lines = emitter.emit(body);
    const signature = [
      ...params.map((p) => `${p.mode} ${quotePg(p.name.toLowerCase())} ${p.mapped.pg}`),
      ...emitter.resultCursors.map((c) => `INOUT ${c} refcursor`),
    ].join(', ');
    return {
      statements: [`CREATE OR REPLACE PROCEDURE ${name}(${signature})\nLANGUAGE plpgsql AS ${plpgsql(lines)}`],
      reason: null,
      calls: [...emitter.sql.effects.calls],
      resultSets: emitter.resultCursors.length,
      notes:
        emitter.resultCursors.length > 0
          ? [`result sets returned as refcursor parameters ${emitter.resultCursors.join(', ')}`]
          : [],
    };
  } catch (error) {
    return refused(error);
  }
}

/**
 * A trigger as a trigger function and CREATE TRIGGER … FOR EACH ROW. `targetName` is the
 * PostgreSQL trigger's name (which orders triggers of one event: PostgreSQL fires them by name).
 */
export function translateTrigger(
  trigger: SourceTrigger,
  relation: Relation,
  targetName: string,
  names: Names,
): TranslatedStored {
  try {
    refuseSqlMode(trigger.sqlMode);
    const body = parseStoredBody(trigger.body);
    const kind: StoredBodyKind = { kind: 'trigger', relation, timing: trigger.timing, event: trigger.event };
    const emitter = new StoredEmitter(names, new Map(), kind);
    const lines = emitter.emit(body);
    const result = trigger.timing === 'AFTER' ? 'NULL' : trigger.event === 'DELETE' ? 'OLD' : 'NEW';
    const fn = qualifyPg(names.schema, `${trigger.name}_fn`.slice(0, 63));
    const table = qualifyPg(names.schema, relation.targetName);
    return {
      statements: [
        `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger\nLANGUAGE plpgsql AS ${plpgsql(lines, [`RETURN ${result};`])}`,
        `DROP TRIGGER IF EXISTS ${quotePg(targetName)} ON ${table}`,
        `CREATE TRIGGER ${quotePg(targetName)} ${trigger.timing} ${trigger.event} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
      ],
      reason: null,
      calls: [...emitter.sql.effects.calls],
      notes: [],
    };
  } catch (error) {
    return refused(error);
  }
}

/**
 * PostgreSQL trigger names that keep MySQL's order: where a table has several triggers for one
 * timing and event, each name gets its ACTION_ORDER in front (`01_…`), as PostgreSQL fires them
 * by name; a lone trigger keeps its name.
 */
export function orderedTriggerNames(triggers: readonly SourceTrigger[]): Map<SourceTrigger, string> {
  const out = new Map<SourceTrigger, string>();
  for (const t of triggers) {
    const same = triggers.filter((o) => o.table === t.table && o.timing === t.timing && o.event === t.event);
    out.set(t, same.length > 1 ? `${String(t.order).padStart(2, '0')}_${t.name}`.slice(0, 63) : t.name);
  }
  return out;
}

/**
 * DROP TRIGGER for the source's triggers on tables a run fills: a rerun into a target that
 * already has them must not fire them while it loads (finalize creates them again).
 */
export function dropTriggerStatements(
  triggers: readonly SourceTrigger[],
  schema: string,
  filled: readonly { table: string; targetTable: string }[],
): string[] {
  const names = orderedTriggerNames(triggers);
  return triggers.flatMap((t) => {
    const table = filled.find((f) => f.table === t.table);
    return table ? [`DROP TRIGGER IF EXISTS ${quotePg(names.get(t)!)} ON ${qualifyPg(schema, table.targetTable)}`] : [];
  });
}
