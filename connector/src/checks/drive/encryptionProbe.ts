/**
 * The encryption probe: download one real file through WebDAV, as the bridge would for DocumentServer, and read
 * what went wrong from the answer. This catches what no setting and no PROPFIND shows:
 *
 * - module missing (`d-`/`d2-` captures, ownCloud seed): Nextcloud answers 503 `Sabre\DAV\Exception\ServiceUnavailable`
 *   "Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist." (or "…: Default encryption module not
 *   loaded" for an unencrypted file); ownCloud answers 403 `Sabre\DAV\Exception\Forbidden` "Encryption not ready:
 *   Module with id: OC_DEFAULT_MODULE does not exist.";
 * - per-user keys on Nextcloud 32 (`b-` captures): a stateless Basic-auth GET of an encrypted file answers 500 with the
 *   file's own headers (Content-Disposition: attachment, Content-Length = plaintext size) and an XML error body cut to
 *   that length (`<?xml version=`).
 */
import { parseMultistatus } from '../../storage/webdav/parseMultistatus.js';
import { parseSabreError } from '../../storage/webdav/toStorageError.js';
import { DriveNetworkError, probeRequest, type ProbeResponse } from './http.js';
import type { DriveSession } from './session.js';

/** Files larger than this are not used as the probe (the probe reads at most PROBE_READ_BYTES anyway). */
export const PROBE_MAX_FILE_BYTES = 1024 * 1024;
const PROBE_READ_BYTES = 64 * 1024;
/** The bridge's own temporary uploads (WebdavStorage TEMP_PREFIX) are never probed. */
const TEMP_PREFIX = '.~wopi-';

const MODULE_MISSING_RE =
  /Encryption not ready|Module with id:?\s*\S+\s+does not exist|Default encryption module not loaded|No default encryption module defined|ModuleDoesNotExistsException/i;
const DECRYPT_FAILED_RE = /DecryptionFailed|Cannot decrypt this file|Can not decrypt this file/i;

/** What one download says about encryption. */
export type DownloadVerdict =
  | { kind: 'ok'; status: number; bytes: number }
  /** A 2xx whose body stopped before its end (connection cut, or nothing more within the time limit). */
  | { kind: 'incomplete'; status: number; bytes: number; contentLength: number | null }
  /** The encryption module is not loaded: 503 (Nextcloud) / 403 (ownCloud GET) / 500 (overwrite) "Encryption not ready". */
  | { kind: 'module_missing'; status: number; exception: string | null; message: string | null }
  /** Nextcloud's per-user-key failure: 500 with the file's headers and a cut-off XML body. */
  | { kind: 'per_user_keys'; status: number; contentLength: number | null; bodyBytes: number; exception: string | null; message: string | null }
  | { kind: 'unauthorized'; status: number }
  | { kind: 'not_found'; status: number }
  | { kind: 'error'; status: number; exception: string | null; message: string | null };

/** The parts of an answer the verdict reads (a ProbeResponse, or a parsed capture in the unit tests). */
export interface DownloadAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** false when the body was shorter than announced or cut by the reader. */
  bodyComplete: boolean;
}

function header(a: DownloadAnswer, name: string): string | undefined {
  const v = a.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads an answer to a GET of a file. Pure. */
export function classifyDownload(a: DownloadAnswer): DownloadVerdict {
  const status = a.status;
  if (status >= 200 && status < 300) {
    if (a.bodyComplete) return { kind: 'ok', status, bytes: a.body.length };
    const cl = header(a, 'content-length');
    return { kind: 'incomplete', status, bytes: a.body.length, contentLength: cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : null };
  }
  const text = a.body.toString('utf8');
  const sabre = parseSabreError(text);
  const exception = sabre?.exception ?? null;
  const message = sabre?.message ?? null;
  if (MODULE_MISSING_RE.test(`${exception ?? ''} ${message ?? ''}`)) return { kind: 'module_missing', status, exception, message };
  if (status === 500) {
    const ct = header(a, 'content-type') ?? '';
    const cl = header(a, 'content-length');
    const contentLength = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : null;
    const fileHeaders = /attachment/i.test(header(a, 'content-disposition') ?? '');
    const cutXml = /xml/i.test(ct) && /^\s*<\?xml/.test(text) && sabre === null;
    if (DECRYPT_FAILED_RE.test(`${exception ?? ''} ${message ?? ''}`) || fileHeaders || cutXml) {
      return { kind: 'per_user_keys', status, contentLength, bodyBytes: a.body.length, exception, message };
    }
  }
  if (status === 401) return { kind: 'unauthorized', status };
  if (status === 404) return { kind: 'not_found', status };
  return { kind: 'error', status, exception, message };
}

/** The outcome of the whole probe (finding a file, then downloading it). */
export type ProbeFinding =
  | { kind: 'downloaded'; path: string; url: string; verdict: DownloadVerdict }
  | { kind: 'no_file'; searched: string[] }
  | { kind: 'list_failed'; status: number; text: string }
  | { kind: 'unauthorized'; stage: 'list' | 'get' }
  | { kind: 'network'; stage: 'list' | 'get'; path: string | null; error: DriveNetworkError };

const PROPFIND_DEPTH1_BODY = `<?xml version="1.0" encoding="UTF-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:prop><d:getcontentlength/><d:resourcetype/><oc:size/></d:prop>
</d:propfind>`;

interface Listed {
  /** Path below the drive root, decoded, e.g. `/Docs/a.docx`. */
  path: string;
  /** Absolute URL to request (from the href as the server wrote it). */
  url: string;
  isFolder: boolean;
  size: number | null;
}

function decodePath(p: string): string {
  return p
    .split('/')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    })
    .join('/');
}

async function list(session: DriveSession, folderUrl: string): Promise<{ entries: Listed[] } | { status: number; text: string } | DriveNetworkError> {
  let res: ProbeResponse;
  try {
    res = await probeRequest(folderUrl, {
      ...session.requestOptions(),
      method: 'PROPFIND',
      credentials: session.credentials,
      headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' },
      body: PROPFIND_DEPTH1_BODY,
      maxBodyBytes: 2 * 1024 * 1024,
    });
  } catch (e) {
    if (e instanceof DriveNetworkError) return e;
    throw e;
  }
  if (res.status !== 207) return { status: res.status, text: `HTTP ${res.status} ${res.reason}`.trim() };
  let parsed;
  try {
    parsed = await parseMultistatus(res.body.toString('utf8'));
  } catch {
    return { status: res.status, text: 'not a valid multistatus body' };
  }
  const base = new URL(folderUrl);
  const rootPath = decodePath(new URL(session.rootUrl()).pathname).replace(/\/+$/, '');
  const selfPath = decodePath(base.pathname).replace(/\/+$/, '');
  const entries: Listed[] = [];
  for (const e of parsed) {
    const abs = new URL(e.href, base);
    const decoded = decodePath(abs.pathname).replace(/\/+$/, '');
    if (decoded === selfPath) continue;
    if (!decoded.startsWith(`${rootPath}/`)) continue;
    const sizeRaw = e.props.getcontentlength ?? e.props.size;
    const size = typeof sizeRaw === 'string' && /^\d+$/.test(sizeRaw) ? Number(sizeRaw) : null;
    entries.push({ path: decoded.slice(rootPath.length), url: abs.toString(), isFolder: e.props.collection === true, size });
  }
  return { entries };
}

function pickFile(entries: Listed[]): Listed | undefined {
  return entries.find((e) => !e.isFolder && e.size !== null && e.size <= PROBE_MAX_FILE_BYTES && !(e.path.split('/').pop() ?? '').startsWith(TEMP_PREFIX));
}

/** The URL of a path below the drive root (each segment percent-encoded). */
function urlOfPath(session: DriveSession, p: string): string {
  const rel = p.replace(/^\/+/, '');
  return session.rootUrl() + rel.split('/').map(encodeURIComponent).join('/');
}

/**
 * Finds the probe file (the given path, else the first file of at most 1 MiB in the root, else in up to three of
 * its folders) and downloads it with the drive credentials, no cookies kept — exactly how the bridge reads files.
 */
export async function runEncryptionProbe(session: DriveSession, probePath: string | null): Promise<ProbeFinding> {
  let target: { path: string; url: string };
  if (probePath !== null && probePath.trim() !== '') {
    const p = `/${probePath.trim().replace(/^\/+/, '')}`;
    target = { path: p, url: urlOfPath(session, p) };
  } else {
    const rootList = await list(session, session.rootUrl());
    if (rootList instanceof DriveNetworkError) return { kind: 'network', stage: 'list', path: null, error: rootList };
    if (!('entries' in rootList)) {
      if (rootList.status === 401) return { kind: 'unauthorized', stage: 'list' };
      return { kind: 'list_failed', status: rootList.status, text: rootList.text };
    }
    let found = pickFile(rootList.entries);
    const searched = ['/'];
    if (!found) {
      const folders = rootList.entries.filter((e) => e.isFolder).slice(0, 3);
      const lists = await Promise.all(folders.map((f) => list(session, f.url.replace(/\/*$/, '/'))));
      for (let i = 0; i < lists.length && !found; i++) {
        const l = lists[i];
        searched.push(folders[i]?.path ?? '');
        if (l && !(l instanceof DriveNetworkError) && 'entries' in l) found = pickFile(l.entries);
      }
    }
    if (!found) return { kind: 'no_file', searched };
    target = { path: found.path, url: found.url };
  }
  let res: ProbeResponse;
  try {
    res = await probeRequest(target.url, { ...session.requestOptions(), method: 'GET', credentials: session.credentials, maxBodyBytes: PROBE_READ_BYTES });
  } catch (e) {
    if (e instanceof DriveNetworkError) return { kind: 'network', stage: 'get', path: target.path, error: e };
    throw e;
  }
  // A body cut by our own read limit is not the server's doing.
  const complete = res.bodyComplete || res.body.length >= PROBE_READ_BYTES;
  const verdict = classifyDownload({ status: res.status, headers: res.headers, body: res.body, bodyComplete: complete });
  if (verdict.kind === 'unauthorized') return { kind: 'unauthorized', stage: 'get' };
  return { kind: 'downloaded', path: target.path, url: target.url, verdict };
}
