import type { DecodedBody } from '../../ports/index.js';

/** rabbitmq-client already parses `application/json` bodies; anything it left as bytes or text is parsed here. */
export function decodeBody(body: unknown, contentType: string | undefined): DecodedBody {
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    try {
      return { json: true, value: JSON.parse(body.toString()) };
    } catch {
      return { json: false };
    }
  }
  // A parsed body arrives as an object; a JSON body that failed to parse stays a Buffer above.
  return contentType === 'application/json' ? { json: true, value: body } : { json: false };
}
