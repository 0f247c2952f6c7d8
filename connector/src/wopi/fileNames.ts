import iconv from 'iconv-lite';
import { BadRequestError } from '../errors/errors.js';
import { TEMP_PREFIX } from '../storage/webdav/WebdavStorage.js';
import { toHeaderValue } from './wopiHeaders.js';
import { splitExtension } from '../storage/StorageAdapter.js';

/** Half of a UTF-16 surrogate pair standing alone (UTF-7 can decode to one): no URL or file system can hold it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Longest file name in UTF-8 bytes that drives accept (Nextcloud, ext4: 255; a margin for conflict suffixes). */
export const MAX_NAME_BYTES = 250;

/**
 * Decodes a UTF-7 header (X-WOPI-SuggestedTarget, X-WOPI-RelativeTarget, X-WOPI-RequestedName; RFC 2152) with
 * iconv-lite, a maintained decoder, rather than a hand-written one.
 * @throws BadRequestError when the value is not 7-bit
 */
export function decodeUtf7(value: string): string {
  if (/[^\x20-\x7e]/.test(value)) throw new BadRequestError('Name headers must be UTF-7 encoded', 'bad_name_encoding');
  return iconv.decode(Buffer.from(value, 'ascii'), 'utf-7');
}

/** Encodes a name as UTF-7 for a response header (X-WOPI-ValidRelativeTarget). */
export function encodeUtf7(value: string): string {
  return toHeaderValue(iconv.encode(value, 'utf-7').toString('ascii'));
}

/**
 * Why a file name cannot be used on the drive, or null when it can: empty, '.', '..', path separators, control
 * characters, longer than 250 UTF-8 bytes, Nextcloud's reserved `.part` suffix, or the bridge's own temp prefix.
 */
export function fileNameProblem(name: string): string | null {
  if (name.trim() === '') return 'The name is empty';
  if (name === '.' || name === '..') return 'The name is reserved';
  if (/[/\\]/.test(name)) return 'The name contains a slash';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'The name contains control characters';
  if (new RegExp(LONE_SURROGATE.source).test(name)) return 'The name is not valid Unicode';
  if (name !== name.trim()) return 'The name starts or ends with a space';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `The name is longer than ${MAX_NAME_BYTES} bytes`;
  if (/\.part$/i.test(name)) return 'Names ending in .part are reserved by the drive';
  if (name.startsWith(TEMP_PREFIX)) return 'The name is reserved';
  return null;
}

/** Makes a usable name out of a suggestion (suggested mode must never fail): bad characters become '_'. */
export function sanitizeFileName(name: string, fallback: string): string {
  let clean = name.replace(LONE_SURROGATE, '_').replace(/[/\\\u0000-\u001f\u007f]/g, '_').trim();
  if (clean.startsWith(TEMP_PREFIX)) clean = clean.slice(TEMP_PREFIX.length);
  clean = clean.replace(/\.part$/i, '_part');
  if (clean === '' || clean === '.' || clean === '..') clean = fallback;
  const [base, ext] = splitExtension(clean);
  const keptExt = truncateUtf8(ext, 20);
  return `${truncateUtf8(base, MAX_NAME_BYTES - Buffer.byteLength(keptExt))}${keptExt}`;
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    out += ch;
  }
  return out;
}

