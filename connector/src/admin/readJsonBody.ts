/**
 * Reads a small JSON request body. Used only by the admin API: WOPI bodies are streams and never parsed
 * (STYLE §5).
 */
import type { Context } from 'koa';
import { AdminBadRequestError } from './adminErrors.js';

/** Largest admin request body (64 KiB). */
export const ADMIN_BODY_LIMIT = 64 * 1024;

/**
 * Parses the request body as JSON.
 * @param ctx the request
 * @param limit largest body in bytes
 * @returns the parsed value, or undefined when the request has no body
 * @throws AdminBadRequestError 415 (not application/json), 413 (larger than `limit`), 400 (not JSON)
 */
export async function readJsonBody(ctx: Context, limit: number = ADMIN_BODY_LIMIT): Promise<unknown> {
  const declared = ctx.get('Content-Length');
  const chunked = ctx.get('Transfer-Encoding') !== '';
  if ((declared === '' || declared === '0') && !chunked) return undefined;
  if (!ctx.is('application/json')) throw new AdminBadRequestError(415, 'Send the body as application/json');
  if (declared !== '' && Number(declared) > limit) throw new AdminBadRequestError(413, `Body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const req = ctx.req;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop collecting; errorMiddleware drains the rest and closes the connection after answering.
        req.off('data', onData);
        req.off('end', onEnd);
        reject(new AdminBadRequestError(413, `Body larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve();
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new AdminBadRequestError(400, 'Body is not valid JSON');
  }
}
