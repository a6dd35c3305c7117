import { literalPg } from '../../dialect/postgres/quote.js';
import type { SourceEvent } from './source-stored-code.js';

/** An event as plan and the report list it: its schedule, and a pg_cron job to start from. */
export interface EventListing {
  name: string;
  schedule: string;
  /** `SELECT cron.schedule(…)`, or null when pg_cron's schedules cannot express it. */
  suggestion: string | null;
  reason: string;
}

/** The minute and hour an event starts at (STARTS), for a daily or weekly cron line. */
function startOf(event: SourceEvent): { minute: number; hour: number; day: number; month: number; weekday: number } {
  const m = /(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})/.exec(event.starts ?? '');
  if (!m) return { minute: 0, hour: 0, day: 1, month: 1, weekday: 0 };
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return {
    minute: Number(m[5]),
    hour: Number(m[4]),
    day: Number(m[3]),
    month: Number(m[2]),
    weekday: date.getUTCDay(),
  };
}

/** A cron line for EVERY n unit, or null where cron cannot say it (pg_cron also takes `n seconds`). */
function cronOf(event: SourceEvent): string | null {
  const n = Number(event.intervalValue);
  if (!Number.isInteger(n) || n <= 0) return null;
  const { minute, hour, day, month, weekday } = startOf(event);
  switch ((event.intervalField ?? '').toUpperCase()) {
    case 'SECOND':
      return n <= 59 ? `${n} seconds` : null;
    case 'MINUTE':
      return n === 1 ? '* * * * *' : 60 % n === 0 ? `*/${n} * * * *` : null;
    case 'HOUR':
      return n === 1 ? `${minute} * * * *` : 24 % n === 0 ? `${minute} */${n} * * *` : null;
    case 'DAY':
      return n === 1 ? `${minute} ${hour} * * *` : null;
    case 'WEEK':
      return n === 1 ? `${minute} ${hour} * * ${weekday}` : null;
    case 'MONTH':
      return n === 1 ? `${minute} ${hour} ${day} * *` : 12 % n === 0 ? `${minute} ${hour} ${day} */${n} *` : null;
    case 'YEAR':
      return n === 1 ? `${minute} ${hour} ${day} ${month} *` : null;
    default:
      return null;
  }
}

/** Lists an event: nothing is created (PostgreSQL has no event scheduler; pg_cron is an extension). */
export function describeEvent(event: SourceEvent): EventListing {
  const schedule =
    event.type.toUpperCase() === 'ONE TIME'
      ? `AT ${event.executeAt ?? '?'}`
      : `EVERY ${event.intervalValue ?? '?'} ${event.intervalField ?? '?'}${event.starts ? ` STARTS ${event.starts}` : ''}${event.ends ? ` ENDS ${event.ends}` : ''}`;
  const cron = event.type.toUpperCase() === 'ONE TIME' ? null : cronOf(event);
  const suggestion =
    cron === null
      ? null
      : `SELECT cron.schedule(${literalPg(event.name)}, ${literalPg(cron)}, ${literalPg(`-- MySQL: ${event.body.replace(/\s+/g, ' ').trim()}`)})`;
  return {
    name: event.name,
    schedule: `${schedule} (${event.status.toLowerCase()})`,
    suggestion,
    reason: `an event is not created (PostgreSQL has no event scheduler): ${schedule}; ${cron === null ? 'pg_cron cannot express this schedule as it stands: schedule it by hand' : `with pg_cron: ${cron}, the body translated by hand`}`,
  };
}
