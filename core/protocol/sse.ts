/**
 * The text/event-stream wire format, as plain strings. Values with inner line breaks become
 * several `data:` lines; an id or event name containing CR, LF or NUL is refused, since it would
 * let a value forge extra fields.
 */
const FORBIDDEN_IN_FIELD = /[\r\n\0]/;

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

export function encodeMessage(message: SseMessage): string {
  let out = '';
  if (message.id !== undefined) out += `id: ${checkField('id', message.id)}\n`;
  if (message.event !== undefined) out += `event: ${checkField('event', message.event)}\n`;
  for (const line of message.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

export function encodeRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

export function encodeComment(text: string): string {
  return `${text
    .split(/\r\n|\r|\n/)
    .map((line) => `: ${line}\n`)
    .join('')}\n`;
}

function checkField(name: string, value: string): string {
  if (FORBIDDEN_IN_FIELD.test(value)) throw new TypeError(`SSE ${name} must not contain CR, LF or NUL`);
  return value;
}
