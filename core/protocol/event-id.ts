/**
 * Event ids: `<attempt>-<seq>`. A worker numbers the replies of each attempt from 1, so a
 * redelivered reply carries an id the log already holds and is dropped, and a later attempt
 * always sorts after an earlier one. The Lua append script (core/adapters/redis/lua/append-event.lua)
 * applies the same two rules, `compareEventIds` and `follows`; the event log contract test runs
 * both implementations against the same cases.
 */
export interface EventId {
  attempt: number;
  seq: number;
}

const EVENT_ID = /^(\d{1,9})-(\d{1,9})$/;

export function eventIdOf(attempt: number, seq: number): string {
  return `${attempt}-${seq}`;
}

export function parseEventId(value: string): EventId | undefined {
  const match = EVENT_ID.exec(value);
  if (!match) return undefined;
  return { attempt: Number(match[1]), seq: Number(match[2]) };
}

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID.test(value);
}

/** Orders two well-formed event ids; negative when a comes first. */
export function compareEventIds(a: string, b: string): number {
  const x = parseEventId(a);
  const y = parseEventId(b);
  if (!x || !y) throw new Error(`malformed event id: ${!x ? a : b}`);
  return x.attempt - y.attempt || x.seq - y.seq;
}

/** True when `id` comes after `last` (anything comes after no position at all). */
export function isAfter(id: string, last: string | undefined): boolean {
  return last === undefined || compareEventIds(id, last) > 0;
}

/** True when `next` is the event right after `last`: the next in its attempt, or a later attempt's first. */
export function follows(last: string, next: string): boolean {
  const a = parseEventId(last)!;
  const b = parseEventId(next)!;
  return b.attempt === a.attempt ? b.seq === a.seq + 1 : b.attempt > a.attempt && b.seq === 1;
}
