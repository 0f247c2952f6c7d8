/**
 * Same-origin test for state-changing admin requests: a browser names the page that sent a POST in `Origin`
 * (or `Referer`); a request another site's page makes carries that site's origin.
 */
import type { Context } from 'koa';

/**
 * Whether the request's Origin (else Referer) is the bridge's own: the origin of PUBLIC_URL, or the host the
 * request was sent to (either scheme: behind a TLS-terminating proxy the bridge sees plain HTTP). When neither
 * header is present (a non-browser client) the request passes: the CSRF token still has to match.
 * @param ctx the request
 * @param publicUrl the bridge's PUBLIC_URL
 */
export function isSameOriginRequest(ctx: Pick<Context, 'get'>, publicUrl: string): boolean {
  const origin = ctx.get('Origin');
  const referer = ctx.get('Referer');
  const claimed = origin !== '' ? origin : referer;
  if (claimed === '') return true;
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    return false; // includes Origin: null (a sandboxed page, a form sent under no-referrer)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  try {
    if (url.origin === new URL(publicUrl).origin) return true;
  } catch {
    // PUBLIC_URL is validated by loadConfig; nothing to compare with otherwise
  }
  const host = ctx.get('Host').toLowerCase();
  return host !== '' && url.host.toLowerCase() === host;
}
