/**
 * The requests the bench measures, each defined once: the WOPI operations DocService sends to the bridge, and the
 * direct WebDAV requests they are compared with (the same file on the same server, bypassing the bridge).
 * `test/integration/bench/benchPaths.test.ts` checks these very functions for correct bytes and statuses.
 *
 * @module
 */
import type { Readable } from 'node:stream';
import { BenchHttp, encodePath, type Collect, type HttpResult } from './httpClient.js';

/** A file opened through the bridge: its WOPI id and an access token, as DS gets them. */
export interface WopiFile {
  /** Path on the drive. */
  path: string;
  fileId: string;
  token: string;
}

/** The PROPFIND body WebdavStorage sends (connector/src/storage/webdav/WebdavStorage.ts PROPFIND_BODY). */
export const PROPFIND_BODY = `<?xml version="1.0" encoding="UTF-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:prop><d:getetag/><d:getcontentlength/><d:getlastmodified/><d:resourcetype/><oc:fileid/><oc:permissions/><oc:size/></d:prop>
</d:propfind>`;

/** WOPI requests to a bridge, shaped as DocService sends them. */
export class WopiClient {
  constructor(readonly http: BenchHttp) {}

  private url(f: WopiFile, suffix = ''): string {
    return `/wopi/files/${f.fileId}${suffix}?access_token=${encodeURIComponent(f.token)}`;
  }

  /** CheckFileInfo (GET /wopi/files/<id>); the JSON body is kept. */
  checkFileInfo(f: WopiFile): Promise<HttpResult> {
    return this.http.send({ method: 'GET', path: this.url(f), collect: 'buffer' });
  }

  /**
   * GetFile (GET /wopi/files/<id>/contents).
   * @param maxExpectedSize X-WOPI-MaxExpectedSize; without it the bridge allows 2^31 - 1 bytes (MS-WOPI), so files
   *   of 2 GiB and more need it, as DS sends it
   */
  getFile(f: WopiFile, collect: Collect = 'count', maxExpectedSize?: number): Promise<HttpResult> {
    const headers: Record<string, string> = maxExpectedSize !== undefined ? { 'X-WOPI-MaxExpectedSize': String(maxExpectedSize) } : {};
    return this.http.send({ method: 'GET', path: this.url(f, '/contents'), headers, collect, timeoutMs: 120_000 });
  }

  /**
   * PutFile (POST /wopi/files/<id>/contents, X-WOPI-Override: PUT) with a Content-Length, as DS sends it.
   * @param body the new content
   * @param length its length in bytes
   * @param lockId X-WOPI-Lock
   */
  putFile(f: WopiFile, body: Buffer | Readable, length: number, lockId: string): Promise<HttpResult> {
    return this.http.send({
      method: 'POST',
      path: this.url(f, '/contents'),
      headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lockId, 'Content-Length': String(length), 'Content-Type': 'application/octet-stream' },
      body,
      collect: 'buffer',
      timeoutMs: 120_000,
    });
  }

  private override(f: WopiFile, override: string, lockId: string): Promise<HttpResult> {
    return this.http.send({ method: 'POST', path: this.url(f), headers: { 'X-WOPI-Override': override, 'X-WOPI-Lock': lockId, 'Content-Length': '0' }, collect: 'buffer' });
  }

  /** Lock (X-WOPI-Override: LOCK). */
  lock(f: WopiFile, lockId: string): Promise<HttpResult> {
    return this.override(f, 'LOCK', lockId);
  }

  /** RefreshLock (X-WOPI-Override: REFRESH_LOCK). */
  refreshLock(f: WopiFile, lockId: string): Promise<HttpResult> {
    return this.override(f, 'REFRESH_LOCK', lockId);
  }

  /** Unlock (X-WOPI-Override: UNLOCK). */
  unlock(f: WopiFile, lockId: string): Promise<HttpResult> {
    return this.override(f, 'UNLOCK', lockId);
  }

  /** GET /healthz: the cheapest request the bridge answers (the HTTP stack alone). */
  health(): Promise<HttpResult> {
    return this.http.send({ method: 'GET', path: '/healthz', collect: 'count' });
  }
}

/** Direct WebDAV requests to a drive (basic auth), bypassing the bridge. */
export class DavClient {
  private readonly prefix: string;

  /**
   * @param http a client for the drive's origin
   * @param basePath the drive root's path on that origin ('' for a server serving its root)
   * @param authorization the Authorization header value
   */
  constructor(
    readonly http: BenchHttp,
    basePath: string,
    private readonly authorization: string,
  ) {
    this.prefix = basePath.replace(/\/+$/, '');
  }

  private url(p: string): string {
    return this.prefix + encodePath(p);
  }

  /** GET of a file. */
  get(p: string, collect: Collect = 'count'): Promise<HttpResult> {
    return this.http.send({ method: 'GET', path: this.url(p), headers: { Authorization: this.authorization }, collect, timeoutMs: 120_000 });
  }

  /** PUT of a file with a Content-Length. */
  put(p: string, body: Buffer | Readable, length: number): Promise<HttpResult> {
    return this.http.send({
      method: 'PUT',
      path: this.url(p),
      headers: { Authorization: this.authorization, 'Content-Length': String(length), 'Content-Type': 'application/octet-stream' },
      body,
      collect: 'count',
      timeoutMs: 120_000,
    });
  }

  /** The PROPFIND (Depth 0, same properties) that CheckFileInfo makes the bridge send for a file; body kept. */
  propfind(p: string): Promise<HttpResult> {
    return this.http.send({
      method: 'PROPFIND',
      path: this.url(p),
      headers: { Authorization: this.authorization, Depth: '0', 'Content-Type': 'application/xml; charset=utf-8', 'Content-Length': String(Buffer.byteLength(PROPFIND_BODY)) },
      body: PROPFIND_BODY,
      collect: 'buffer',
    });
  }

  /** DELETE of a file (cleanup). */
  delete(p: string): Promise<HttpResult> {
    return this.http.send({ method: 'DELETE', path: this.url(p), headers: { Authorization: this.authorization } });
  }
}

/** Whether a status is 2xx. */
export function ok(r: HttpResult): boolean {
  return r.status >= 200 && r.status < 300;
}

/**
 * Throws unless the response is 2xx (setup steps; measured steps count errors instead).
 * @param what what the request was, for the message
 */
export function expectOk(r: HttpResult, what: string): HttpResult {
  if (!ok(r)) throw new Error(`${what}: HTTP ${r.status}${r.body ? ` ${r.body.toString('utf8').slice(0, 300)}` : ''}`);
  return r;
}
