import { createHmac, timingSafeEqual } from 'node:crypto';

/** The capability that lets one client read one job: HMAC-SHA256 of its id, base64url. */
export function tokenFor(secret: string, requestId: string): string {
  return createHmac('sha256', secret).update(requestId).digest('base64url');
}

export function isValidToken(secret: string, requestId: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length === 0 || token.length > 100) return false;
  const expected = Buffer.from(tokenFor(secret, requestId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isRequestId(value: string): boolean {
  return UUID.test(value);
}
