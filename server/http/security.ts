import cors from 'cors';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { sendError } from './errors.js';

/** Security headers: a CSP that allows only the page's own script and style, no framing, no sniffing. */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'same-origin' },
    frameguard: { action: 'deny' },
  });
}

/** CORS stays off unless origins are listed. */
export function corsFor(origins: string[]): RequestHandler | undefined {
  if (origins.length === 0) return undefined;
  return cors({
    origin: origins,
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Content-Type', 'Idempotency-Key', 'Last-Event-ID'],
    maxAge: 600,
  });
}

/**
 * Refuses state-changing requests sent by a page of another site (a form on another site is
 * not stopped by CORS). Browsers say where a request comes from in `Origin` and
 * `Sec-Fetch-Site`; clients that are not browsers send neither and pass.
 */
export function refuseCrossSite(allowedOrigins: string[]): RequestHandler {
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const origin = req.get('origin');
    if (origin && allowed.has(origin)) return next();
    // Sec-Fetch-Site, where a browser sends it, is the most precise; else compare Origin.
    const site = req.get('sec-fetch-site');
    const own = `${req.protocol}://${req.get('host')}`;
    const foreign = site !== undefined ? site !== 'same-origin' && site !== 'none' : origin !== undefined && origin !== own;
    if (foreign) return sendError(res, 'forbidden_origin', 'Requests from other sites are not accepted');
    next();
  };
}

/** The security headers as name/value pairs, for answers written outside Express. */
export function securityHeaderList(): [string, string][] {
  const headers = new Map<string, string>();
  const res = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: () => undefined,
  };
  securityHeaders()({ headers: {} } as never, res as never, () => undefined);
  return [...headers];
}
