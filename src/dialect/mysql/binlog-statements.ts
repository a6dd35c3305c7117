import type { DataSource } from 'typeorm';

/** A statement of the binary log (a Query event), with the database it ran in. */
export interface LoggedStatement {
  statement: string;
  /** The session's default database (`use …` of the event), or null. */
  database: string | null;
}

/** Events read per SHOW BINLOG EVENTS: memory stays bounded whatever the distance to the end. */
const EVENTS_PER_READ = 2000;

const USE = /^use `((?:[^`]|``)+)`;\s*([\s\S]*)$/;

/**
 * The statements (Query events, BEGIN/COMMIT left out) the source logged from `from` to the end
 * of its binary log, those `keep` accepts: what a schema change read from the catalog may
 * already include (see docs/schema-changes.md). Reads SHOW BINLOG EVENTS a page at a time.
 */
export async function readLoggedStatements(
  source: DataSource,
  from: { file: string; position: number },
  keep: (statement: LoggedStatement) => boolean,
): Promise<LoggedStatement[]> {
  const logs: Record<string, unknown>[] = await source.query('SHOW BINARY LOGS');
  const files = logs.map((l) => String(l.Log_name)).filter((f) => f >= from.file);
  const kept: LoggedStatement[] = [];
  for (const file of files) {
    let position = file === from.file ? from.position : 4;
    for (;;) {
      const events: Record<string, unknown>[] = await source.query('SHOW BINLOG EVENTS IN ? FROM ? LIMIT ?', [
        file,
        position,
        EVENTS_PER_READ,
      ]);
      for (const event of events) {
        if (event.Event_type !== 'Query') continue;
        const info = String(event.Info ?? '');
        const use = USE.exec(info);
        const statement = { statement: use ? use[2]! : info, database: use ? use[1]!.replace(/``/g, '`') : null };
        if (!/^\s*(BEGIN|COMMIT|XA\s)/i.test(statement.statement) && keep(statement)) kept.push(statement);
      }
      if (events.length < EVENTS_PER_READ) break;
      position = Number(events[events.length - 1]!.End_log_pos);
    }
  }
  return kept;
}
