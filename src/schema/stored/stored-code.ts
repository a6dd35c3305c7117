import { describeError } from '../../core/errors.js';
import type { NamingRules } from '../../vocabulary/naming.js';
import type { StoredFunctionSignature } from '../translate/translate-expression.js';
import type { Relation } from '../translate/view-relations.js';
import { describeEvent } from './describe-events.js';
import type { SourceRoutine, SourceStoredCode, SourceTrigger } from './source-stored-code.js';
import type { StoredProcedureSignature } from './stored-sql.js';
import {
  orderedTriggerNames,
  procedureSignatureOf,
  signatureOf,
  translateRoutine,
  translateTrigger,
  type TranslatedStored,
} from './translate-stored.js';

/** What became of one stored function, procedure, trigger or event (plan, finalize, report, `status --json`). */
export interface StoredOutcome {
  kind: 'function' | 'procedure' | 'trigger' | 'event';
  /** `table.trigger` for a trigger. */
  name: string;
  /**
   * `created`: in the target; `translated`: would be created (plan); `excluded`: not
   * translated, or PostgreSQL refused the translation (the reason names the line and
   * construct); `skipped`: its table is not migrated, or it waits for cutover; `listed`: an event.
   */
  status: 'created' | 'translated' | 'excluded' | 'skipped' | 'listed';
  reason?: string;
  /** The statements that create it. */
  statements?: string[];
  /** LANGUAGE and volatility, result-set cursors. */
  notes?: string[];
  /** A trigger's name in PostgreSQL when it differs (the order prefix). */
  targetName?: string;
  /** An event's schedule and a suggested pg_cron job. */
  schedule?: string;
  suggestion?: string;
}

/** The names stored code reaches in the target. */
export interface StoredTarget {
  database: string;
  schema: string;
  relations: ReadonlyMap<string, Relation>;
  naming?: NamingRules | undefined;
}

interface Item<T> {
  source: T;
  outcome: StoredOutcome;
  result: TranslatedStored;
}

/** The source's stored code translated (nothing created yet). */
export interface StoredTranslation {
  routines: Item<SourceRoutine>[];
  triggers: Item<SourceTrigger>[];
  events: StoredOutcome[];
  signatures: Map<string, StoredFunctionSignature>;
}

/**
 * Translates every routine and trigger; one that calls a stored function that is not
 * translated is excluded too (until nothing changes), so nothing is created half-working.
 */
export function translateStoredCode(code: SourceStoredCode, target: StoredTarget): StoredTranslation {
  const signatures = new Map<string, StoredFunctionSignature>();
  for (const r of code.routines) {
    const signature = r.kind === 'function' ? signatureOf(r, target.schema) : null;
    if (signature) signatures.set(r.name.toLowerCase(), signature);
  }
  const procedures = new Map<string, StoredProcedureSignature>();
  for (const r of code.routines) {
    const signature = r.kind === 'procedure' ? procedureSignatureOf(r, target.schema) : null;
    if (signature) procedures.set(r.name.toLowerCase(), signature);
  }
  const names = { ...target, functions: signatures, procedures };
  const routines = code.routines.map((source) => {
    const result = translateRoutine(source, names);
    return { source, result, outcome: outcomeOf(source.kind, source.name, result) };
  });
  const triggerNames = orderedTriggerNames(code.triggers);
  const triggers = code.triggers.map((source) => {
    const name = `${source.table}.${source.name}`;
    const relation = target.relations.get(source.table);
    const targetName = triggerNames.get(source)!;
    if (!relation) {
      const result: TranslatedStored = { statements: [], reason: null, calls: [], notes: [] };
      return {
        source,
        result,
        outcome: {
          kind: 'trigger' as const,
          name,
          status: 'skipped' as const,
          reason: `its table ${source.table} is not migrated by this run`,
        },
      };
    }
    const result = translateTrigger(source, relation, targetName, names);
    const outcome = outcomeOf('trigger', name, result);
    if (targetName !== source.name) outcome.targetName = targetName;
    return { source, result, outcome };
  });
  // A caller of an excluded routine (or of a procedure with result sets) is excluded, until nothing changes.
  const byName = new Map(routines.map((r) => [r.source.name.toLowerCase(), r]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const item of [...routines, ...triggers]) {
      if (item.outcome.status !== 'translated') continue;
      const missing = item.result.calls
        .map((c) => byName.get(c))
        .find((callee) => callee && (callee.outcome.status !== 'translated' || (callee.result.resultSets ?? 0) > 0));
      if (missing === undefined) continue;
      const why =
        missing.outcome.status === 'translated'
          ? 'which returns result sets (a CALL in PostgreSQL cannot pass them on)'
          : 'which is not translated';
      item.outcome = { ...item.outcome, status: 'excluded', reason: `it calls ${missing.source.name}(), ${why}` };
      delete item.outcome.statements;
      changed = true;
    }
  }
  for (const r of routines) if (r.outcome.status !== 'translated') signatures.delete(r.source.name.toLowerCase());
  const events = code.events.map((e) => {
    const listing = describeEvent(e);
    return {
      kind: 'event' as const,
      name: e.name,
      status: 'listed' as const,
      reason: `${listing.reason}${listing.suggestion ? `; suggested: ${listing.suggestion}` : ''}`,
      schedule: listing.schedule,
      ...(listing.suggestion ? { suggestion: listing.suggestion } : {}),
    };
  });
  return { routines, triggers, events, signatures };
}

function outcomeOf(kind: StoredOutcome['kind'], name: string, result: TranslatedStored): StoredOutcome {
  if (result.reason !== null) return { kind, name, status: 'excluded', reason: `not translated: ${result.reason}` };
  return {
    kind,
    name,
    status: 'translated',
    statements: result.statements,
    ...(result.notes.length > 0 ? { notes: result.notes } : {}),
  };
}

/**
 * Creates the translated functions and procedures through `query` (one statement each: all
 * or nothing), in passes, so that a LANGUAGE sql function whose callee comes later is created
 * once its callee is. What PostgreSQL refuses is excluded with its reason; the signatures
 * then hold only what exists.
 */
export async function createRoutines(
  translation: StoredTranslation,
  query: (sql: string) => Promise<unknown>,
): Promise<StoredOutcome[]> {
  let pending = translation.routines.filter((r) => r.outcome.status === 'translated');
  const errors = new Map<Item<SourceRoutine>, string>();
  while (pending.length > 0) {
    const left: typeof pending = [];
    for (const item of pending) {
      try {
        await query(item.result.statements.join(';\n'));
        item.outcome = { ...item.outcome, status: 'created' };
      } catch (error) {
        errors.set(item, describeError(error));
        left.push(item);
      }
    }
    if (left.length === pending.length) break;
    pending = left;
  }
  for (const item of pending) {
    item.outcome = {
      ...item.outcome,
      status: 'excluded',
      reason: `PostgreSQL refused the translation: ${errors.get(item) ?? ''}`,
    };
    translation.signatures.delete(item.source.name.toLowerCase());
  }
  return translation.routines.map((r) => r.outcome);
}

/** Creates the translated triggers (each function, DROP and CREATE TRIGGER in one statement string: all or nothing). */
export async function createTriggers(
  translation: StoredTranslation,
  query: (sql: string) => Promise<unknown>,
  waitReason: string | null,
): Promise<StoredOutcome[]> {
  for (const item of translation.triggers) {
    if (item.outcome.status !== 'translated') continue;
    if (waitReason !== null) {
      item.outcome = { ...item.outcome, status: 'skipped', reason: waitReason };
      continue;
    }
    try {
      await query(item.result.statements.join(';\n'));
      item.outcome = { ...item.outcome, status: 'created' };
    } catch (error) {
      item.outcome = {
        ...item.outcome,
        status: 'excluded',
        reason: `PostgreSQL refused the translation: ${describeError(error)}`,
      };
    }
  }
  return translation.triggers.map((t) => t.outcome);
}
