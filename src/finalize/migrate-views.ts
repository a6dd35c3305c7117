import type { DataSource } from 'typeorm';
import { withPgClient } from '../dialect/postgres/connection.js';
import { describeError } from '../core/errors.js';
import { readSourceCatalog } from '../dialect/mysql/catalog.js';
import type { NamingRules } from '../vocabulary/naming.js';
import { parseMysqlSelect, UntranslatableError } from '../schema/translate/mysql-parse.js';
import { readSourceObjects, type SourceObjects, type SourceView } from '../schema/translate/source-objects.js';
import { ViewTranslator } from '../schema/translate/translate-view.js';
import { orderViews, type Relation, relationsReadBy } from '../schema/translate/view-relations.js';
import type { RunRow, RunTableRow } from '../state/entities.js';
import { runCatalogOf } from '../state/run-catalog.js';
import { verifyView, type ViewToVerify, type ViewVerification } from '../verify/verify-views.js';
import type { VerifyMethod } from '../verify/verify-run.js';
import type { StoredFunctionSignature } from '../schema/translate/expression-types.js';
import { relationsOf, viewRelationOf } from './target-relations.js';
import { adoptEarlyView } from './early-view-mark.js';

/** What became of one source view, in finalize's result. */
export interface ViewOutcome {
  name: string;
  /**
   * `verified`: created and its rows equal on both sides; `created`: created, not compared
   * (`--verify none`); `mismatch`: created, rows differ; `failed`: not translated or not
   * created; `excluded`: `--exclude-view`; `skipped`: it reads a table or view this run does
   * not migrate (or an excluded view).
   */
  status: 'verified' | 'created' | 'mismatch' | 'failed' | 'excluded' | 'skipped';
  reason?: string;
  /** The CREATE VIEW my2pg ran. */
  statement?: string;
  /** The view's name in the target, when the run's case rule changed it. */
  targetName?: string;
  /** The view's column names in the target, in order, when the run's case rule changed one. */
  targetColumns?: string[];
  /** Columns compared in any item order (a GROUP_CONCAT without ORDER BY), with the separator. */
  unorderedLists?: Record<string, string>;
  verification?: ViewVerification;
}

/** Whether a view's outcome keeps the run from being verified. */
export function isViewProblem(view: ViewOutcome): boolean {
  return view.status === 'failed' || view.status === 'mismatch';
}

/** One sentence for a view that keeps the run from being verified. */
export function describeViewProblem(view: ViewOutcome): string {
  const how = 'exclude it with --exclude-view if it may stay behind';
  if (view.status === 'failed') return `view ${view.name}: not created: ${view.reason ?? 'unknown error'}; ${how}`;
  const v = view.verification;
  if (v?.error) return `view ${view.name}: verification failed: ${v.error}`;
  const rows = (v?.differences ?? [])
    .slice(0, 3)
    .map((d) => `${d.kind === 'missing' ? 'missing from PostgreSQL' : 'only in PostgreSQL'}: ${JSON.stringify(d.row)}`);
  return `view ${view.name}: ${v?.sourceRows ?? '?'} rows in MySQL, ${v?.targetRows ?? '?'} in PostgreSQL, ${v?.differenceCount ?? '?'} rows differ${rows.length > 0 ? `: ${rows.join('; ')}` : ''}${v?.note ? `: ${v.note}` : ''}; ${how}`;
}

/**
 * Creates the source's views through `query`, views before the views that read them, each one
 * translated against `relations` (which grows by every view created). Used by finalize, and by
 * `my2pg plan` in a transaction it rolls back.
 */
export async function createSourceViews(
  objects: SourceObjects,
  schema: string,
  relations: Map<string, Relation>,
  excluded: ReadonlySet<string>,
  naming: NamingRules | undefined,
  functions: ReadonlyMap<string, StoredFunctionSignature>,
  io: {
    query: (sql: string) => Promise<unknown>;
    relationOf: (view: SourceView, targetName: string, targetColumns: readonly string[]) => Promise<Relation | null>;
    log?: (line: string) => void | Promise<void>;
    /** Whether the view is already in the target, created while following: then it is not created again. */
    adopt?: (targetName: string) => Promise<boolean>;
  },
): Promise<ViewOutcome[]> {
  const viewNames = new Set(objects.views.map((v) => v.name));
  const parsed = objects.views.map((view) => {
    try {
      return {
        view,
        name: view.name,
        reads: relationsReadBy(parseMysqlSelect(view.definition)),
        error: null as string | null,
      };
    } catch (error) {
      return { view, name: view.name, reads: [] as string[], error: (error as Error).message };
    }
  });
  const outcomes = new Map<string, ViewOutcome>();
  for (const item of orderViews(parsed)) {
    const outcome = await createView(item, {
      excluded,
      relations,
      viewNames,
      outcomes,
      translator: new ViewTranslator(objects.database, schema, relations, naming, { functions }),
      query: io.query,
      ...(io.adopt ? { adopt: io.adopt } : {}),
    });
    if (outcome.status === 'created') {
      const relation = await io.relationOf(
        item.view,
        outcome.targetName ?? item.name,
        outcome.targetColumns ?? item.view.columns.map((c) => c.name),
      );
      if (relation) relations.set(item.name, relation);
    }
    outcomes.set(item.name, outcome);
    await io.log?.(`view ${item.name}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}`);
  }
  return objects.views.map((v) => outcomes.get(v.name)!);
}

/**
 * Creates the source's views in the target after the data is in, views before the views that
 * read them, then verifies each one's rows on both sides. A view that cannot be translated or
 * created, or whose rows differ, is named with the reason (the run is then not verified) unless
 * the operator excluded it.
 */
export async function migrateViews(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  tables: readonly RunTableRow[],
  method: VerifyMethod,
  log: (line: string) => void | Promise<void>,
  /** The stored functions created before the views. */
  functions: ReadonlyMap<string, StoredFunctionSignature> = new Map(),
): Promise<ViewOutcome[]> {
  const objects = await readSourceObjects(source);
  if (objects.views.length === 0) return [];
  const excluded = new Set<string>(run.options.excludeViews ?? []);
  const naming = run.options.naming;
  // The run's table definitions, read once per run by the jobs (columns are all views need).
  const catalog =
    (await (await runCatalogOf(source, target, run.id))?.sourceCatalog()) ??
    (await readSourceCatalog(
      source,
      tables.map((t) => t.tableName),
    ));
  const relations = await withPgClient(target, (client) =>
    relationsOf(client, run.targetSchema, tables, catalog.tables, naming),
  );
  const results = await createSourceViews(objects, run.targetSchema, relations, excluded, naming, functions, {
    query: (sql) => target.query(sql),
    relationOf: (view, targetName, targetColumns) =>
      withPgClient(target, (client) => viewRelationOf(client, run.targetSchema, view, targetName, targetColumns)),
    log,
    adopt: (targetName) => adoptEarlyView(target, run.targetSchema, run.id, targetName),
  });
  if (method === 'none') return results;
  for (const outcome of results) {
    if (outcome.status !== 'created') continue;
    const view = objects.views.find((v) => v.name === outcome.name)!;
    outcome.verification = await verifyView(source, target, run.targetSchema, viewToVerify(view, outcome));
    outcome.status = outcome.verification.status;
    await log(
      outcome.status === 'verified'
        ? `view ${outcome.name}: verified (${outcome.verification.sourceRows} rows)`
        : describeViewProblem(outcome),
    );
  }
  return results;
}

/** What verification compares of a created view: its source columns, and its names in the target. */
function viewToVerify(view: SourceView, outcome: ViewOutcome): ViewToVerify {
  return {
    name: view.name,
    columns: view.columns,
    ...(outcome.targetName ? { targetName: outcome.targetName } : {}),
    ...(outcome.targetColumns ? { targetColumns: outcome.targetColumns } : {}),
    ...(outcome.unorderedLists ? { unorderedLists: outcome.unorderedLists } : {}),
  };
}

interface CreateContext {
  excluded: ReadonlySet<string>;
  relations: ReadonlyMap<string, Relation>;
  viewNames: ReadonlySet<string>;
  outcomes: ReadonlyMap<string, ViewOutcome>;
  translator: ViewTranslator;
  query: (sql: string) => Promise<unknown>;
  adopt?: (targetName: string) => Promise<boolean>;
}

async function createView(
  item: { view: SourceView; name: string; reads: string[]; error: string | null },
  ctx: CreateContext,
): Promise<ViewOutcome> {
  const { name } = item;
  if (ctx.excluded.has(name)) return { name, status: 'excluded', reason: 'excluded by --exclude-view' };
  if (item.error) return { name, status: 'failed', reason: item.error };
  for (const read of item.reads) {
    if (ctx.viewNames.has(read)) {
      const before = ctx.outcomes.get(read);
      if (before?.status === 'excluded' || before?.status === 'skipped')
        return {
          name,
          status: 'skipped',
          reason: `it reads view ${read}, which is ${before.status === 'excluded' ? 'excluded' : 'not migrated'}`,
        };
      if (!before || before.status === 'failed')
        return { name, status: 'failed', reason: `it reads view ${read}, which could not be created` };
    } else if (!ctx.relations.has(read)) {
      return { name, status: 'skipped', reason: `it reads table ${read}, which this run does not migrate` };
    }
  }
  let statement: string;
  let unorderedLists: Record<string, string>;
  let targetName: string;
  let targetColumns: string[];
  try {
    ({ statement, unorderedLists, targetName, targetColumns } = ctx.translator.translate(item.view));
  } catch (error) {
    if (error instanceof UntranslatableError)
      return { name, status: 'failed', reason: `cannot be translated: ${error.message}` };
    throw error;
  }
  try {
    if (!(await ctx.adopt?.(targetName))) await ctx.query(statement);
  } catch (error) {
    return { name, status: 'failed', reason: `PostgreSQL refused the translation: ${describeError(error)}`, statement };
  }
  // Names are kept only where the run's case rule changed them (older runs have neither).
  const renamed = {
    ...(targetName !== name ? { targetName } : {}),
    ...(targetColumns.some((c, i) => c !== item.view.columns[i]?.name) ? { targetColumns } : {}),
  };
  return {
    name,
    status: 'created',
    statement,
    ...renamed,
    ...(Object.keys(unorderedLists).length > 0 ? { unorderedLists } : {}),
  };
}

/** `my2pg verify`: compares again the views an earlier finalize created (the target may have changed). */
export async function reverifyViews(
  source: DataSource,
  target: DataSource,
  run: RunRow,
  previous: readonly ViewOutcome[],
  method: VerifyMethod,
): Promise<ViewOutcome[]> {
  const created = previous.filter((v) => v.status === 'verified' || v.status === 'mismatch' || v.status === 'created');
  if (created.length === 0 || method === 'none') return [...previous];
  const objects = await readSourceObjects(source);
  return Promise.all(
    previous.map(async (outcome) => {
      const view = objects.views.find((v) => v.name === outcome.name);
      if (!created.includes(outcome) || !view) return outcome;
      const verification = await verifyView(source, target, run.targetSchema, viewToVerify(view, outcome));
      return { ...outcome, status: verification.status, verification };
    }),
  );
}
