import { randomUUID } from 'node:crypto';
import type { Next, ParameterizedContext } from 'koa';
import type { Logger } from './createLogger.js';
import { stripQuery } from './createLogger.js';
import { isWopiError } from '../errors/errors.js';
import type { RequestOutcome } from '../metrics/createMetrics.js';

interface LogState {
  reqId: string;
  log: Logger;
  op?: string;
  fileId?: string;
  bytes?: number;
  result?: string;
  errorCode?: string;
  error?: unknown;
}

/**
 * Gives each request an id (X-Request-Id, echoed) and a child logger, and writes one access line when the response
 * is finished. The path is logged without its query string (which holds access_token). 401/404/409 are normal WOPI
 * traffic (info); other 4xx (499: the client left before its answer) warn; 5xx error with the error attached.
 */
export function requestLogger(root: Logger, onDone?: (outcome: RequestOutcome) => void) {
  return async (ctx: ParameterizedContext<LogState>, next: Next): Promise<void> => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const reqId = /^[A-Za-z0-9._-]{8,64}$/.test(incoming) ? incoming : randomUUID();
    ctx.state.reqId = reqId;
    ctx.state.log = root.child({ reqId });
    ctx.set('X-Request-Id', reqId);
    const done = (): void => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // Nothing sent by Koa: the client left before its answer (nginx's 499, "client closed request"), whatever status
      // the handler had set — Koa's default 404 would read as a missing file. Past REQUEST_TIMEOUT_MS, Node itself
      // answered 408 on the socket.
      const status = ctx.res.headersSent ? ctx.status : ctx.state.errorCode === 'body_timeout' ? 408 : 499;
      const fields: Record<string, unknown> = {
        op: ctx.state.op,
        fileId: ctx.state.fileId,
        method: ctx.method,
        path: stripQuery(ctx.originalUrl),
        status,
        ms: Math.round(ms * 10) / 10,
        bytes: ctx.state.bytes,
        result: ctx.state.result,
        code: ctx.state.errorCode,
      };
      const e = ctx.state.error;
      if (isWopiError(e) && Object.keys(e.detail).length > 0) fields.detail = e.detail;
      onDone?.({
        ...(ctx.state.op !== undefined ? { op: ctx.state.op } : {}),
        status,
        ms,
        ...(ctx.state.bytes !== undefined ? { bytes: ctx.state.bytes } : {}),
        ...(ctx.state.result !== undefined ? { result: ctx.state.result } : {}),
        ...(ctx.state.errorCode !== undefined ? { code: ctx.state.errorCode } : {}),
        ...(isWopiError(e) ? { detail: e.detail } : {}),
      });
      const log = ctx.state.log;
      // 501 answers a client's unknown X-WOPI-Override (MS-WOPI): the client's mistake, not ours.
      if (status >= 500 && status !== 501) log.error({ ...fields, err: e }, 'request');
      else if (status >= 400 && ![401, 404, 409].includes(status)) log.warn(fields, 'request');
      else log.info(fields, 'request');
    };
    // One line when both the handler has finished and the response is closed (a streamed body ends later than the
    // handler; an aborted request closes before it).
    let pending = 2;
    const settle = (): void => {
      if (--pending === 0) done();
    };
    if (ctx.res.closed) pending--;
    else ctx.res.once('close', settle);
    try {
      await next();
    } finally {
      settle();
    }
  };
}
