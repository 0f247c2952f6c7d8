/**
 * Why a body fetched from `{DocService}/hosting/discovery` could not be used as WOPI discovery.
 * - `not_xml`: empty, plain text or HTML. DocService answers `404 Not Found` (plain text) when `wopi.enable` is
 *   false and `403 Forbidden` when its ipfilter rejects the caller (shared/fixtures/onlyoffice `70`, `74`); a proxy
 *   error page is HTML.
 * - `not_discovery`: well-formed XML whose root is not `<wopi-discovery>`.
 * - `no_apps`: a `<wopi-discovery>` without any `<app>`.
 */
export type DiscoveryErrorCode = 'not_xml' | 'not_discovery' | 'no_apps';

const BRAND = Symbol.for('wopi-bridge.DiscoveryError');

/** A discovery body that cannot be used; `code` is stable (match on it, not on the message). */
export class DiscoveryError extends Error {
  readonly [BRAND] = true;
  /** Stable snake_case reason, see {@link DiscoveryErrorCode}. */
  readonly code: DiscoveryErrorCode;

  /**
   * @param code - stable reason
   * @param message - one line for logs and the admin page; never contains secrets (discovery holds none)
   * @param options - optional `cause` (e.g. the XML parser's error)
   */
  constructor(code: DiscoveryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DiscoveryError';
    this.code = code;
  }
}

/**
 * Brand check that works across module realms, unlike `instanceof` (koa#1466).
 * @param e - anything caught
 * @returns whether `e` is a {@link DiscoveryError}
 */
export function isDiscoveryError(e: unknown): e is DiscoveryError {
  return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}
