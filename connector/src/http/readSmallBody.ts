/**
 * Reads a small request body whole (the admin API's JSON, the pages' forms) with the protections WOPI bodies have:
 * a pause longer than BODY_IDLE_TIMEOUT_MS fails it (408), a client that leaves fails it at once, a body that ends
 * before its Content-Length is refused, and one larger than `limit` stops being read. WOPI file bodies are never
 * read whole (STYLE §5): they stream through requestBody.ts's limitedBody, as this does.
 */
import type { Context } from 'koa';
import { isWopiError } from '../errors/errors.js';
import { limitedBody } from '../wopi/requestBody.js';

/**
 * @param ctx the request (its type already checked by the caller)
 * @param limit largest body in bytes
 * @param tooLarge the caller's own 413 error
 * @returns the bytes; null when the request declares no body
 * @throws tooLarge(); the WOPI errors of a stalled (408), departed (499) or cut-off (400) body
 */
export async function readSmallBody(ctx: Context, limit: number, tooLarge: () => Error): Promise<Buffer | null> {
  const declared = ctx.get('Content-Length');
  const chunked = ctx.get('Transfer-Encoding') !== '';
  if ((declared === '' || declared === '0') && !chunked) return null;
  const length = /^\d{1,16}$/.test(declared) ? Number(declared) : null;
  if (length !== null && length > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of limitedBody(ctx.req, limit, length)) chunks.push(chunk as Buffer);
  } catch (e) {
    if (isWopiError(e) && e.status === 413) throw tooLarge();
    throw e;
  }
  return Buffer.concat(chunks);
}
