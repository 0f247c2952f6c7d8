/**
 * Reads a small JSON request body. Used only by the admin API: WOPI bodies are streams and never parsed
 * (STYLE §5).
 */
import type { Context } from 'koa';
import { readSmallBody } from '../http/readSmallBody.js';
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
  if ((declared === '' || declared === '0') && ctx.get('Transfer-Encoding') === '') return undefined;
  if (!ctx.is('application/json')) throw new AdminBadRequestError(415, 'Send the body as application/json');
  // Past the limit reading stops; errorMiddleware drains the rest and closes the connection after answering.
  const body = await readSmallBody(ctx, limit, () => new AdminBadRequestError(413, `Body larger than ${limit} bytes`));
  if (body === null || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new AdminBadRequestError(400, 'Body is not valid JSON');
  }
}
