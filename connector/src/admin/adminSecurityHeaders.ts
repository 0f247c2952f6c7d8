/**
 * Security headers on every `/admin` response. Registered before `errorMiddleware` (which drops every header an
 * error response had, koa-style) and applied again once the response is written, so error answers carry them too.
 */
import type { Context, Next } from 'koa';

/** Whether a path belongs to the admin page or its API. */
export function isAdminPath(p: string): boolean {
  return p === '/admin' || p.startsWith('/admin/');
}

/** Whether a path belongs to the admin JSON API. */
export function isAdminApiPath(p: string): boolean {
  return p === '/admin/api' || p.startsWith('/admin/api/');
}

/** The origin of a URL, or null for none / not http(s). */
export function originOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * The admin page's Content-Security-Policy: everything from the bridge itself; scripts also from DocumentServer's
 * public origin(s), for the page's browser → DS check (it loads `web-apps/apps/api/documents/api.js`).
 * @param scriptOrigins DS public origins (duplicates and nulls are dropped)
 */
export function contentSecurityPolicy(scriptOrigins: ReadonlyArray<string | null> = []): string {
  const extra = [...new Set(scriptOrigins.filter((o): o is string => typeof o === 'string' && o !== ''))];
  return [
    "default-src 'self'",
    `script-src ${["'self'", ...extra].join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * Middleware setting the admin security headers on `/admin` responses (other paths pass untouched). A handler may
 * set its own Content-Security-Policy (the page adds the DS origin saved in the settings file); it is kept.
 * @param dsPublicUrl DocumentServer's public URL in force (config.docs.publicUrl)
 */
export function adminSecurityHeaders(dsPublicUrl: string | null) {
  const csp = contentSecurityPolicy([originOf(dsPublicUrl)]);
  const apply = (ctx: Context, keepCsp: boolean): void => {
    if (!keepCsp || !ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', csp);
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    if (isAdminApiPath(ctx.path)) ctx.set('Cache-Control', 'no-store');
    else if (!ctx.response.get('Cache-Control')) ctx.set('Cache-Control', 'no-cache');
  };
  return async (ctx: Context, next: Next): Promise<void> => {
    if (!isAdminPath(ctx.path)) {
      await next();
      return;
    }
    apply(ctx, false);
    try {
      await next();
    } finally {
      if (!ctx.headerSent) apply(ctx, true);
    }
  };
}
