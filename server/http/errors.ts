import type { ServerResponse } from 'node:http';
import type { Response } from 'express';

export type ErrorCode =
  | 'unknown_job_type'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'invalid_json'
  | 'validation_failed'
  | 'not_found'
  | 'invalid_last_event_id'
  | 'rate_limited'
  | 'idempotency_key_reused'
  | 'invalid_idempotency_key'
  | 'already_final'
  | 'bad_request'
  | 'forbidden_origin'
  | 'unavailable'
  | 'internal_error';

const STATUS: Record<ErrorCode, number> = {
  unknown_job_type: 404,
  unsupported_media_type: 415,
  payload_too_large: 413,
  invalid_json: 400,
  validation_failed: 422,
  not_found: 404,
  invalid_last_event_id: 400,
  rate_limited: 429,
  idempotency_key_reused: 409,
  invalid_idempotency_key: 400,
  already_final: 409,
  bad_request: 400,
  forbidden_origin: 403,
  unavailable: 503,
  internal_error: 500,
};

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;

export function sendError(
  res: Response,
  code: ErrorCode,
  message: string,
  details?: Record<string, string[]>,
  retryAfterSeconds?: number,
): void {
  writeError(res, code, message, details, retryAfterSeconds);
}

/** Maps body-parser's errors onto the contract's codes. */
export function codeForBodyError(err: { type?: string; status?: number }): ErrorCode | undefined {
  switch (err.type) {
    case 'entity.too.large':
      return 'payload_too_large';
    case 'entity.parse.failed':
    case 'request.size.invalid':
    case 'request.aborted':
    case 'parameters.too.many':
      return 'invalid_json';
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return 'unsupported_media_type';
    default:
      return undefined;
  }
}

/** The same error answer, for handlers that run outside Express. */
export function writeError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  details?: Record<string, string[]>,
  retryAfterSeconds?: number,
): void {
  const status = STATUS[code];
  const body = JSON.stringify({ error: details ? { code, message, details } : { code, message } });
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  };
  if (status === 503 || status === 429) headers['Retry-After'] = String(retryAfterSeconds ?? RETRY_AFTER_SECONDS);
  res.writeHead(status, headers).end(body);
}
