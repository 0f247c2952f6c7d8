import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fixturesDir } from './sharedDir.js';

/** Where the captures of a real ONLYOFFICE DocService 9.3.1 calling a WOPI host live. */
export const DS_CAPTURES = fixturesDir('onlyoffice', 'wopi-from-docservice');

/** Headers a replay must not copy: hop-by-hop, set by fetch itself, or proof headers (checked in a later issue). */
const SKIP = new Set(['host', 'connection', 'content-length', 'accept-encoding', 'x-wopi-proof', 'x-wopi-proofold']);

/** One request DocService sent, as captured. */
export interface DsRequest {
  method: string;
  /** Path after /wopi/files/<id>: '' or '/contents'. */
  suffix: string;
  headers: Record<string, string>;
}

/**
 * Reads the request part of a capture in `wopi-from-docservice/` (request line, headers up to the blank line).
 * @param name file name, e.g. 's7-editor-session-file1-02-LOCK.http'
 */
export function loadDsRequest(name: string): DsRequest {
  const raw = readFileSync(path.join(DS_CAPTURES, name), 'latin1');
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const [requestLine, ...headerLines] = head.split(/\r?\n/);
  const m = /^([A-Z]+) \/wopi\/files\/[^/?]+(\/contents)?\?/.exec(requestLine ?? '');
  if (!m) throw new Error(`${name}: not a WOPI request line: ${requestLine}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    if (!SKIP.has(k.toLowerCase())) headers[k] = line.slice(i + 1).trim();
  }
  return { method: m[1] as string, suffix: m[2] ?? '', headers };
}

/**
 * Sends a captured DocService request to a bridge, for another file id and token, with optional header changes.
 * @param src WOPISrc of the file on the bridge under test
 * @param token access token for it
 */
export function replayDsRequest(
  req: DsRequest,
  src: string,
  token: string,
  options: { headers?: Record<string, string>; body?: Buffer | Uint8Array } = {},
): Promise<Response> {
  const headers = { ...req.headers, ...(options.headers ?? {}) };
  return fetch(`${src}${req.suffix}?access_token=${encodeURIComponent(token)}`, {
    method: req.method,
    headers,
    ...(options.body !== undefined ? { body: options.body } : req.method === 'POST' ? { body: '' } : {}),
  });
}
