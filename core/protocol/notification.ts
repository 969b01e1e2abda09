/**
 * The live notification of a logged event on a job's pub/sub channel: `id\nevent\ndata`, so no
 * JSON is parsed on the way to the socket. The Lua append script publishes this same format.
 */
import { isEventName, type JobEvent } from './job-events.js';

export function encodeNotification(event: JobEvent): string {
  return `${event.id}\n${event.event}\n${event.data}`;
}

export function decodeNotification(message: string): JobEvent | undefined {
  const first = message.indexOf('\n');
  const second = message.indexOf('\n', first + 1);
  if (first < 0 || second < 0) return undefined;
  const event = message.slice(first + 1, second);
  if (!isEventName(event)) return undefined;
  return { id: message.slice(0, first), event, data: message.slice(second + 1) };
}
