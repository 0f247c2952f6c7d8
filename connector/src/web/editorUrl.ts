/**
 * The URL the host page posts its form to: a discovery `urlsrc` expanded (wopisrc, ui, rs) and moved from the
 * address the bridge reaches DocumentServer at to the one browsers reach it at (reference §1.1: DS builds the
 * discovery URLs from the request it answered, i.e. from DOCS_INTERNAL_URL).
 */
import { expandUrlsrc } from '../discovery/expandUrlsrc.js';

/** Language used when the browser names none we can use. */
export const DEFAULT_LANGUAGE = 'en-US';

const TAG = /^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8}){0,2}$/;

/**
 * The browser's preferred language as an `ll-CC`-style tag for DS's `ui` and `rs` placeholders.
 * @param header Accept-Language (may be absent or garbage)
 * @returns the tag with the highest q that looks like a language tag; DEFAULT_LANGUAGE otherwise
 */
export function languageOf(header: string | undefined): string {
  if (!header) return DEFAULT_LANGUAGE;
  let best: { tag: string; q: number } | null = null;
  for (const part of header.slice(0, 512).split(',')) {
    const [rawTag = '', ...params] = part.trim().split(';');
    const tag = rawTag.trim();
    if (!TAG.test(tag)) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (q > 0 && (best === null || q > best.q)) best = { tag, q };
  }
  return best?.tag ?? DEFAULT_LANGUAGE;
}

/**
 * Replaces the internal-URL prefix of an action URL by the public one (origin and path prefix), when they differ.
 * @param url expanded action URL
 * @param internalUrl DOCS_INTERNAL_URL (no trailing slash)
 * @param publicUrl DOCS_PUBLIC_URL (no trailing slash)
 * @returns the URL browsers can reach; unchanged when it does not start with the internal URL
 */
export function toPublicDocsUrl(url: string, internalUrl: string | null, publicUrl: string | null): string {
  if (internalUrl === null || publicUrl === null) return url;
  const from = internalUrl.replace(/\/+$/, '');
  const to = publicUrl.replace(/\/+$/, '');
  if (from === to) return url;
  const sameStart = url.toLowerCase().startsWith(from.toLowerCase());
  const boundary = url.charAt(from.length);
  if (!sameStart || !(boundary === '' || boundary === '/' || boundary === '?')) return url;
  return to + url.slice(from.length);
}

/**
 * The editor URL for a file.
 * @param urlsrc the chosen action's discovery template
 * @param opts the bridge's PUBLIC_URL, the file id, the language, DS's internal and public URLs
 */
export function editorUrl(
  urlsrc: string,
  opts: { publicUrl: string; fileId: string; language: string; docsInternalUrl: string | null; docsPublicUrl: string | null },
): string {
  const wopisrc = `${opts.publicUrl}/wopi/files/${encodeURIComponent(opts.fileId)}`;
  const expanded = expandUrlsrc(urlsrc, { wopisrc, ui: opts.language, rs: opts.language });
  return toPublicDocsUrl(expanded, opts.docsInternalUrl, opts.docsPublicUrl);
}
