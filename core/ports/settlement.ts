/**
 * How a consumer settles one message once its work is done. `retry` puts the job back after a
 * backoff delay, as attempt `attempt`.
 */
export type Settlement =
  | { kind: 'ack' }
  | { kind: 'dead-letter'; reason: string }
  | { kind: 'requeue' }
  | { kind: 'retry'; attempt: number };

/** What a queue does for each kind of settlement; every queue adapter settles through `settle`. */
export interface SettlementActions<T> {
  ack(): T;
  requeue(): T;
  deadLetter(reason: string): T;
  retry(attempt: number): T;
}

export function settle<T>(settlement: Settlement, actions: SettlementActions<T>): T {
  switch (settlement.kind) {
    case 'ack':
      return actions.ack();
    case 'requeue':
      return actions.requeue();
    case 'dead-letter':
      return actions.deadLetter(settlement.reason);
    case 'retry':
      return actions.retry(settlement.attempt);
  }
}
