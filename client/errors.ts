/** An error answer from Relay (`{"error":{"code","message","details"?}}`), or a network failure (`status` 0). */
export class RelayError extends Error {
  constructor(
    /** The HTTP status; 0 when no answer came (network error). */
    readonly status: number,
    /** Relay's error code (`validation_failed`, `rate_limited`, …), or `network_error`. */
    readonly code: string,
    message: string,
    /** Per-field messages of a `validation_failed`, or other details. */
    readonly details?: Record<string, string[]>,
    /** Seconds to wait before trying again, from `Retry-After` (`429`, `503`). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'RelayError';
  }

  /** True for answers worth trying again later: no answer, `429`, `502`–`504`. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || (this.status >= 502 && this.status <= 504);
  }
}

/** Builds the error of a non-2xx answer. */
export async function errorOf(res: Response): Promise<RelayError> {
  const retryAfter = retryAfterSeconds(res.headers.get('retry-after'));
  let body: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  try {
    body = (await res.json()) as typeof body;
  } catch {
    body = undefined;
  }
  const error = body?.error;
  return new RelayError(
    res.status,
    typeof error?.code === 'string' ? error.code : `http_${res.status}`,
    typeof error?.message === 'string' ? error.message : `HTTP ${res.status}`,
    error?.details && typeof error.details === 'object' ? (error.details as Record<string, string[]>) : undefined,
    retryAfter,
  );
}

export function networkError(err: unknown): RelayError {
  return new RelayError(0, 'network_error', err instanceof Error ? err.message : String(err));
}

/** `Retry-After` in seconds (a number of seconds or an HTTP date), or undefined. */
export function retryAfterSeconds(header: string | null): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
