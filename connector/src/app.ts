import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from './logging/createLogger.js';
import { requestLogger } from './logging/requestLogger.js';
import { errorMiddleware } from './errors/errorMiddleware.js';
import { wopiRouter } from './wopi/wopiRouter.js';
import type { WopiDeps } from './wopi/wopiContext.js';
import { createMetrics, observeRequest, type Metrics } from './metrics/createMetrics.js';
import { checkReadiness } from './health/readiness.js';
import { adminRouter, type AdminDeps } from './admin/adminRouter.js';
import { adminSecurityHeaders } from './admin/adminSecurityHeaders.js';
import { webRouter } from './web/webRouter.js';
import { probeRouter } from './checks/probe/probeRouter.js';
import { parseTrustedProxies, trustedProxyAddress } from './http/trustedProxies.js';

export interface AppDeps extends WopiDeps {
  log: Logger;
  /** Prometheus metrics; created here when not given. */
  metrics?: Metrics;
  /** The admin page and its API (`/admin`); without it they answer 404. */
  admin?: Omit<AdminDeps, 'config' | 'log' | 'state'>;
}

/**
 * Builds the Koa app: request logging (and metrics) and the error writer first, then the routes. No I/O here.
 * @param deps config, logger, storage and state
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  // Errors are written by errorMiddleware and logged by requestLogger; Koa's own printer would log them twice.
  app.silent = true;
  const metrics = deps.metrics ?? createMetrics();
  const proxies = parseTrustedProxies(deps.config.trustedProxies);
  // First, so the access log and the sign-in limits see the client behind a trusted reverse proxy.
  app.use(trustedProxyAddress('ok' in proxies && deps.config.trustedProxies.length > 0 ? proxies.ok : null));
  app.use(requestLogger(deps.log, (o) => observeRequest(metrics, o)));
  // Outside errorMiddleware, which drops the headers of a response it replaces: error answers get them too.
  app.use(adminSecurityHeaders(deps.config.docs.publicUrl));
  app.use(errorMiddleware);
  const wopi = wopiRouter(deps);
  app.use(wopi.routes());
  app.use(wopi.allowedMethods());
  const health = new Router();
  // Process health: answers while the event loop runs.
  health.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  // Readiness: drive, state store and DS (when configured) reachable; 503 otherwise.
  health.get('/readyz', async (ctx) => {
    const r = await checkReadiness(deps);
    ctx.status = r.ready ? 200 : 503;
    ctx.body = r;
  });
  health.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', metrics.registry.contentType);
    ctx.body = await metrics.registry.metrics();
  });
  app.use(health.routes());
  // The pages: file list, host page, sign-in (issue 4).
  app.use(webRouter({ config: deps.config, users: deps.users, discovery: deps.discovery, locks: deps.locks }));
  app.use(probeRouter(deps.state)); // DS → bridge probe of the checks (checks/probe)
  if (deps.admin) app.use(adminRouter({ config: deps.config, log: deps.log, state: deps.state, ...deps.admin }));
  return app;
}
