/** Retry delays: base · 2^(attempt − 2) for the retry into `attempt`, with ±20 % jitter. */
const JITTER = [0.8, 1, 1.2];

export function delaysForAttempt(baseMs: number, attempt: number): number[] {
  const step = baseMs * 2 ** Math.max(0, attempt - 2);
  return JITTER.map((f) => Math.round(step * f));
}

export function pickDelay(baseMs: number, attempt: number): number {
  const options = delaysForAttempt(baseMs, attempt);
  return options[Math.floor(Math.random() * options.length)]!;
}

export function allRetryDelays(baseMs: number, maxAttempts: number): number[] {
  const delays = new Set<number>();
  for (let attempt = 2; attempt <= maxAttempts; attempt++) for (const d of delaysForAttempt(baseMs, attempt)) delays.add(d);
  return [...delays];
}
