/** URL helpers of the checks: endpoints under a DS base URL, and URLs safe to show (no credentials, no query). */

/**
 * Parses a configured base URL.
 * @param raw - e.g. `http://documentserver`, `https://example.com/ds/`
 * @returns the URL when it is http(s), else null
 */
export function parseHttpUrl(raw: string | null | undefined): URL | null {
  if (raw === null || raw === undefined || raw.trim() === '') return null;
  try {
    const u = new URL(raw.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null;
  } catch {
    return null;
  }
}

/**
 * A DS endpoint under a base URL that may carry a sub-path: `endpoint('https://h/ds/', '/healthcheck')` is
 * `https://h/ds/healthcheck`. Query and fragment of the base are dropped.
 * @param base - DS base URL (http or https)
 * @param path - absolute path of the endpoint
 */
export function endpoint(base: string, path: string): string {
  const u = new URL(base);
  u.search = '';
  u.hash = '';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return u.toString();
}

/**
 * A URL as it may appear in a result: without `user:password@`, query or fragment, without trailing slash.
 * @param raw - any URL (an unparsable one is returned cut at the first `?` and without credentials)
 */
export function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return (raw.split('?')[0] ?? '').replace(/(\w+:\/\/)[^/@\s]*@/, '$1');
  }
}
