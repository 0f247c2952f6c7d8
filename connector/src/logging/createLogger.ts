import { pino, type DestinationStream, type Logger } from 'pino';
import type { IncomingMessage } from 'node:http';

export type { Logger };

const LOGGED_HEADERS = [
  'user-agent',
  'content-length',
  'content-type',
  'x-wopi-override',
  'x-wopi-correlationid',
  'x-wopi-sessionid',
  'x-wopi-clientversion',
  'x-request-id',
];

/**
 * Serializes a request without its query string (it holds `access_token`) and with allow-listed headers only.
 * pino's standard serializer copies the whole URL and every header, which `redact` cannot clean.
 */
export function serializeRequest(req: IncomingMessage): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const h of LOGGED_HEADERS) if (req.headers[h] !== undefined) headers[h] = req.headers[h];
  return { method: req.method, path: stripQuery(req.url ?? ''), headers };
}

/** Drops the query string from a URL or path (which may carry access_token). */
export function stripQuery(url: string): string {
  const i = url.indexOf('?');
  return i === -1 ? url : url.slice(0, i);
}

/**
 * Builds the one root logger.
 * @param level pino level
 * @param destination where JSON lines go (stdout by default; tests pass a sink)
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      serializers: { req: serializeRequest, err: pino.stdSerializers.err },
      redact: {
        paths: [
          'accessToken',
          'access_token',
          'token',
          'password',
          'secret',
          '*.password',
          '*.secret',
          '*.accessToken',
          'headers.authorization',
          'headers["x-wopi-proof"]',
          'headers["x-wopi-proofold"]',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
