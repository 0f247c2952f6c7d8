/**
 * Validation of what the pages take from URLs and forms: folder paths (`?path=`), new file names and the `next`
 * address after sign-in. Pure.
 */

/** Longest folder path accepted from a URL. */
export const MAX_PATH_LENGTH = 2048;
/** Longest file name accepted (most drives allow 255 bytes). */
export const MAX_NAME_LENGTH = 200;

/**
 * A folder path from the query, normalised ('/a//b/' → '/a/b').
 * @param value the raw `path` query value (absent → '/')
 * @returns the path, or null when it is not a usable path: not a string, relative, `.`/`..` segments, NUL or other
 *   control characters, backslashes, too long
 */
export function parseFolderPath(value: unknown): string | null {
  if (value === undefined || value === '') return '/';
  if (typeof value !== 'string' || value.length > MAX_PATH_LENGTH || !value.startsWith('/')) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return null;
  const segments = value.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return null;
  return `/${segments.join('/')}`;
}

/**
 * A file name a person typed (new document, rename).
 * @returns the trimmed name, or null when it cannot be a file name: empty, `.`/`..`, a slash, backslash or control
 *   character, leading dot, too long
 */
export function parseFileName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const name = value.trim();
  if (name === '' || name.length > MAX_NAME_LENGTH || name === '.' || name === '..' || name.startsWith('.')) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/\\]/.test(name)) return null;
  return name;
}

/**
 * Where to go after signing in: a local path only (never another site).
 * @returns the path (with its query), or '/' for anything else: absent, absolute or protocol-relative URLs,
 *   backslashes, control characters, too long
 */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_PATH_LENGTH || !value.startsWith('/')) return '/';
  if (value.startsWith('//') || value.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  try {
    const u = new URL(value, 'http://bridge.invalid');
    if (u.origin !== 'http://bridge.invalid') return '/';
    return `${u.pathname}${u.search}`;
  } catch {
    return '/';
  }
}
