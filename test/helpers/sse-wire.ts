/** Reading SSE exactly as it came over the wire: messages, comments and when each chunk arrived. */

export interface WireMessage {
  id?: string;
  event?: string;
  data?: string;
  /** A comment line (`: ping` gives `ping`). */
  comment?: string;
}

/** Parses complete SSE blocks; an unfinished block at the end is left out. */
export function parseSse(text: string): WireMessage[] {
  const complete = text.slice(0, text.lastIndexOf('\n\n') + 2);
  const messages: WireMessage[] = [];
  for (const block of complete.split('\n\n')) {
    if (block === '') continue;
    const message: WireMessage = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) message.comment = line.slice(1).trim();
      else if (line.startsWith('id: ')) message.id = line.slice(4);
      else if (line.startsWith('event: ')) message.event = line.slice(7);
      else if (line.startsWith('data: ')) message.data = line.slice(6);
    }
    if (message.id !== undefined || message.event !== undefined || message.comment !== undefined) messages.push(message);
  }
  return messages;
}

/** The data of one message on a multi-job stream. */
export interface MultiData {
  request_id: string;
  event_id: string;
  data: unknown;
}

export function multiData(message: WireMessage): MultiData {
  return JSON.parse(message.data!) as MultiData;
}

export interface TimedChunk {
  at: number;
  text: string;
}

/** Reads a response body to its end (or until timeoutMs), noting when each chunk arrived. */
export async function readTimed(res: Response, timeoutMs: number): Promise<{ text: string; chunks: TimedChunk[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const chunks: TimedChunk[] = [];
  let cut = false;
  const timer = setTimeout(() => {
    cut = true;
    void reader.cancel();
  }, timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push({ at: Date.now(), text: decoder.decode(value, { stream: true }) });
    }
  } catch {
    // the connection was cut; `ended` says whether the server ended it
  } finally {
    clearTimeout(timer);
  }
  return { text: chunks.map((c) => c.text).join(''), chunks, ended: !cut };
}
