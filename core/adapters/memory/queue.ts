import { pickDelay } from '../../backoff.js';
import { type DecodedBody, type Settlement, settle } from '../../ports/index.js';

export interface QueuedMessage {
  jobId: string | undefined;
  type: string | undefined;
  replyTo: string | undefined;
  attempt: number;
  body: DecodedBody;
}

export interface DeadLetter {
  message: QueuedMessage;
  reason: string;
  /** When it was dead-lettered (ms since the epoch). */
  at: number;
}

/** The most dead letters a queue keeps: the embedded mode has no tool to replay them, they are there to look at. */
export const MAX_DEAD_LETTERS = 1_000;

/** A single-process work queue with bounded concurrency and explicit settlement. */
export class MemoryQueue {
  private readonly waiting: QueuedMessage[] = [];
  private inFlight = 0;
  private handler: ((message: QueuedMessage) => Promise<Settlement>) | undefined;
  private idle: (() => void) | undefined;
  /** The latest dead letters, oldest first: at most MAX_DEAD_LETTERS, none older than `keepDeadLettersMs`. */
  readonly deadLetters: DeadLetter[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly retryBaseMs = 1_000,
    private readonly keepDeadLettersMs = 86_400_000,
    private readonly now: () => number = Date.now,
  ) {}

  push(message: QueuedMessage): void {
    this.waiting.push(message);
    this.pump();
  }

  consume(handler: (message: QueuedMessage) => Promise<Settlement>): void {
    this.handler = handler;
    this.pump();
  }

  /** Stops handing out messages and waits for those in hand. */
  async stop(): Promise<void> {
    this.handler = undefined;
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => (this.idle = resolve));
  }

  private pump(): void {
    while (this.handler && this.inFlight < this.concurrency && this.waiting.length > 0) {
      const message = this.waiting.shift()!;
      this.inFlight++;
      void this.run(this.handler, message);
    }
  }

  private async run(handler: (message: QueuedMessage) => Promise<Settlement>, message: QueuedMessage): Promise<void> {
    let settlement: Settlement;
    try {
      settlement = await handler(message);
    } catch (err) {
      settlement = { kind: 'dead-letter', reason: `consumer_error: ${(err as Error).message}` };
    }
    settle<unknown>(settlement, {
      ack: () => undefined,
      requeue: () => this.waiting.push(message),
      deadLetter: (reason) => this.keepDeadLetter({ message, reason, at: this.now() }),
      retry: (attempt) => setTimeout(() => this.push({ ...message, attempt }), pickDelay(this.retryBaseMs, attempt)).unref(),
    });
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) this.idle();
    queueMicrotask(() => this.pump());
  }

  private keepDeadLetter(letter: DeadLetter): void {
    this.deadLetters.push(letter);
    const expired = this.deadLetters.findIndex((d) => d.at > letter.at - this.keepDeadLettersMs);
    const drop = Math.max(expired, this.deadLetters.length - MAX_DEAD_LETTERS);
    if (drop > 0) this.deadLetters.splice(0, drop);
  }
}
