import { type Logger, pino } from 'pino';

export type { Logger };

/** Structured JSON logs; secrets and stream tokens are never written. */
export function createLogger(name: string, level: string): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['secret', 'token', 'req.headers.authorization', 'req.headers.cookie', '*.password'],
      censor: '[redacted]',
    },
  });
}

/** Strips credentials from a broker URL before it reaches a log line. */
export function safeUrl(url: string): string {
  // A comma-separated list names the nodes of a cluster.
  if (url.includes(','))
    return url
      .split(',')
      .map((u) => safeUrl(u.trim()))
      .join(',');
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
