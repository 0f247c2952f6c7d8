/**
 * Proves the Nextcloud test double answers like the real Nextcloud 32 captures in ../shared/fixtures/nextcloud/:
 * each test replays the captured request (same method, path, headers and body; only the host, the Destination
 * origin and etag values that cannot be the same are adapted) against a double prepared to the captured state, and
 * compares status line, headers and body with the capture.
 */
import http from 'node:http';
import xml2js from 'xml2js';
import { createClient } from 'webdav';
import type { FileStat, ResponseDataDetailed } from 'webdav';
import { startNextcloudDouble } from '../helpers/nextcloudDouble.js';
import type { NextcloudDouble } from '../helpers/nextcloudDouble.js';
import { headerValue, readHttpFixture } from '../helpers/readHttpFixture.js';
import type { FixtureResponse, HeaderList, HttpFixture } from '../helpers/readHttpFixture.js';

const CAPTURE_ORIGIN = 'http://127.0.0.1:8081';
const ALICE_PASS = 'alice-pass-123';

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers

interface Reply {
  status: number;
  reason: string;
  headers: HeaderList;
  body: Buffer;
}

interface SendOptions {
  method: string;
  target: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

function pairs(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return out;
}

/** Starts a request and resolves once the response head has arrived (body still streaming). */
function startRequest(
  nc: NextcloudDouble,
  opts: SendOptions,
): Promise<{ res: http.IncomingMessage; body: () => Promise<Buffer> }> {
  return new Promise((resolve, reject) => {
    const url = new URL(nc.origin);
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (body !== undefined) {
      for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-length') delete headers[k];
      headers['Content-Length'] = String(body.length);
    }
    const req = http.request(
      { host: url.hostname, port: url.port, method: opts.method, path: opts.target, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        const done = new Promise<Buffer>((ok, fail) => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => ok(Buffer.concat(chunks)));
          res.on('error', fail);
        });
        resolve({ res, body: () => done });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function send(nc: NextcloudDouble, opts: SendOptions): Promise<Reply> {
  const { res, body } = await startRequest(nc, opts);
  return { status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: pairs(res.rawHeaders), body: await body() };
}

interface ReplayOptions {
  target?: string;
  /** Header overrides; `null` removes the captured header. */
  headers?: Record<string, string | null>;
  body?: Buffer | string;
}

/** Sends the captured request to the double (Host dropped, Destination re-pointed at the double). */
function replay(nc: NextcloudDouble, fx: HttpFixture, opts: ReplayOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  for (const [k, v] of fx.request.headers) {
    if (k.toLowerCase() === 'host') continue;
    headers[k] = k.toLowerCase() === 'destination' ? v.replace(CAPTURE_ORIGIN, nc.origin) : v;
  }
  for (const [k, v] of Object.entries(opts.headers ?? {})) {
    for (const existing of Object.keys(headers)) if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
    if (v !== null) headers[k] = v;
  }
  const body = opts.body ?? (fx.request.body.length > 0 ? fx.request.body : undefined);
  return send(nc, { method: fx.request.method, target: opts.target ?? fx.request.target, headers, ...(body !== undefined ? { body } : {}) });
}

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

const aliceAuth = { Authorization: basic('alice', ALICE_PASS) };

function hdr(reply: Reply, name: string): string | undefined {
  return headerValue(reply.headers, name);
}

/** Replaces hex digits so random etags / ids of the same form compare equal. */
function hexShape(v: string): string {
  return v.replace(/[0-9a-f]/g, 'h');
}

function isHttpDate(v: string | undefined): boolean {
  return v !== undefined && new Date(v).toUTCString() === v;
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison helpers

/** Same status line; the captured headers appear in the same order; values equal (or of the same form if dynamic). */
function expectHeadLike(actual: Reply, expected: FixtureResponse): void {
  expect(`${actual.status} ${actual.reason}`).toBe(`${expected.status} ${expected.reason}`);
  const expectedNames = expected.headers.map(([k]) => k.toLowerCase());
  const actualNames = actual.headers.map(([k]) => k.toLowerCase()).filter((k) => expectedNames.includes(k));
  expect(actualNames).toEqual(expectedNames);
  for (const [k, v] of expected.headers) {
    const a = headerValue(actual.headers, k) ?? '';
    switch (k.toLowerCase()) {
      case 'etag':
      case 'oc-etag':
      case 'oc-fileid':
        expect(`${k}: ${hexShape(a)}`).toBe(`${k}: ${hexShape(v)}`);
        break;
      case 'last-modified':
        expect(isHttpDate(a)).toBe(true);
        break;
      default:
        expect(`${k}: ${a}`).toBe(`${k}: ${v}`);
    }
  }
}

interface SabreError {
  exception: string;
  message: string;
  header: string | undefined;
}

async function parseSabreError(body: Buffer): Promise<SabreError> {
  const doc = (await xml2js.parseStringPromise(body.toString('utf8'))) as Record<string, Record<string, unknown>>;
  const err = doc['d:error'];
  if (!err) throw new Error(`not a d:error body: ${body.toString('utf8')}`);
  const first = (key: string): string | undefined => {
    const v = err[key];
    return Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined;
  };
  return { exception: first('s:exception') ?? '', message: first('s:message') ?? '', header: first('s:header') };
}

/** Status line, headers and Sabre error body (exception, message, header element, then byte-for-byte). */
async function expectErrorLike(actual: Reply, fx: HttpFixture): Promise<void> {
  expectHeadLike(actual, fx.response);
  expect(await parseSabreError(actual.body)).toEqual(await parseSabreError(fx.response.body));
  expect(actual.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
}

interface PropstatShape {
  status: string;
  props: string[];
}
interface ResponseShape {
  href: string;
  propstats: PropstatShape[];
  values: Record<string, string>;
}

interface RawEl {
  '#name'?: string;
  _?: string;
  $$?: RawEl[];
}

async function parseMultistatus(body: Buffer): Promise<ResponseShape[]> {
  const doc = (await xml2js.parseStringPromise(body.toString('utf8'), {
    explicitChildren: true,
    preserveChildrenOrder: true,
  })) as Record<string, RawEl>;
  const root = doc['d:multistatus'];
  if (!root) throw new Error(`not a multistatus: ${body.toString('utf8')}`);
  const kids = (el: RawEl | undefined, name: string): RawEl[] => (el?.$$ ?? []).filter((c) => c['#name'] === name);
  return kids(root, 'd:response').map((r) => {
    const values: Record<string, string> = {};
    const propstats = kids(r, 'd:propstat').map((ps) => {
      const status = kids(ps, 'd:status')[0]?._ ?? '';
      const props = (kids(ps, 'd:prop')[0]?.$$ ?? []).map((p) => {
        const name = p['#name'] ?? '';
        if (status.includes(' 200 ')) {
          values[name] = p.$$ ? p.$$.map((c) => `${c['#name'] ?? ''}=${c._ ?? ''}`).join(',') : (p._ ?? '');
        }
        return name;
      });
      return { status, props };
    });
    return { href: kids(r, 'd:href')[0]?._ ?? '', propstats, values };
  });
}

/** Props whose values differ between servers by nature; compared by form only. */
function expectValueLike(prop: string, actual: string | undefined, expected: string): void {
  const label = `${prop}: `;
  switch (prop) {
    case 'd:getetag':
      expect(label + hexShape(actual ?? '')).toBe(label + hexShape(expected));
      break;
    case 'd:getlastmodified':
      expect(isHttpDate(actual)).toBe(true);
      break;
    case 'oc:fileid':
    case 'nc:upload_time':
      expect(label + (actual ?? '')).toMatch(/^[a-z:_-]+: \d+$/);
      break;
    case 'oc:id':
      expect(label + (actual ?? '').slice(8)).toBe(label + expected.slice(8));
      expect(actual).toMatch(/^\d{8}/);
      break;
    default:
      expect(label + (actual ?? '<missing>')).toBe(label + expected);
  }
}

/** Same responses (hrefs, order), same propstats (status + prop names in order), values alike. */
async function expectMultistatusLike(actual: Reply, fx: HttpFixture, exact: string[] = []): Promise<ResponseShape[]> {
  expectHeadLike(actual, fx.response);
  const got = await parseMultistatus(actual.body);
  const want = await parseMultistatus(fx.response.body);
  expect(got.map((r) => ({ href: r.href, propstats: r.propstats }))).toEqual(
    want.map((r) => ({ href: r.href, propstats: r.propstats })),
  );
  want.forEach((w, i) => {
    for (const [prop, value] of Object.entries(w.values)) {
      if (exact.includes(prop)) expect(`${prop}: ${got[i]?.values[prop]}`).toBe(`${prop}: ${value}`);
      else expectValueLike(prop, got[i]?.values[prop], value);
    }
  });
  return got;
}

function numericId(ocFileId: string | undefined): string {
  return String(Number((ocFileId ?? '').slice(0, 8)));
}

// ---------------------------------------------------------------------------------------------------------------

let nc: NextcloudDouble;

beforeEach(async () => {
  nc = await startNextcloudDouble();
});

afterEach(async () => {
  await nc.close();
});

describe('status.php and authentication', () => {
  test('GET /status.php answers like a-status-php', async () => {
    const fx = readHttpFixture('a-status-php');
    const reply = await replay(nc, fx);
    expectHeadLike(reply, fx.response);
    expect(JSON.parse(reply.body.toString('utf8'))).toEqual(JSON.parse(fx.response.body.toString('utf8')));
  });

  test('wrong password gets 401 with the Basic challenge and NotAuthenticated body (a-get-wrong-password-401)', async () => {
    nc.putFileDirect('alice', 'Docs/renamed.docx', Buffer.from('x'));
    await expectErrorLike(await replay(nc, readHttpFixture('a-get-wrong-password-401')), readHttpFixture('a-get-wrong-password-401'));
  });

  test('a revoked app password on PROPFIND gets the same 401 (f-loginflow-15)', async () => {
    const fx = readHttpFixture('f-loginflow-15-propfind-after-revoke-401');
    await expectErrorLike(await replay(nc, fx), fx);
  });

  test('no Authorization header at all also gets the 401 challenge', async () => {
    const fx = readHttpFixture('a-get-wrong-password-401');
    const reply = await replay(nc, fx, { headers: { Authorization: null } });
    expect(reply.status).toBe(401);
    expect(hdr(reply, 'WWW-Authenticate')).toBe(headerValue(fx.response.headers, 'WWW-Authenticate'));
    expect((await parseSabreError(reply.body)).exception).toBe('Sabre\\DAV\\Exception\\NotAuthenticated');
  });

  test("another user's tree is 404, not 403 (a-get-other-users-tree-as-alice)", async () => {
    nc.putFileDirect('admin', 'Readme.md', Buffer.from('# admin'));
    const fx = readHttpFixture('a-get-other-users-tree-as-alice');
    await expectErrorLike(await replay(nc, fx), fx);
  });
});

describe('PUT / GET / HEAD with ETags (a- sequence)', () => {
  test('PUT new file → 201 with OC-FileId, quoted ETag/OC-ETag (a-put-new-docx); GET and HEAD like a-get-docx / a-head-docx', async () => {
    const put = await replay(nc, readHttpFixture('a-put-new-docx'));
    expectHeadLike(put, readHttpFixture('a-put-new-docx').response);
    expect(put.body.length).toBe(0);
    expect(numericId(hdr(put, 'OC-FileId'))).toBe(nc.fileIdOf('alice', 'test.docx'));
    expect(hdr(put, 'ETag')).toBe(nc.etagOf('alice', 'test.docx'));
    expect(hdr(put, 'OC-ETag')).toBe(hdr(put, 'ETag'));
    expect(nc.readFileDirect('alice', 'test.docx')).toEqual(readHttpFixture('a-put-new-docx').request.body);

    const getFx = readHttpFixture('a-get-docx');
    const get = await replay(nc, getFx);
    expectHeadLike(get, getFx.response);
    expect(get.body).toEqual(getFx.response.body);
    expect(hdr(get, 'ETag')).toBe(hdr(put, 'ETag'));

    const headFx = readHttpFixture('a-head-docx');
    const head = await replay(nc, headFx);
    expectHeadLike(head, headFx.response);
    expect(head.body.length).toBe(0);
    expect(hdr(head, 'ETag')).toBe(hdr(put, 'ETag'));
  });

  test('If-Match: current → 204 same file id, new etag; stale / unquoted → 412 carrying the current ETag; If-None-Match: * → 412', async () => {
    const newFx = readHttpFixture('a-put-new-docx');
    const currentFx = readHttpFixture('a-put-overwrite-if-match-current');
    const staleFx = readHttpFixture('a-put-overwrite-if-match-stale-412');
    const unquotedFx = readHttpFixture('a-put-if-match-unquoted-etag');
    const noneMatchFx = readHttpFixture('a-put-if-none-match-star-412');

    // The captures' own relations: overwrite keeps the id, the 412s carry the etag of the overwrite.
    expect(headerValue(currentFx.response.headers, 'OC-FileId')).toBe(headerValue(newFx.response.headers, 'OC-FileId'));
    expect(headerValue(currentFx.request.headers, 'If-Match')).toBe(headerValue(newFx.response.headers, 'ETag'));
    expect(headerValue(staleFx.response.headers, 'ETag')).toBe(headerValue(currentFx.response.headers, 'ETag'));
    expect(headerValue(unquotedFx.response.headers, 'ETag')).toBe(headerValue(currentFx.response.headers, 'ETag'));
    expect(headerValue(noneMatchFx.response.headers, 'ETag')).toBeUndefined();

    const created = await replay(nc, newFx);
    const firstEtag = hdr(created, 'ETag') ?? '';

    const overwritten = await replay(nc, currentFx, { headers: { 'If-Match': firstEtag } });
    expectHeadLike(overwritten, currentFx.response);
    expect(hdr(overwritten, 'OC-FileId')).toBe(hdr(created, 'OC-FileId'));
    expect(hdr(overwritten, 'ETag')).not.toBe(firstEtag);
    const current = hdr(overwritten, 'ETag') ?? '';
    expect(nc.readFileDirect('alice', 'test.docx')?.toString()).toBe('hello wopi v2 (overwritten)\n');

    const stale = await replay(nc, staleFx, { headers: { 'If-Match': firstEtag } });
    await expectErrorLike(stale, staleFx);
    expect(hdr(stale, 'ETag')).toBe(current);

    const unquoted = await replay(nc, unquotedFx, { headers: { 'If-Match': current.replace(/"/g, '') } });
    await expectErrorLike(unquoted, unquotedFx);
    expect(hdr(unquoted, 'ETag')).toBe(current);

    await expectErrorLike(await replay(nc, noneMatchFx), noneMatchFx);
    expect(nc.readFileDirect('alice', 'test.docx')?.toString()).toBe('hello wopi v2 (overwritten)\n');
    expect(nc.etagOf('alice', 'test.docx')).toBe(current);
  });

  test('re-uploading identical bytes still yields a new etag', async () => {
    const fx = readHttpFixture('a-put-new-docx');
    const a = await replay(nc, fx);
    const b = await replay(nc, fx);
    expect(b.status).toBe(204);
    expect(hdr(b, 'ETag')).not.toBe(hdr(a, 'ETag'));
    expect(hdr(b, 'OC-FileId')).toBe(hdr(a, 'OC-FileId'));
  });

  test('GET If-None-Match current → 304 with ETag (a-get-if-none-match-304); Range → 206 (a-get-range)', async () => {
    nc.putFileDirect('alice', 'test.docx', Buffer.from('hello wopi v2 (overwritten)\n'));
    const etag = nc.etagOf('alice', 'test.docx') ?? '';

    const fx304 = readHttpFixture('a-get-if-none-match-304');
    const notModified = await replay(nc, fx304, { headers: { 'If-None-Match': etag } });
    expectHeadLike(notModified, fx304.response);
    expect(hdr(notModified, 'ETag')).toBe(etag);
    expect(notModified.body.length).toBe(0);

    const fxRange = readHttpFixture('a-get-range');
    const partial = await replay(nc, fxRange);
    expectHeadLike(partial, fxRange.response);
    expect(partial.body).toEqual(fxRange.response.body);
  });

  test('X-OC-Mtime / OC-Checksum are accepted (a-put-with-mtime-and-checksum) and show in PROPFIND after MOVE (a-propfind-after-move-extended-props)', async () => {
    await replay(nc, readHttpFixture('a-put-new-docx'));
    const mkcolFx = readHttpFixture('a-mkcol-folder');
    expectHeadLike(await replay(nc, mkcolFx), mkcolFx.response);

    const mtimeFx = readHttpFixture('a-put-with-mtime-and-checksum');
    const put = await replay(nc, mtimeFx);
    expectHeadLike(put, mtimeFx.response);

    const moveFx = readHttpFixture('a-move-docx');
    // In the capture the MOVE keeps both the file id and the etag of the preceding PUT.
    expect(headerValue(moveFx.response.headers, 'ETag')).toBe(headerValue(mtimeFx.response.headers, 'ETag'));
    expect(headerValue(moveFx.response.headers, 'OC-FileId')).toBe(headerValue(mtimeFx.response.headers, 'OC-FileId'));
    const moved = await replay(nc, moveFx);
    expectHeadLike(moved, moveFx.response);
    expect(hdr(moved, 'ETag')).toBe(hdr(put, 'ETag'));
    expect(hdr(moved, 'OC-FileId')).toBe(hdr(put, 'OC-FileId'));
    expect(nc.readFileDirect('alice', 'test.docx')).toBeNull();

    const propFx = readHttpFixture('a-propfind-after-move-extended-props');
    const got = await expectMultistatusLike(await replay(nc, propFx), propFx, ['d:getlastmodified']);
    expect(got[0]?.values['d:getetag']).toBe(hdr(put, 'ETag'));
    expect(got[0]?.values['oc:fileid']).toBe(numericId(hdr(put, 'OC-FileId')));
    expect(got[0]?.values['oc:id']).toBe(hdr(put, 'OC-FileId'));
  });

  test('PUT under a missing parent → 404 (e-put-missing-parent-404); ".part" name → 400 InvalidPath (e-put-forbidden-name-part)', async () => {
    const missingFx = readHttpFixture('e-put-missing-parent-404');
    await expectErrorLike(await replay(nc, missingFx), missingFx);
    const partFx = readHttpFixture('e-put-forbidden-name-part');
    const part = await replay(nc, partFx);
    expectHeadLike(part, partFx.response);
    expect(part.body.toString('utf8')).toBe(partFx.response.body.toString('utf8'));
    expect(nc.readFileDirect('alice', 'x.part')).toBeNull();
  });
});

describe('PROPFIND', () => {
  test('file, Depth 0 (a-propfind-file-depth0)', async () => {
    nc.putFileDirect('alice', 'test.docx', Buffer.from('hello wopi v1\n'));
    const fx = readHttpFixture('a-propfind-file-depth0');
    const [r] = await expectMultistatusLike(await replay(nc, fx), fx);
    expect(r?.values['d:getetag']).toBe(nc.etagOf('alice', 'test.docx'));
    expect(r?.values['oc:fileid']).toBe(nc.fileIdOf('alice', 'test.docx'));
  });

  test('empty home, Depth 1: folder etag of 13 hex, getcontentlength/getcontenttype in a 404 propstat (a-propfind-root-alice-depth1)', async () => {
    const fx = readHttpFixture('a-propfind-root-alice-depth1');
    const [r] = await expectMultistatusLike(await replay(nc, fx), fx);
    expect(r?.values['d:getetag']).toMatch(/^"[0-9a-f]{13}"$/);
  });

  test('Depth: infinity lists the whole tree (e-propfind-depth-infinity)', async () => {
    nc.putFileDirect('alice', 'test.docx', Buffer.from('hello wopi v2 (overwritten)\n'));
    nc.putFileDirect('alice', 'chunked.docx', Buffer.from('chunk-one|chunk-two\n'));
    const fx = readHttpFixture('e-propfind-depth-infinity');
    await expectMultistatusLike(await replay(nc, fx), fx);
  });

  test('Depth: infinity recurses into sub-folders, parents before children', async () => {
    nc.putFileDirect('alice', 'A/B/c.txt', Buffer.from('c'));
    nc.putFileDirect('alice', 'A/z.txt', Buffer.from('z'));
    const reply = await send(nc, { method: 'PROPFIND', target: '/remote.php/dav/files/alice/', headers: { ...aliceAuth, Depth: 'infinity' } });
    expect(reply.status).toBe(207);
    const hrefs = (await parseMultistatus(reply.body)).map((r) => r.href);
    expect(hrefs).toEqual([
      '/remote.php/dav/files/alice/',
      '/remote.php/dav/files/alice/A/',
      '/remote.php/dav/files/alice/A/B/',
      '/remote.php/dav/files/alice/A/B/c.txt',
      '/remote.php/dav/files/alice/A/z.txt',
    ]);
  });

  test('missing resource → 404 NotFound with Vary/DAV headers (e-propfind-missing-404)', async () => {
    const fx = readHttpFixture('e-propfind-missing-404');
    await expectErrorLike(await replay(nc, fx), fx);
  });

  test('quota props on the home folder (a-propfind-quota-props shape)', async () => {
    nc.putFileDirect('alice', 'a.txt', Buffer.from('12345'));
    const fx = readHttpFixture('a-propfind-quota-props');
    const reply = await replay(nc, fx);
    expectHeadLike(reply, fx.response);
    const [got] = await parseMultistatus(reply.body);
    const [want] = await parseMultistatus(fx.response.body);
    expect(got?.propstats).toEqual(want?.propstats);
    expect(got?.values['d:quota-used-bytes']).toBe('5');
  });

  test('no body = allprop: only found props, no 404 propstat; Brief: t drops the 404 propstat', async () => {
    nc.putFileDirect('alice', 'Docs/a.docx', Buffer.from('abc'));
    const all = await send(nc, { method: 'PROPFIND', target: '/remote.php/dav/files/alice/Docs', headers: { ...aliceAuth, Depth: '1' } });
    const shapes = await parseMultistatus(all.body);
    expect(shapes.map((s) => s.propstats)).toEqual([
      [{ status: 'HTTP/1.1 200 OK', props: ['d:getlastmodified', 'd:resourcetype', 'd:quota-used-bytes', 'd:quota-available-bytes', 'd:getetag'] }],
      [{ status: 'HTTP/1.1 200 OK', props: ['d:getlastmodified', 'd:getcontentlength', 'd:resourcetype', 'd:getetag', 'd:getcontenttype'] }],
    ]);
    const fx = readHttpFixture('a-propfind-root-alice-depth1');
    const brief = await replay(nc, fx, { headers: { Brief: 't' } });
    const [root] = await parseMultistatus(brief.body);
    expect(root?.propstats.map((p) => p.status)).toEqual(['HTTP/1.1 200 OK']);
  });

  test('legacy /remote.php/webdav/ endpoint: PUT, GET, PROPFIND (a-legacy-webdav-*)', async () => {
    nc.putFileDirect('alice', 'Docs/renamed.docx', Buffer.from('hello wopi v1\n'));
    const propFx = readHttpFixture('a-legacy-webdav-propfind');
    await expectMultistatusLike(await replay(nc, propFx), propFx);
    const putFx = readHttpFixture('a-legacy-webdav-put');
    expectHeadLike(await replay(nc, putFx), putFx.response);
    const getFx = readHttpFixture('a-legacy-webdav-get');
    const get = await replay(nc, getFx);
    expectHeadLike(get, getFx.response);
    expect(get.body).toEqual(getFx.response.body);
    expect(nc.readFileDirect('alice', 'Docs/legacy.docx')).toEqual(putFx.request.body);
  });
});

describe('MKCOL / MOVE / COPY / DELETE', () => {
  test('MKCOL → MOVE → COPY (new id) → DELETE → GET 404 (a-mkcol-folder, a-move-docx, a-copy-docx, a-delete-copy, a-get-deleted-404)', async () => {
    const mkcolFx = readHttpFixture('a-mkcol-folder');
    const mkcol = await replay(nc, mkcolFx);
    expectHeadLike(mkcol, mkcolFx.response);
    expect(numericId(hdr(mkcol, 'OC-FileId'))).toBe(nc.fileIdOf('alice', 'Docs'));

    const put = await replay(nc, readHttpFixture('a-put-new-docx'));
    const moveFx = readHttpFixture('a-move-docx');
    const move = await replay(nc, moveFx);
    expectHeadLike(move, moveFx.response);
    expect(hdr(move, 'OC-FileId')).toBe(hdr(put, 'OC-FileId'));
    expect(nc.fileIdOf('alice', 'Docs/renamed.docx')).toBe(numericId(hdr(put, 'OC-FileId')));

    const copyFx = readHttpFixture('a-copy-docx');
    expect(headerValue(copyFx.response.headers, 'OC-FileId')).not.toBe(headerValue(moveFx.response.headers, 'OC-FileId'));
    const copy = await replay(nc, copyFx);
    expectHeadLike(copy, copyFx.response);
    expect(hdr(copy, 'OC-FileId')).not.toBe(hdr(put, 'OC-FileId'));
    expect(numericId(hdr(copy, 'OC-FileId'))).toBe(nc.fileIdOf('alice', 'Docs/copy.docx'));
    expect(nc.readFileDirect('alice', 'Docs/copy.docx')).toEqual(nc.readFileDirect('alice', 'Docs/renamed.docx'));

    const deleteFx = readHttpFixture('a-delete-copy');
    expectHeadLike(await replay(nc, deleteFx), deleteFx.response);
    expect(nc.readFileDirect('alice', 'Docs/copy.docx')).toBeNull();

    const goneFx = readHttpFixture('a-get-deleted-404');
    await expectErrorLike(await replay(nc, goneFx), goneFx);
  });

  test('MOVE with Overwrite: F onto an existing file → 412 (e-move-overwrite-F-destination-exists-412)', async () => {
    nc.putFileDirect('alice', 'chunked.docx', Buffer.from('chunk-one|chunk-two\n'));
    nc.putFileDirect('alice', 'test.docx', Buffer.from('hello wopi v2 (overwritten)\n'));
    const fx = readHttpFixture('e-move-overwrite-F-destination-exists-412');
    await expectErrorLike(await replay(nc, fx), fx);
    expect(nc.readFileDirect('alice', 'chunked.docx')?.toString()).toBe('chunk-one|chunk-two\n');
    expect(nc.readFileDirect('alice', 'test.docx')?.toString()).toBe('hello wopi v2 (overwritten)\n');
  });

  test('MOVE with Overwrite: T onto an existing file replaces it (204) and the moved file keeps its own id and etag', async () => {
    nc.putFileDirect('alice', 'chunked.docx', Buffer.from('source'));
    nc.putFileDirect('alice', 'test.docx', Buffer.from('target'));
    const sourceId = nc.fileIdOf('alice', 'chunked.docx');
    const targetId = nc.fileIdOf('alice', 'test.docx');
    const sourceEtag = nc.etagOf('alice', 'chunked.docx');
    const fx = readHttpFixture('e-move-overwrite-F-destination-exists-412');
    const reply = await replay(nc, fx, { headers: { Overwrite: 'T' } });
    expect(reply.status).toBe(204);
    expect(nc.readFileDirect('alice', 'chunked.docx')).toBeNull();
    expect(nc.readFileDirect('alice', 'test.docx')?.toString()).toBe('source');
    expect(nc.fileIdOf('alice', 'test.docx')).toBe(sourceId);
    expect(nc.fileIdOf('alice', 'test.docx')).not.toBe(targetId);
    expect(hdr(reply, 'ETag')).toBe(sourceEtag);
    expect(nc.etagOf('alice', 'test.docx')).toBe(sourceEtag);
  });

  test('MOVE into a missing folder → 409; MKCOL on an existing folder → 405; MKCOL without parent → 409', async () => {
    nc.putFileDirect('alice', 'test.docx', Buffer.from('x'));
    const move = await send(nc, {
      method: 'MOVE',
      target: '/remote.php/dav/files/alice/test.docx',
      headers: { ...aliceAuth, Destination: `${nc.davUrl('alice')}/Nope/test.docx` },
    });
    expect(move.status).toBe(409);
    expect(await parseSabreError(move.body)).toMatchObject({ exception: 'Sabre\\DAV\\Exception\\Conflict', message: 'The destination node is not found' });

    nc.mkdirDirect('alice', 'Docs');
    const again = await send(nc, { method: 'MKCOL', target: '/remote.php/dav/files/alice/Docs', headers: aliceAuth });
    expect(again.status).toBe(405);
    expect((await parseSabreError(again.body)).exception).toBe('Sabre\\DAV\\Exception\\MethodNotAllowed');

    const orphan = await send(nc, { method: 'MKCOL', target: '/remote.php/dav/files/alice/No/Sub', headers: aliceAuth });
    expect(orphan.status).toBe(409);
    expect((await parseSabreError(orphan.body)).message).toBe('Parent node does not exist');
  });

  test('folder etags change when something inside changes', async () => {
    nc.putFileDirect('alice', 'Docs/a.docx', Buffer.from('1'));
    const rootBefore = nc.etagOf('alice', '/');
    const docsBefore = nc.etagOf('alice', 'Docs');
    nc.putFileDirect('alice', 'Docs/a.docx', Buffer.from('2'));
    expect(nc.etagOf('alice', 'Docs')).not.toBe(docsBefore);
    expect(nc.etagOf('alice', '/')).not.toBe(rootBefore);
    expect(nc.etagOf('alice', 'Docs')).toMatch(/^"[0-9a-f]{13}"$/);
  });
});

describe('locking', () => {
  test('LOCK / UNLOCK → 501 for a default UA and for "Microsoft Office Word" (a-lock-default-ua, a-lock-msoffice-ua, a-unlock-default-ua)', async () => {
    nc.putFileDirect('alice', 'Docs/renamed.docx', Buffer.from('x'));
    for (const name of ['a-lock-default-ua', 'a-lock-msoffice-ua', 'a-unlock-default-ua']) {
      const fx = readHttpFixture(name);
      await expectErrorLike(await replay(nc, fx), fx);
    }
  });

  test('fake locker for Microsoft-WebDAV-MiniRedir: LOCK 200, UNLOCK 204, nothing enforced (a-lock/unlock-ms-webdav-miniredir-ua-fake, a-put-while-fake-locked-no-token)', async () => {
    nc.putFileDirect('alice', 'Docs/renamed.docx', Buffer.from('hello wopi v1\n'));
    const lockFx = readHttpFixture('a-lock-ms-webdav-miniredir-ua-fake');
    const lock = await replay(nc, lockFx);
    expectHeadLike(lock, lockFx.response);
    const token = /opaquelocktoken:[0-9a-f]{32}/g;
    expect(lock.body.toString('utf8').replace(token, 'TOKEN')).toBe(lockFx.response.body.toString('utf8').replace(token, 'TOKEN'));
    expect(hdr(lock, 'Lock-Token')).toBeUndefined();

    const putFx = readHttpFixture('a-put-while-fake-locked-no-token');
    expectHeadLike(await replay(nc, putFx), putFx.response);

    const unlockFx = readHttpFixture('a-unlock-ms-webdav-miniredir-ua-fake');
    expectHeadLike(await replay(nc, unlockFx), unlockFx.response);
  });

  test('OPTIONS advertises LOCK/UNLOCK only to the fake-locker UA (a-options-file, a-options-ms-webdav-miniredir-ua)', async () => {
    nc.putFileDirect('alice', 'Docs/renamed.docx', Buffer.from('x'));
    for (const name of ['a-options-file', 'a-options-ms-webdav-miniredir-ua']) {
      const fx = readHttpFixture(name);
      expectHeadLike(await replay(nc, fx), fx.response);
    }
  });

  test('PUT / DELETE while a download of the same file is still streaming → 423 FileLocked (a-put-while-being-read-423)', async () => {
    nc.putFileDirect('alice', 'Docs/locked.docx', Buffer.from('original content of the locked file'));
    nc.holdDownloads(true);
    const download = await startRequest(nc, { method: 'GET', target: '/remote.php/dav/files/alice/Docs/locked.docx', headers: aliceAuth });
    await nc.downloadHeld();
    expect(download.res.statusCode).toBe(200);

    const fx = readHttpFixture('a-put-while-being-read-423');
    await expectErrorLike(await replay(nc, fx), fx);
    const del = await send(nc, { method: 'DELETE', target: '/remote.php/dav/files/alice/Docs/locked.docx', headers: aliceAuth });
    expect(del.status).toBe(423);
    expect(await parseSabreError(del.body)).toEqual(await parseSabreError(fx.response.body));
    expect(nc.readFileDirect('alice', 'Docs/locked.docx')?.toString()).toBe('original content of the locked file');

    // Reading concurrently is fine (shared lock), other files are not affected.
    nc.holdDownloads(false);
    const other = await send(nc, { method: 'PUT', target: '/remote.php/dav/files/alice/Docs/other.docx', headers: aliceAuth, body: 'x' });
    expect(other.status).toBe(201);

    expect((await download.body()).toString()).toBe('original content of the locked file');
    const after = await replay(nc, fx);
    expect(after.status).toBe(204);
    expect(nc.readFileDirect('alice', 'Docs/locked.docx')).toEqual(fx.request.body);
  });

  test('releaseDownloads() finishes held downloads while holding stays on', async () => {
    nc.putFileDirect('alice', 'f.txt', Buffer.from('0123456789'));
    nc.holdDownloads(true);
    const download = await startRequest(nc, { method: 'GET', target: '/remote.php/dav/files/alice/f.txt', headers: aliceAuth });
    await nc.downloadHeld();
    nc.releaseDownloads();
    expect((await download.body()).toString()).toBe('0123456789');
    const put = await send(nc, { method: 'PUT', target: '/remote.php/dav/files/alice/f.txt', headers: aliceAuth, body: 'new' });
    expect(put.status).toBe(204);
    const second = await startRequest(nc, { method: 'GET', target: '/remote.php/dav/files/alice/f.txt', headers: aliceAuth });
    await nc.downloadHeld();
    const blocked = await send(nc, { method: 'PUT', target: '/remote.php/dav/files/alice/f.txt', headers: aliceAuth, body: 'newer' });
    expect(blocked.status).toBe(423);
    nc.releaseDownloads();
    expect((await second.body()).toString()).toBe('new');
  });
});

describe('SEARCH and chunked upload', () => {
  test('SEARCH by oc:fileid maps an id back to its path (e-search-by-fileid)', async () => {
    nc.putFileDirect('alice', 'chunked.docx', Buffer.from('chunk-one|chunk-two\n'));
    nc.putFileDirect('alice', 'test.docx', Buffer.from('hello wopi v2 (overwritten)\n'));
    const fx = readHttpFixture('e-search-by-fileid');
    const id = nc.fileIdOf('alice', 'test.docx') ?? '';
    const body = fx.request.body.toString('utf8').replace('<d:literal>89</d:literal>', `<d:literal>${id}</d:literal>`);
    const [r] = await expectMultistatusLike(await replay(nc, fx, { body }), fx);
    expect(r?.values['oc:fileid']).toBe(id);
    expect(r?.values['d:getetag']).toBe(nc.etagOf('alice', 'test.docx'));

    const none = await replay(nc, fx, { body: body.replace(`<d:literal>${id}</d:literal>`, '<d:literal>999999</d:literal>') });
    expect(none.status).toBe(207);
    expect(await parseMultistatus(none.body)).toEqual([]);
  });

  test('chunked upload v2: MKCOL, PUT chunks, MOVE .file (a-chunkv2-1..5)', async () => {
    nc.mkdirDirect('alice', 'Docs');
    for (const name of ['a-chunkv2-1-mkcol', 'a-chunkv2-2-put-chunk1', 'a-chunkv2-3-put-chunk2', 'a-chunkv2-4-move-assemble']) {
      const fx = readHttpFixture(name);
      expectHeadLike(await replay(nc, fx), fx.response);
    }
    const getFx = readHttpFixture('a-chunkv2-5-get-result');
    const get = await replay(nc, getFx);
    expectHeadLike(get, getFx.response);
    expect(hdr(get, 'Last-Modified')).toBe(headerValue(getFx.response.headers, 'Last-Modified'));
    expect(get.body).toEqual(getFx.response.body);
  });
});

describe('URL encoding', () => {
  const names = ['a b&c#d%e+f.docx', '文档 报告.docx', 'emoji 😀.txt', "it's (1) [x].odt"];

  test('PUT, PROPFIND hrefs (Sabre-style lower-case %xx), GET and MOVE with special characters', async () => {
    nc.mkdirDirect('alice', 'Spaced Folder');
    for (const name of names) {
      const put = await send(nc, {
        method: 'PUT',
        target: `/remote.php/dav/files/alice/Spaced%20Folder/${encodeURIComponent(name)}`,
        headers: aliceAuth,
        body: `content of ${name}`,
      });
      expect(put.status).toBe(201);
      expect(nc.readFileDirect('alice', `Spaced Folder/${name}`)?.toString()).toBe(`content of ${name}`);
    }
    const list = await send(nc, { method: 'PROPFIND', target: '/remote.php/dav/files/alice/Spaced%20Folder', headers: { ...aliceAuth, Depth: '1' } });
    const hrefs = (await parseMultistatus(list.body)).map((r) => r.href);
    expect(hrefs).toEqual([
      '/remote.php/dav/files/alice/Spaced%20Folder/',
      '/remote.php/dav/files/alice/Spaced%20Folder/a%20b%26c%23d%25e%2bf.docx',
      "/remote.php/dav/files/alice/Spaced%20Folder/emoji%20%f0%9f%98%80.txt",
      "/remote.php/dav/files/alice/Spaced%20Folder/it%27s%20(1)%20%5bx%5d.odt",
      '/remote.php/dav/files/alice/Spaced%20Folder/%e6%96%87%e6%a1%a3%20%e6%8a%a5%e5%91%8a.docx',
    ]);
    for (const href of hrefs.slice(1)) {
      const get = await send(nc, { method: 'GET', target: href, headers: aliceAuth });
      expect(get.status).toBe(200);
      const name = decodeURIComponent(href.split('/').pop() ?? '');
      expect(get.body.toString()).toBe(`content of ${name}`);
    }
    const move = await send(nc, {
      method: 'MOVE',
      target: hrefs[1] ?? '',
      headers: { ...aliceAuth, Destination: `${nc.davUrl('alice')}/${encodeURIComponent('100% 文档 #1.docx')}` },
    });
    expect(move.status).toBe(201);
    expect(nc.readFileDirect('alice', '100% 文档 #1.docx')?.toString()).toBe('content of a b&c#d%e+f.docx');
  });
});

describe('test hooks', () => {
  test('putFileDirect simulates a web-UI edit: new content and etag, same file id; the old etag now gets 412', async () => {
    const put = await replay(nc, readHttpFixture('a-put-new-docx'));
    const oldEtag = hdr(put, 'ETag') ?? '';
    const id = nc.fileIdOf('alice', 'test.docx');
    nc.putFileDirect('alice', 'test.docx', Buffer.from('edited in the web UI'));
    expect(nc.fileIdOf('alice', 'test.docx')).toBe(id);
    expect(nc.etagOf('alice', 'test.docx')).not.toBe(oldEtag);
    expect(nc.readFileDirect('alice', 'test.docx')?.toString()).toBe('edited in the web UI');
    const stale = await replay(nc, readHttpFixture('a-put-overwrite-if-match-stale-412'), { headers: { 'If-Match': oldEtag } });
    expect(stale.status).toBe(412);
    expect(hdr(stale, 'ETag')).toBe(nc.etagOf('alice', 'test.docx'));
  });

  test('requests are logged with method, raw path and headers; unknown paths give null', async () => {
    await send(nc, { method: 'PROPFIND', target: '/remote.php/dav/files/alice/a%20b', headers: { ...aliceAuth, Depth: '0' } });
    expect(nc.requests).toHaveLength(1);
    expect(nc.requests[0]).toMatchObject({ method: 'PROPFIND', path: '/remote.php/dav/files/alice/a%20b' });
    expect(nc.requests[0]?.headers['depth']).toBe('0');
    expect(nc.readFileDirect('alice', 'nope.txt')).toBeNull();
    expect(nc.fileIdOf('alice', 'nope.txt')).toBeNull();
    expect(nc.davUrl('alice')).toBe(`${nc.origin}/remote.php/dav/files/alice`);
    expect(nc.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('custom users option', async () => {
    const other = await startNextcloudDouble({ users: { bob: 'secret' } });
    try {
      const ok = await send(other, { method: 'PROPFIND', target: '/remote.php/dav/files/bob/', headers: { Authorization: basic('bob', 'secret'), Depth: '0' } });
      expect(ok.status).toBe(207);
      const denied = await send(other, { method: 'PROPFIND', target: '/remote.php/dav/files/alice/', headers: { ...aliceAuth, Depth: '0' } });
      expect(denied.status).toBe(401);
    } finally {
      await other.close();
    }
  });
});

describe('webdav npm client against the double', () => {
  test('stat(details) and getDirectoryContents', async () => {
    nc.putFileDirect('alice', 'Docs/renamed.docx', Buffer.from('hello wopi v1\n'));
    nc.putFileDirect('alice', 'Docs/Sub/inner.txt', Buffer.from('inner'));
    nc.putFileDirect('alice', 'Docs/a b 文档.xlsx', Buffer.from('xlsx'));
    const client = createClient(nc.davUrl('alice'), { username: 'alice', password: ALICE_PASS });

    const stat = (await client.stat('/Docs/renamed.docx', { details: true })) as ResponseDataDetailed<FileStat>;
    expect(stat.status).toBe(207);
    expect(stat.data).toMatchObject({
      filename: '/Docs/renamed.docx',
      basename: 'renamed.docx',
      type: 'file',
      size: 14,
      mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      etag: (nc.etagOf('alice', 'Docs/renamed.docx') ?? '').replace(/"/g, ''),
    });
    expect(isHttpDate(stat.data.lastmod)).toBe(true);

    const folder = (await client.stat('/Docs')) as FileStat;
    expect(folder.type).toBe('directory');

    const contents = (await client.getDirectoryContents('/Docs')) as FileStat[];
    expect(contents.map((f) => [f.filename, f.type]).sort()).toEqual([
      ['/Docs/Sub', 'directory'],
      ['/Docs/a b 文档.xlsx', 'file'],
      ['/Docs/renamed.docx', 'file'],
    ]);

    const deep = (await client.getDirectoryContents('/', { deep: true })) as FileStat[];
    expect(deep.map((f) => f.filename)).toContain('/Docs/Sub/inner.txt');
  });

  test('stat with a custom PROPFIND body returns oc:fileid / oc:permissions', async () => {
    nc.putFileDirect('alice', 'test.docx', Buffer.from('hello wopi v1\n'));
    const client = createClient(nc.davUrl('alice'), { username: 'alice', password: ALICE_PASS });
    const data = readHttpFixture('a-propfind-file-depth0').request.body.toString('utf8');
    const stat = (await client.stat('/test.docx', { details: true, data })) as ResponseDataDetailed<FileStat>;
    expect(String(stat.data.props?.['fileid'])).toBe(nc.fileIdOf('alice', 'test.docx'));
    expect(stat.data.props?.['permissions']).toBe('RGDNVW');
  });

  test('putFileContents / getFileContents round trip; a wrong password rejects with 401', async () => {
    nc.mkdirDirect('alice', 'Docs');
    const client = createClient(nc.davUrl('alice'), { username: 'alice', password: ALICE_PASS });
    await client.putFileContents('/Docs/new.docx', Buffer.from('binary\x00data'));
    const back = (await client.getFileContents('/Docs/new.docx')) as Buffer;
    expect(Buffer.from(back)).toEqual(Buffer.from('binary\x00data'));
    const bad = createClient(nc.davUrl('alice'), { username: 'alice', password: 'wrong-password' });
    await expect(bad.stat('/Docs')).rejects.toMatchObject({ status: 401 });
  });
});
