/**
 * Security headers of the pages, cookies, and the same-origin + CSRF test for their form POSTs.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { isSameOriginRequest } from '../admin/requestOrigin.js';
import { originOf } from '../admin/adminSecurityHeaders.js';

/** A fresh CSP nonce (one per response that has an inline script). */
export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

/**
 * The pages' Content-Security-Policy: everything from the bridge; the editor frame (and the form that opens it)
 * from DocumentServer's public origin; inline script only with the response's nonce; never framed by others.
 * @param opts the nonce of an inline script; DS's public URL (config.docs.publicUrl)
 */
export function webContentSecurityPolicy(opts: { nonce?: string; docsPublicUrl: string | null }): string {
  const ds = originOf(opts.docsPublicUrl);
  return [
    "default-src 'self'",
    `script-src 'self'${opts.nonce ? ` 'nonce-${opts.nonce}'` : ''}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "style-src 'self'",
    `frame-src ${ds ?? "'none'"}`,
    `form-action 'self'${ds ? ` ${ds}` : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * Sets the pages' headers on a response: CSP, no framing, nosniff, no referrer, not cached.
 * @param nonce nonce of the response's inline script, if it has one
 */
export function setWebSecurityHeaders(ctx: Context, docsPublicUrl: string | null, nonce?: string): void {
  ctx.set('Content-Security-Policy', webContentSecurityPolicy({ docsPublicUrl, ...(nonce ? { nonce } : {}) }));
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
}

/** Attributes of a cookie the pages set. */
export interface CookieOptions {
  /** Lifetime in seconds; 0 deletes the cookie. */
  maxAgeSeconds: number;
  /** Secure attribute: set when PUBLIC_URL is https. */
  secure: boolean;
  path?: string;
  sameSite?: 'Lax' | 'Strict';
}

/**
 * A Set-Cookie value: always HttpOnly. Written by hand because koa's cookies refuse `secure` on a plain
 * connection, which is what the bridge sees behind a TLS-terminating proxy.
 */
export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  if (!/^[A-Za-z0-9._~+/=-]*$/.test(value)) throw new TypeError('cookie value with characters that need encoding');
  const parts = [`${name}=${value}`, `Path=${o.path ?? '/'}`, `Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`, 'HttpOnly', `SameSite=${o.sameSite ?? 'Lax'}`];
  if (o.maxAgeSeconds <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Appends a Set-Cookie header. */
export function setCookie(ctx: Context, name: string, value: string, o: CookieOptions): void {
  ctx.append('Set-Cookie', serializeCookie(name, value, o));
}

/** A cookie's value from the request, or undefined. */
export function readCookie(ctx: Context, name: string): string | undefined {
  const header = ctx.get('Cookie');
  if (header === '') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v === '' ? undefined : v.slice(0, 4096);
    }
  }
  return undefined;
}

/** Whether two strings are equal, in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Whether a request comes from the bridge's own pages. Browsers that send `Sec-Fetch-Site` (a header pages cannot
 * set) are judged by it: the pages' `Referrer-Policy: no-referrer` makes Chromium send `Origin: null` with their
 * own form POSTs (Fetch spec, "serializing a request origin"). Others by Origin/Referer.
 */
export function isOwnPageRequest(ctx: Context, publicUrl: string): boolean {
  const site = ctx.get('Sec-Fetch-Site');
  if (site !== '') return site === 'same-origin';
  return isSameOriginRequest(ctx, publicUrl);
}

/**
 * Whether a state-changing request may proceed: sent from the bridge's own pages and, when a session's token is
 * given, carrying it in the `csrf` form field.
 * @param expectedToken the session's csrfToken; null for requests made before a session exists (sign-in)
 */
export function isTrustedPost(ctx: Context, publicUrl: string, form: Record<string, string>, expectedToken: string | null): boolean {
  if (!isOwnPageRequest(ctx, publicUrl)) return false;
  if (expectedToken === null) return true;
  const given = form.csrf;
  return typeof given === 'string' && given !== '' && safeEqual(given, expectedToken);
}
