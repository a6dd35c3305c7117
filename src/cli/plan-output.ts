/**
 * How a plan reads: plain text on stdout (the default), Markdown for `--markdown FILE`, and the
 * one-paragraph summary `run` and `start` print before they enqueue.
 */
import type { Hazard } from '../schema/hazards.js';
import type { PlanDocument, PlanTableEntry } from '../run/plan-document.js';

function megabytes(bytes: number): string {
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(0)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

function duration(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function hazardLine(h: Hazard): string {
  const where = h.column === null ? '' : ` ${h.column}`;
  const count = h.count === null ? '' : ` ${h.count} row${h.count === 1 ? '' : 's'}`;
  return `${h.blocking ? 'BLOCKER' : 'hazard'} ${h.kind}${where}:${count}${count ? ', ' : ' '}${h.fix}`;
}

function rowsOf(t: PlanTableEntry): string {
  return `${t.rowsCounted ? '' : '~'}${t.estimatedRows} rows`;
}

/** The last line of every form: tables, rows, bytes, blockers, estimate. */
function planTotals(plan: PlanDocument): string {
  const rows = plan.tables.some((t) => !t.rowsCounted) ? `~${plan.totals.rows}` : String(plan.totals.rows);
  const estimate = plan.estimate ? `, about ${duration(plan.estimate.seconds)} (${plan.estimate.basis})` : '';
  return `${plan.totals.tables} tables, ${rows} rows, ${megabytes(plan.totals.bytes)}, ${plan.totals.hazards} hazards, ${plan.blockers} blocker${plan.blockers === 1 ? '' : 's'}${estimate}`;
}

/** Every blocker, one line each, named with its table and fix. */
function blockerLines(plan: PlanDocument): string[] {
  return [
    ...plan.hazards.filter((h) => h.blocking).map((h) => `schema ${plan.schema}: ${h.fix}`),
    ...plan.tables.flatMap((t) =>
      t.hazards
        .filter((h) => h.blocking)
        .map(
          (h) =>
            `table ${t.source}${h.column ? `, column ${h.column}` : ''}: ${h.kind}${h.count !== null ? ` (${h.count} row${h.count === 1 ? '' : 's'})` : ''}: ${h.fix}`,
        ),
    ),
    ...plan.objects
      .filter((o) => o.blocking)
      .map(
        (o) =>
          `${o.kind} ${o.name}: ${o.reason}; exclude it (views.exclude in the migration file, or --exclude-view) if it may stay behind`,
      ),
  ];
}

/** `my2pg plan`'s text form. */
export function formatPlanText(plan: PlanDocument): string[] {
  const lines: string[] = [`plan: ${plan.source} → ${plan.target}, schema ${plan.schema}`];
  if (plan.reading === 'quick')
    lines.push(
      '--quick: no table was read, so rows are MySQL estimates and value hazards (zero dates, NULs, ranges) are not counted',
    );
  for (const h of plan.hazards) lines.push(`  ${hazardLine(h)}`);
  for (const t of plan.tables) {
    lines.push('');
    lines.push(
      `table ${t.source} → ${t.target}: ${t.action}, ${rowsOf(t)}, ${megabytes(t.estimatedBytes)}, ${t.jobs} job${t.jobs === 1 ? '' : 's'}${t.unsplit ? ` (not split: ${t.unsplit})` : ''}${t.where ? `, where ${t.where}` : ''}`,
    );
    for (const c of t.columns) {
      lines.push(`  ${c.source} ${c.mysqlType} → ${c.target ?? '(missing)'} ${c.pgType ?? ''} (${c.reason})`);
    }
    for (const statement of t.ddl) lines.push(`  ddl: ${statement.replace(/\s+/g, ' ')}`);
    for (const h of t.hazards) lines.push(`  ${hazardLine(h)}`);
  }
  if (plan.objects.length > 0) {
    lines.push('');
    for (const o of plan.objects) {
      lines.push(`${o.kind} ${o.name}: ${o.action}: ${o.reason}`);
      if (o.ddl) lines.push(`  ddl: ${o.ddl.replace(/\s+/g, ' ')}`);
    }
  }
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  const blockers = blockerLines(plan);
  if (blockers.length > 0) {
    lines.push('');
    lines.push('blockers:');
    for (const line of blockers) lines.push(`  ${line}`);
  }
  lines.push('');
  lines.push(planTotals(plan));
  return lines;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** `my2pg plan --markdown FILE`: the same content as a document to review or attach to a change request. */
export function formatPlanMarkdown(plan: PlanDocument): string {
  const out: string[] = [
    `# Migration plan: ${plan.source} → ${plan.target} (schema ${plan.schema})`,
    '',
    planTotals(plan),
    '',
  ];
  if (plan.reading === 'quick')
    out.push('> `--quick`: no table was read; rows are estimates and value hazards are not counted.', '');
  const blockers = blockerLines(plan);
  out.push('## Blockers', '', ...(blockers.length > 0 ? blockers.map((b) => `- ${b}`) : ['None.']), '');
  out.push(
    '## Tables',
    '',
    '| Source | Target | Action | Rows | Size | Jobs | Hazards |',
    '|---|---|---|---:|---:|---:|---|',
  );
  for (const t of plan.tables) {
    out.push(
      `| ${cell(t.source)} | ${cell(t.target)} | ${t.action} | ${rowsOf(t).replace(' rows', '')} | ${megabytes(t.estimatedBytes)} | ${t.jobs} | ${cell(t.hazards.map((h) => `${h.kind}${h.column ? ` ${h.column}` : ''}${h.count !== null ? ` (${h.count})` : ''}`).join(', ') || '—')} |`,
    );
  }
  for (const t of plan.tables) {
    out.push('', `### ${t.source}`, '');
    if (t.where) out.push(`Only rows where \`${t.where}\`.`, '');
    if (t.unsplit) out.push(`One job, not split: ${t.unsplit}.`, '');
    out.push('| Column | MySQL | Target | PostgreSQL | Why |', '|---|---|---|---|---|');
    for (const c of t.columns)
      out.push(
        `| ${cell(c.source)} | ${cell(c.mysqlType)} | ${cell(c.target ?? '(missing)')} | ${cell(c.pgType ?? '')} | ${cell(c.reason)} |`,
      );
    if (t.hazards.length > 0) out.push('', ...t.hazards.map((h) => `- ${cell(hazardLine(h))}`));
    if (t.ddl.length > 0) out.push('', '```sql', ...t.ddl.map((s) => `${s};`), '```');
  }
  if (plan.objects.length > 0) {
    out.push('', '## Other objects', '', '| Kind | Name | Action | Why |', '|---|---|---|---|');
    for (const o of plan.objects) out.push(`| ${o.kind} | ${cell(o.name)} | ${o.action} | ${cell(o.reason)} |`);
    const views = plan.objects.filter((o) => o.ddl);
    if (views.length > 0) out.push('', '```sql', ...views.map((o) => `${o.ddl};`), '```');
  }
  if (plan.warnings.length > 0) out.push('', '## Warnings', '', ...plan.warnings.map((w) => `- ${cell(w)}`));
  return `${out.join('\n')}\n`;
}

/** What `run` and `start` print before they enqueue: totals, and each blocker the catalogs show, named with its fix. */
export function formatPlanSummary(
  tables: readonly {
    table: string;
    estimatedRows: number;
    estimatedBytes?: number | undefined;
    hazards: readonly Hazard[];
  }[],
): string[] {
  const hazards = tables.flatMap((t) => t.hazards.map((h) => ({ table: t.table, hazard: h })));
  const blockers = hazards.filter((h) => h.hazard.blocking);
  const rows = tables.reduce((sum, t) => sum + t.estimatedRows, 0);
  const bytes = tables.reduce((sum, t) => sum + (t.estimatedBytes ?? 0), 0);
  return [
    `plan: ${tables.length} tables, ~${rows} rows, ${megabytes(bytes)}, ${hazards.length} hazards and ${blockers.length} blocker${blockers.length === 1 ? '' : 's'} in the catalogs (\`my2pg plan\` also counts the values)`,
    ...blockers.map(
      ({ table, hazard }) =>
        `blocker: table ${table}${hazard.column ? `, column ${hazard.column}` : ''}: ${hazard.kind}: ${hazard.fix}`,
    ),
  ];
}
