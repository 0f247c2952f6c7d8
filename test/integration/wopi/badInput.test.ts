import { createHash } from 'node:crypto';
import { request } from 'node:http';
import jwt from 'jsonwebtoken';
import { rawDrive, startTestBridge, TEST_SECRETS, type TestBridge } from '../../helpers/testBridge.js';
import { issueAccessToken } from '../../../connector/src/tokens/accessToken.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const LIMIT = 1000;

/** Sends a raw HTTP request (fetch refuses some of the malformed input tested here). */
function raw(url: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer; chunked?: boolean; rawHeaderBlock?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (options.chunked && options.body) {
      req.write(options.body.subarray(0, 10));
      req.end(options.body.subarray(10));
    } else req.end(options.body);
  });
}

// Bad input gets the right status, changes nothing on the drive, and the process stays up.
describe('bad input', () => {
  let tb: TestBridge;
  const original = Buffer.from('the original bytes');
  let f: Awaited<ReturnType<TestBridge['open']>>;
  beforeAll(async () => {
    tb = await startTestBridge({ MAX_UPLOAD_BYTES: String(LIMIT) });
    await rawDrive(tb).put('/Target.docx', original);
    f = await tb.open('/Target.docx');
    expect((await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } })).status).toBe(200);
  });
  afterAll(async () => {
    await tb.stop();
  });
  afterEach(async () => {
    // Nothing changed on the drive, nothing left behind, the lock intact, the process alive.
    expect(sha((await rawDrive(tb).get('/Target.docx')) as Buffer)).toBe(sha(original));
    expect((await rawDrive(tb).list('/')).filter((n) => n.startsWith('.~wopi-') || n.includes('conflict'))).toEqual([]);
    expect((await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'GET_LOCK' } })).headers.get('x-wopi-lock')).toBe('L');
    expect((await fetch(`${tb.url}/healthz`)).status).toBe(200);
  });

  test.each([
    ['missing', {}],
    ['empty', { 'X-WOPI-Lock': '' }],
    ['oversized (1025 chars)', { 'X-WOPI-Lock': 'x'.repeat(1025) }],
  ])('X-WOPI-Lock %s on Lock, RefreshLock and Unlock → 400', async (_l, headers) => {
    for (const override of ['LOCK', 'REFRESH_LOCK', 'UNLOCK']) {
      const res = await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers } });
      expect(res.status).toBe(400);
    }
  });

  test('an oversized X-WOPI-Lock on PutFile → 400; a repeated X-WOPI-Lock → 400', async () => {
    const res = await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'y'.repeat(2000) }, body: 'z' });
    expect(res.status).toBe(400);
    const twice = await raw(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': ['L', 'L'] } });
    expect(twice.status).toBe(400);
  });

  test('unknown X-WOPI-Override → 501; missing → 400; a body override other than PUT → 400', async () => {
    for (const o of ['DELETE_EVERYTHING', 'lockx', 'PUT_RELATIVE_BOGUS', '\u00e9']) {
      expect((await raw(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': o } })).status).toBe(501);
    }
    expect((await fetch(f.url(), { method: 'POST' })).status).toBe(400);
    expect((await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' }, body: 'x' })).status).toBe(400);
  });

  test('tampered, expired, other-file, wrong-algorithm, missing and repeated tokens → 401 on every operation', async () => {
    const other = await (async () => {
      await rawDrive(tb).put('/Other.docx', Buffer.from('other'));
      return tb.open('/Other.docx');
    })();
    const [h, p, s] = f.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const tamperedPayload = `${h}.${Buffer.from(JSON.stringify({ ...claims, w: 1, sub: 'mallory' })).toString('base64url')}.${s}`;
    const tamperedSig = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
    const expired = issueAccessToken(TEST_SECRETS.tokenSecret, { userId: 'alice', fileId: f.fileId, canWrite: true }, 60, Date.now() - 3600_000).token;
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    const hs512 = jwt.sign({ ...claims }, TEST_SECRETS.tokenSecret, { algorithm: 'HS512' });
    const otherSecret = jwt.sign({ ...claims }, 'another-secret-another-secret-another-secret', { algorithm: 'HS256' });
    const bad: Array<[string, string]> = [
      ['tampered payload', tamperedPayload],
      ['tampered signature', tamperedSig],
      ['expired', expired],
      ['other file', other.token],
      ['alg none', none],
      ['HS512', hs512],
      ['other secret', otherSecret],
      ['garbage', 'not-a-token'],
      ['empty', ''],
    ];
    const src = f.src;
    for (const [label, token] of bad) {
      const q = `?access_token=${encodeURIComponent(token)}`;
      const statuses = [
        (await fetch(`${src}${q}`)).status,
        (await fetch(`${src}/contents${q}`)).status,
        (await fetch(`${src}${q}`, { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'L' } })).status,
        (await fetch(`${src}/contents${q}`, { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: 'evil' })).status,
      ];
      expect([label, statuses]).toEqual([label, [401, 401, 401, 401]]);
    }
    expect((await fetch(src)).status).toBe(401);
    expect((await fetch(`${src}?access_token=${f.token}&access_token=${f.token}`)).status).toBe(401);
  });

  test('a view-only token may read but not lock or write → 401', async () => {
    const view = await tb.open('/Target.docx', { canWrite: false });
    const info = (await (await fetch(view.url())).json()) as Record<string, unknown>;
    expect(info.UserCanWrite).toBe(false);
    expect((await fetch(view.url('/contents'))).status).toBe(200);
    expect((await fetch(view.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'L' } })).status).toBe(401);
    expect((await fetch(view.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: 'evil' })).status).toBe(401);
  });

  test('headers larger than 16 KiB → 431 from Node, the process stays up', async () => {
    const res = await raw(f.url(), { headers: { 'X-Junk': 'j'.repeat(64 * 1024) } }).catch(() => ({ status: 431 }));
    expect(res.status).toBe(431);
  });

  test(`a body over MAX_UPLOAD_BYTES (${LIMIT}) → 413, with Content-Length and chunked`, async () => {
    const big = Buffer.alloc(LIMIT + 1, 0x7a);
    const declared = await raw(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L', 'Content-Length': String(big.length) }, body: big });
    expect(declared.status).toBe(413);
    const chunked = await raw(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L', 'Transfer-Encoding': 'chunked' }, body: big, chunked: true });
    expect(chunked.status).toBe(413);
  });

  test('X-WOPI-MaxExpectedSize: garbage → 400, below the file size → 412 with no body', async () => {
    expect((await fetch(f.url('/contents'), { headers: { 'X-WOPI-MaxExpectedSize': 'lots' } })).status).toBe(400);
    const small = await fetch(f.url('/contents'), { headers: { 'X-WOPI-MaxExpectedSize': String(original.length - 1) } });
    expect(small.status).toBe(412);
    expect(await small.text()).not.toContain(original.toString());
    expect((await fetch(f.url('/contents'), { headers: { 'X-WOPI-MaxExpectedSize': String(original.length) } })).status).toBe(200);
  });

  test('path tricks in the file id → 401 (the token names another file), never a file outside the drive', async () => {
    for (const id of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', 'x%00y', f.fileId + '%2F..']) {
      const res = await fetch(`${tb.url}/wopi/files/${id}?access_token=${f.token}`);
      expect([401, 404]).toContain(res.status);
    }
  });

  test('error bodies are one short line and never echo the token', async () => {
    const res = await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'other' } });
    expect(res.status).toBe(409);
    const body = await res.text();
    expect(body.trim().split('\n')).toHaveLength(1);
    expect(body).not.toContain(f.token);
  });
});
