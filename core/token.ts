import { createHmac, timingSafeEqual } from 'node:crypto';

/** The capability that lets one client read one job: HMAC-SHA256 of its id, base64url. */
export function tokenFor(secret: string, jobId: string): string {
  return createHmac('sha256', secret).update(jobId).digest('base64url');
}

/**
 * Compares in constant time. Several secrets are accepted while a rotation is under way (new
 * tokens are made with the first; tokens already handed out keep working until they expire).
 */
export function isValidToken(secrets: string | readonly string[], jobId: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length === 0 || token.length > 100) return false;
  const given = Buffer.from(token);
  let valid = false;
  for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
    const expected = Buffer.from(tokenFor(secret, jobId));
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isJobId(value: string): boolean {
  return UUID.test(value);
}
