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
}

/** A single-process work queue with bounded concurrency and explicit settlement. */
export class MemoryQueue {
  private readonly waiting: QueuedMessage[] = [];
  private inFlight = 0;
  private handler: ((message: QueuedMessage) => Promise<Settlement>) | undefined;
  private idle: (() => void) | undefined;
  readonly deadLetters: DeadLetter[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly retryBaseMs = 1_000,
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
      deadLetter: (reason) => this.deadLetters.push({ message, reason }),
      retry: (attempt) => setTimeout(() => this.push({ ...message, attempt }), pickDelay(this.retryBaseMs, attempt)).unref(),
    });
    this.inFlight--;
    if (this.inFlight === 0 && this.idle) this.idle();
    queueMicrotask(() => this.pump());
  }
}
