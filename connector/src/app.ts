import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from './logging/createLogger.js';
import { requestLogger } from './logging/requestLogger.js';
import { errorMiddleware } from './errors/errorMiddleware.js';
import { wopiRouter } from './wopi/wopiRouter.js';
import type { WopiDeps } from './wopi/wopiContext.js';

export interface AppDeps extends WopiDeps {
  log: Logger;
}

/**
 * Builds the Koa app: request logging and the error writer first, then the routes. No I/O here.
 * @param deps config, logger, storage and state
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  // Errors are written by errorMiddleware and logged by requestLogger; Koa's own printer would log them twice.
  app.silent = true;
  app.use(requestLogger(deps.log));
  app.use(errorMiddleware);
  const wopi = wopiRouter(deps);
  app.use(wopi.routes());
  app.use(wopi.allowedMethods());
  const health = new Router();
  health.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  app.use(health.routes());
  return app;
}
