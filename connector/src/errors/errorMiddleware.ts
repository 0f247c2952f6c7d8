import type { Context, Next } from 'koa';
import { isWopiError } from './errors.js';
import { toHeaderValue } from '../wopi/wopiHeaders.js';

/**
 * The only writer of error responses. Registered first. Koa-style: headers set before the throw are dropped
 * (except X-Request-Id), the error's own headers applied. 4xx bodies are one short line; 5xx bodies never
 * echo internals, only the request id.
 */
export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (e) {
    const reqId = String(ctx.state.reqId ?? '');
    if (ctx.headerSent || !ctx.writable) {
      ctx.state.log?.error({ err: e }, 'error after response started');
      return;
    }
    const status = isWopiError(e) ? e.status : 500;
    const code = isWopiError(e) ? e.code : 'internal_error';
    ctx.state.errorCode = code;
    ctx.state.error = e;
    for (const name of Object.keys(ctx.response.headers)) if (name.toLowerCase() !== 'x-request-id') ctx.remove(name);
    if (isWopiError(e)) for (const [k, v] of Object.entries(e.headers)) ctx.set(k, toHeaderValue(v));
    if (!ctx.req.complete) {
      // The body was not (fully) read: Node would keep the connection waiting for it. Discard what still comes and
      // close the connection once the answer is sent.
      ctx.set('Connection', 'close');
      ctx.req.resume();
    }
    ctx.status = status;
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = status >= 500 ? `Internal error (reqId ${reqId})\n` : `${isWopiError(e) ? e.publicMessage : 'Error'}\n`;
  }
}
