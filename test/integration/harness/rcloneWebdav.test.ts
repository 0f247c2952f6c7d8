/**
 * Proves the rclone WebDAV harness works, and pins down how Debian's rclone (1.60.x at the time of
 * writing) behaves on the points our storage adapter depends on. These are recorded facts, not
 * wishes: if an rclone upgrade changes one of them, the matching test fails and the adapter's
 * assumptions must be revisited. See test/helpers/README.md for the summary.
 */
import { execFileSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { startRcloneWebdav } from '../../helpers/rcloneWebdav.js';
import type { RcloneWebdav } from '../../helpers/rcloneWebdav.js';

interface DavResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface DavRequest {
  headers?: Record<string, string>;
  /** Sent with a Content-Length. */
  body?: string;
  /** Sent as separate writes with no Content-Length, i.e. `Transfer-Encoding: chunked`. */
  chunks?: string[];
  /** Overrides the server's credentials (`null` = no Authorization header). */
  auth?: { user: string; pass: string } | null;
}

let server: RcloneWebdav;

/** Minimal WebDAV client on node:http (fresh connection per request, full control over headers). */
function dav(method: string, name: string, req: DavRequest = {}): Promise<DavResponse> {
  const auth = req.auth === undefined ? { user: server.user, pass: server.pass } : req.auth;
  const headers: Record<string, string> = { ...req.headers };
  if (auth !== null) headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}`;
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    const request = http.request(`${server.url}/${name}`, { method, headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }),
      );
      res.on('error', reject);
    });
    request.on('error', reject);
    if (req.body !== undefined) request.end(req.body);
    else if (req.chunks !== undefined) {
      for (const chunk of req.chunks) request.write(chunk);
      request.end();
    } else request.end();
  });
}

/** PROPFIND Depth 0 for one file; returns the raw value of one DAV: property (undefined if absent). */
async function propfindProp(name: string, prop: string): Promise<string | undefined> {
  const res = await dav('PROPFIND', name, { headers: { depth: '0' } });
  expect(res.status).toBe(207);
  const match = new RegExp(`<D:${prop}>([^<]*)</D:${prop}>`).exec(res.body);
  return match?.[1];
}

async function put(name: string, body: string, headers: Record<string, string> = {}): Promise<DavResponse> {
  return dav('PUT', name, { body, headers });
}

/** The ETag rclone 1.60 computes (golang.org/x/net/webdav): hex(mtime in ns) + hex(size), quoted. */
async function expectedEtag(name: string): Promise<string> {
  const st = await stat(path.join(server.dir, name), { bigint: true });
  return `"${st.mtimeNs.toString(16)}${st.size.toString(16)}"`;
}

beforeAll(async () => {
  server = await startRcloneWebdav();
});

afterAll(async () => {
  await server?.stop();
});

describe('rclone webdav harness', () => {
  it('runs Debian rclone 1.60.x (facts below were recorded against it)', () => {
    const version = execFileSync('rclone', ['version', '--config', '/dev/null'], { encoding: 'utf8' });
    // If this fails after an upgrade, re-check every "fact" test below and test/helpers/README.md.
    expect(version).toMatch(/^rclone v1\.60\./);
  });

  it('serves on 127.0.0.1 from a temp dir with the default credentials', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.user).toBe('test');
    expect(server.pass).toBe('secret');
  });

  it('stores a PUT file in the served dir and reads it back with GET', async () => {
    const put1 = await put('hello.txt', 'hello world');
    expect(put1.status).toBe(201);
    expect(await readFile(path.join(server.dir, 'hello.txt'), 'utf8')).toBe('hello world');
    const get = await dav('GET', 'hello.txt');
    expect(get.status).toBe(200);
    expect(get.body).toBe('hello world');
  });

  it('answers 401 with a Basic challenge on a wrong password or no credentials', async () => {
    const wrong = await dav('GET', 'hello.txt', { auth: { user: server.user, pass: 'wrong' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic /);
    const none = await dav('GET', 'hello.txt', { auth: null });
    expect(none.status).toBe(401);
  });

  it('returns getetag in PROPFIND', async () => {
    await put('props.txt', 'props');
    expect(await propfindProp('props.txt', 'getetag')).toBeDefined();
  });

  it('accepts custom dir and credentials, and stop() shuts the server down', async () => {
    const other = await startRcloneWebdav({ dir: server.dir, user: 'alice', pass: 'pw' });
    const res = await new Promise<number>((resolve, reject) => {
      const auth = Buffer.from('alice:pw').toString('base64');
      http
        .get(`${other.url}/hello.txt`, { agent: false, headers: { authorization: `Basic ${auth}` } }, (r) => {
          r.resume();
          r.on('end', () => resolve(r.statusCode ?? 0));
        })
        .on('error', reject);
    });
    expect(res).toBe(200);
    await other.stop();
    await expect(
      new Promise((resolve, reject) => http.get(`${other.url}/`, { agent: false }, resolve).on('error', reject)),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // The dir was ours, not the helper's: it must survive the second server's stop().
    expect(await readFile(path.join(server.dir, 'hello.txt'), 'utf8')).toBe('hello world');
  });
});

describe('facts about Debian rclone 1.60 serve webdav (the storage adapter relies on these)', () => {
  it('FACT: PUT ignores If-Match — a stale If-Match still overwrites (201); no optimistic locking server-side', async () => {
    await put('ifmatch.txt', 'v1');
    const res = await put('ifmatch.txt', 'v2', { 'if-match': '"stale-etag"' });
    expect(res.status).toBe(201);
    expect(await readFile(path.join(server.dir, 'ifmatch.txt'), 'utf8')).toBe('v2');
  });

  it('FACT: PUT also ignores If-None-Match: * — it overwrites an existing file (201)', async () => {
    await put('ifnonematch.txt', 'v1');
    const res = await put('ifnonematch.txt', 'v2', { 'if-none-match': '*' });
    expect(res.status).toBe(201);
    expect(await readFile(path.join(server.dir, 'ifnonematch.txt'), 'utf8')).toBe('v2');
  });

  it('FACT: DELETE ignores If-Match too (204 with a stale one)', async () => {
    await put('delete-me.txt', 'x');
    const res = await dav('DELETE', 'delete-me.txt', { headers: { 'if-match': '"stale-etag"' } });
    expect(res.status).toBe(204);
  });

  it('FACT: GET honours If-Match (412 when stale) and If-None-Match (304 when current)', async () => {
    await put('get-cond.txt', 'content');
    const stale = await dav('GET', 'get-cond.txt', { headers: { 'if-match': '"stale-etag"' } });
    expect(stale.status).toBe(412);
    const current = (await dav('GET', 'get-cond.txt')).headers.etag;
    expect(current).toBeDefined();
    const notModified = await dav('GET', 'get-cond.txt', { headers: { 'if-none-match': current ?? '' } });
    expect(notModified.status).toBe(304);
  });

  it('FACT: ETags are strong and quoted — the same string in PUT response, GET header and PROPFIND getetag', async () => {
    const putRes = await put('etag.txt', 'etag body');
    const getRes = await dav('GET', 'etag.txt');
    const propEtag = await propfindProp('etag.txt', 'getetag');
    expect(putRes.headers.etag).toMatch(/^"[0-9a-f]+"$/);
    expect(getRes.headers.etag).toBe(putRes.headers.etag);
    expect(propEtag).toBe(putRes.headers.etag);
  });

  it('FACT: the ETag is hex(mtime in nanoseconds) + hex(size) — derived from metadata, not a content hash', async () => {
    const res = await put('etag-format.txt', 'twelve bytes');
    expect(res.headers.etag).toBe(await expectedEtag('etag-format.txt'));
  });

  it('FACT: getlastmodified (and GET Last-Modified) is an RFC 1123 date with 1-second precision', async () => {
    await put('mtime.txt', 'mtime');
    const lastModified = await propfindProp('mtime.txt', 'getlastmodified');
    expect(lastModified).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(Date.parse(lastModified ?? '') % 1000).toBe(0);
    const get = await dav('GET', 'mtime.txt');
    expect(get.headers['last-modified']).toBe(lastModified);
  });

  it('FACT: rewriting with the same size within the same second changes the ETag (ns mtime) but not getlastmodified', async () => {
    // Same-size rewrites, back to back: getlastmodified cannot tell them apart (1 s precision),
    // but the ETag can, because it embeds the nanosecond mtime. => version checks must compare
    // ETags, never getlastmodified (nor size). Caveat: this relies on the file system / kernel
    // giving fine-grained mtimes (ext4 on Linux 6.x here: 0 collisions in 200 rapid rewrites).
    const etags: string[] = [];
    const lastModifieds = new Set<string | undefined>();
    for (let i = 0; i < 20; i++) {
      const res = await put('same-size.txt', `version-${i % 10}`);
      expect(res.status).toBe(201);
      etags.push(res.headers.etag ?? '');
      lastModifieds.add(await propfindProp('same-size.txt', 'getlastmodified'));
    }
    expect(new Set(etags).size).toBe(etags.length);
    // 20 writes take far less than 20 s, so several landed within the same second.
    expect(lastModifieds.size).toBeLessThan(etags.length);
  });

  it('FACT: X-OC-Mtime is ignored — the client cannot set the mtime, so it cannot force an ETag', async () => {
    const res = await put('oc-mtime.txt', 'oc', { 'x-oc-mtime': '1700000000' });
    expect(res.status).toBe(201);
    expect(res.headers['x-oc-mtime']).toBeUndefined();
    const st = await stat(path.join(server.dir, 'oc-mtime.txt'));
    expect(Math.abs(st.mtimeMs - Date.now())).toBeLessThan(60_000);
  });

  it('FACT: MOVE with Overwrite: T onto an existing file replaces it (204)', async () => {
    await put('move-src.txt', 'new content');
    await put('move-dst.txt', 'old content');
    const res = await dav('MOVE', 'move-src.txt', {
      headers: { destination: `${server.url}/move-dst.txt`, overwrite: 'T' },
    });
    expect(res.status).toBe(204);
    expect((await dav('GET', 'move-dst.txt')).body).toBe('new content');
    expect((await dav('GET', 'move-src.txt')).status).toBe(404);
  });

  it('FACT: MOVE with Overwrite: F onto an existing file is refused with 412 and changes nothing', async () => {
    await put('move-src2.txt', 'new content');
    await put('move-dst2.txt', 'old content');
    const res = await dav('MOVE', 'move-src2.txt', {
      headers: { destination: `${server.url}/move-dst2.txt`, overwrite: 'F' },
    });
    expect(res.status).toBe(412);
    expect((await dav('GET', 'move-dst2.txt')).body).toBe('old content');
    expect((await dav('GET', 'move-src2.txt')).body).toBe('new content');
  });

  it('FACT: a chunked PUT (no Content-Length) works and stores the whole body', async () => {
    const res = await dav('PUT', 'chunked.txt', { chunks: ['first,', 'second,', 'third'] });
    expect(res.status).toBe(201);
    expect(await readFile(path.join(server.dir, 'chunked.txt'), 'utf8')).toBe('first,second,third');
  });

  it('FACT: PUT into a missing parent collection is 404 (no implicit MKCOL)', async () => {
    const res = await put('no-such-dir/file.txt', 'x');
    expect(res.status).toBe(404);
  });

  it('FACT: changes made in the served dir behind rclone\'s back stay invisible (VFS dir cache, default 5 min)', async () => {
    // Consequence for tests: seed files through WebDAV (or into `dir` before the server starts),
    // never by writing into `dir` of a running server.
    expect((await dav('MKCOL', 'cached')).status).toBe(201);
    await put('cached/known.txt', 'abc');
    const before = await dav('PROPFIND', 'cached', { headers: { depth: '1' } });
    expect(before.status).toBe(207);
    const etagBefore = await propfindProp('cached/known.txt', 'getetag');

    await writeFile(path.join(server.dir, 'cached', 'known.txt'), 'abcdef');
    await writeFile(path.join(server.dir, 'cached', 'sneaky.txt'), 'new');

    expect(await propfindProp('cached/known.txt', 'getetag')).toBe(etagBefore);
    expect(await propfindProp('cached/known.txt', 'getcontentlength')).toBe('3');
    expect((await dav('GET', 'cached/sneaky.txt')).status).toBe(404);
    expect((await dav('PROPFIND', 'cached', { headers: { depth: '1' } })).body).not.toContain('sneaky.txt');
  });
});
