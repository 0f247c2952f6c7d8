import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { settingsPath } from '../../../connector/src/config/settingsFile.js';
import { ROOT } from '../../helpers/processes.js';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { AdminClient, startAdminBridge, type AdminBridge, type AdminResponse } from '../admin/adminHarness.js';

/** The admin API's POST routes, as connector/src/admin/README.md lists them (a new route there is covered here too). */
async function documentedPostRoutes(): Promise<string[]> {
  const readme = await readFile(path.join(ROOT, 'connector/src/admin/README.md'), 'utf8');
  return [...new Set([...readme.matchAll(/^\| `POST (\/admin\/api\/[a-z/-]+)`/gm)].map((m) => m[1] as string))];
}

/** A harmless body for each POST route. */
const BODIES: Record<string, unknown> = {
  '/admin/api/login': { password: 'admin-password-for-tests-0123' },
  '/admin/api/checks': { settings: { LOG_LEVEL: 'warn' }, save: true, only: ['mixed_content'] },
};

function expectAdminHeaders(res: AdminResponse, label: string): void {
  const got = {
    csp: /default-src 'self'.*frame-ancestors 'none'/.test(res.headers.get('content-security-policy') ?? ''),
    frame: res.headers.get('x-frame-options'),
    sniff: res.headers.get('x-content-type-options'),
    referrer: res.headers.get('referrer-policy'),
    cache: res.headers.get('cache-control'),
  };
  expect([label, got]).toEqual([label, { csp: true, frame: 'DENY', sniff: 'nosniff', referrer: 'no-referrer', cache: 'no-store' }]);
}

// adminAuth.test.ts covers sign-in, CSRF, the 401s of the GET routes and the cross-site refusal of /checks and
// /login; this file walks every POST route the README documents, checks that a refused request changed nothing,
// and that every kind of error answer carries the security headers.
describe('admin API: no session, no entry; another site, no entry — on every POST route', () => {
  let tb: AdminBridge;
  let routes: string[];
  beforeAll(async () => {
    routes = await documentedPostRoutes();
    tb = await startAdminBridge();
  });
  afterAll(async () => {
    await tb?.stop();
  });

  test('the README lists the POST routes this file walks', () => {
    expect(routes).toEqual(expect.arrayContaining(['/admin/api/login', '/admin/api/logout', '/admin/api/checks']));
  });

  test('without a session every POST route but login answers 401 (same origin, even with a CSRF token)', async () => {
    const c = new AdminClient(tb.url);
    c.csrfToken = 'A'.repeat(43);
    for (const route of routes.filter((r) => r !== '/admin/api/login')) {
      const res = await c.post(route, BODIES[route]);
      expect([route, res.status]).toEqual([route, 401]);
      expectAdminHeaders(res, route);
    }
    expect(existsSync(settingsPath(tb.dataDir))).toBe(false);
  });

  test('a signed-in admin lured to another site: every POST route answers 403 to its Origin or Referer, and nothing happens', async () => {
    const admin = new AdminClient(tb.url);
    expect((await admin.login()).status).toBe(200);
    for (const route of routes) {
      for (const [label, origin, headers] of [
        ['Origin of another site', 'https://evil.example', {}],
        ['Origin: null (sandboxed frame)', 'null', {}],
        ['Referer of another site, no Origin', null, { Referer: 'https://evil.example/page' }],
        ['same host, another port', `http://127.0.0.1:${Number(new URL(tb.url).port) + 1}`, {}],
      ] as Array<[string, string | null, Record<string, string>]>) {
        const client = route === '/admin/api/login' ? new AdminClient(tb.url) : admin;
        const res = await client.post(route, BODIES[route], { origin, headers });
        expect([route, label, res.status]).toEqual([route, label, 403]);
        expect(res.headers.get('set-cookie')).toBeNull();
        expectAdminHeaders(res, `${route} ${label}`);
      }
    }
    // Nothing happened: still signed in (logout refused), no settings saved (checks with save refused).
    expect((await admin.get('/admin/api/session')).json()).toMatchObject({ authenticated: true });
    expect(existsSync(settingsPath(tb.dataDir))).toBe(false);
  });

  test('every kind of admin error answer carries CSP and the other security headers', async () => {
    const c = new AdminClient(tb.url);
    await c.login();
    const answers: Array<[string, number, AdminResponse]> = [
      ['no session', 401, await new AdminClient(tb.url).get('/admin/api/settings')],
      ['no CSRF token', 403, await c.post('/admin/api/checks', {}, { csrf: false })],
      ['unknown API route', 404, await c.get('/admin/api/none')],
      ['not JSON', 415, await c.request('POST', '/admin/api/checks', { raw: 'a=b', contentType: 'application/x-www-form-urlencoded' })],
      ['broken JSON', 400, await c.request('POST', '/admin/api/checks', { raw: '{' })],
      ['body over 64 KiB', 413, await c.request('POST', '/admin/api/checks', { raw: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }) })],
    ];
    for (const [label, status, res] of answers) {
      expect([label, res.status]).toEqual([label, status]);
      expectAdminHeaders(res, label);
      expect(res.text.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('admin sign-in rate limit (adminAuth.test.ts counts the tries): its answer carries the headers too', () => {
  let tb: AdminBridge;
  beforeAll(async () => {
    tb = await startAdminBridge();
  });
  afterAll(async () => {
    await tb?.stop();
  });

  test('the 429 carries the security headers and a one-line body; the right password then still gets no cookie', async () => {
    const c = new AdminClient(tb.url);
    for (let i = 0; i < 5; i++) expectAdminHeaders(await c.login(`wrong-${i}`), `failure ${i + 1}`);
    const limited = await c.login();
    expect(limited.status).toBe(429);
    expectAdminHeaders(limited, '429');
    expect(limited.text.trim().split('\n')).toHaveLength(1);
    expect(limited.headers.get('set-cookie')).toBeNull();
  });
});

// WOPI answers go to DocumentServer, not to a page: no CSP there, but a body must never be taken for a page on the
// bridge's origin (which also serves the admin page): a stored file is application/octet-stream whatever its bytes,
// error answers are one line of text/plain, and neither sets a cookie.
describe('WOPI answers cannot be turned into a page on the bridge origin', () => {
  let tb: TestBridge;
  beforeAll(async () => {
    tb = await startTestBridge();
  });
  afterAll(async () => {
    await tb?.stop();
  });

  test('a file holding HTML is served as application/octet-stream; errors are text/plain; no cookies', async () => {
    const html = '<!doctype html><script>fetch("/admin/api/settings")</script>';
    await rawDrive(tb).put('/Looks like a page.docx', Buffer.from(html));
    const f = await tb.open('/Looks like a page.docx');
    const got = await fetch(f.url('/contents'));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(await got.text()).toBe(html);
    const info = await fetch(f.url());
    expect(info.headers.get('content-type')).toMatch(/^application\/json/);
    const errors = [
      await fetch(`${f.src}?access_token=nope`),
      await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'NO_SUCH' } }),
      await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK' } }),
    ];
    for (const res of [got, info, ...errors]) expect(res.headers.get('set-cookie')).toBeNull();
    for (const res of errors) {
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      const body = await res.text();
      expect(body).not.toContain('<');
      expect(body.trim().split('\n')).toHaveLength(1);
    }
  });
});
