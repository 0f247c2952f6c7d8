import type { Context, Next } from 'koa';
import { ClientGoneError, RequestTimeoutError, WopiError, isWopiError } from './errors.js';
import { toHeaderValue } from '../wopi/wopiHeaders.js';
import { bodyFailureOf } from '../wopi/requestBody.js';

/**
 * The error that describes what happened: when the client's body failed (paused too long, request timeout,
 * disconnected), whatever was reading it failed in turn — often the drive upload, as a "drive" error — and the
 * request is the client's failure. A client mistake found before that (a 4xx) stays what it is.
 */
function effectiveError(ctx: Context, e: unknown): unknown {
  if (isWopiError(e) && e.status < 500) return e;
  const failure = bodyFailureOf(ctx.req);
  if (failure === 'body_timeout' || failure === 'request_timeout') return new RequestTimeoutError({ failure });
  if (failure === 'client_gone') return new ClientGoneError({ while: 'reading body' }, e);
  // The drive upload cut off because the client left (StorageError kind 'aborted').
  if (isWopiError(e) && e.detail.kind === 'aborted') return new ClientGoneError({ while: 'saving' }, e);
  return e;
}

/** Whether `e` is the client's doing: a 4xx answer (501 included: MS-WOPI's unknown override) or a departure. */
function isClientSide(e: unknown): e is WopiError {
  return isWopiError(e) && (e.status < 500 || e.status === 501);
}

/**
 * The only writer of error responses. Registered first. Koa-style: headers set before the throw are dropped
 * (except X-Request-Id), the error's own headers applied. Every error body names the request id (one short line for
 * a 4xx; a 5xx never echoes internals). When the client is already gone nothing is written: the request is logged
 * as 499 (client closed request), or with the error's status when that is the client's mistake — never as a
 * bridge error unless the bridge failed.
 */
export async function errorMiddleware(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (caught) {
    const e = effectiveError(ctx, caught);
    const reqId = String(ctx.state.reqId ?? '');
    if (ctx.headerSent) {
      ctx.state.log?.error({ err: e }, 'error after response started');
      return;
    }
    const status = isWopiError(e) ? e.status : 500;
    const code = isWopiError(e) ? e.code : 'internal_error';
    ctx.state.errorCode = code;
    ctx.state.error = e;
    if (!ctx.writable) {
      // The client left before its answer. A bridge failure is still one (the drive went down meanwhile, say).
      if (!isClientSide(e)) ctx.state.log?.error({ err: e }, 'error after the client left');
      ctx.status = 499;
      return;
    }
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
    ctx.body = status >= 500 ? `Internal error (reqId ${reqId})\n` : `${isWopiError(e) ? e.publicMessage : 'Error'} (reqId ${reqId})\n`;
  }
}
