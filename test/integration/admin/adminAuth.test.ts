import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_PASSWORD, ALL_BODIES, AdminClient, expectNoSecrets, startAdminBridge, type AdminBridge } from './adminHarness.js';

const API_ROUTES: Array<[method: string, path: string]> = [
  ['GET', '/admin/api/settings'],
  ['POST', '/admin/api/checks'],
  ['GET', '/admin/api/checks/last'],
  ['POST', '/admin/api/logout'],
  ['GET', '/admin/api/nothing-here'],
];

function expectSecurityHeaders(headers: Headers, api: boolean): void {
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("img-src 'self' data:");
  expect(csp).toContain("style-src 'self'");
  expect(headers.get('x-frame-options')).toBe('DENY');
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('referrer-policy')).toBe('no-referrer');
  if (api) expect(headers.get('cache-control')).toBe('no-store');
}

describe('admin sign-in, sessions and CSRF', () => {
  let tb: AdminBridge;
  let uiDir: string;
  beforeAll(async () => {
    uiDir = await mkdtemp(path.join(os.tmpdir(), 'wopi-admin-ui-'));
    await writeFile(path.join(uiDir, 'index.html'), '<!doctype html><title>admin</title><script src="/admin/assets/app.js"></script>\n');
    await writeFile(path.join(uiDir, 'app.js'), 'console.log("admin");\n');
    await writeFile(path.join(uiDir, 'style.css'), 'body{}\n');
    await writeFile(path.join(uiDir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
    await writeFile(path.join(uiDir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    await writeFile(path.join(uiDir, 'zh-cn.json'), '{"hello":"你好"}\n');
    await writeFile(path.join(uiDir, 'README.md'), '# not served\n');
    tb = await startAdminBridge({ DOCS_URL: 'http://127.0.0.1:9', DOCS_PUBLIC_URL: 'https://office.example.com/ds' }, { adminUiDir: uiDir });
  });
  afterAll(async () => {
    await tb?.stop();
    await rm(uiDir, { recursive: true, force: true });
  });

  test('the page and its assets are served with their content types and the security headers', async () => {
    const c = new AdminClient(tb.url);
    for (const p of ['/admin', '/admin/']) {
      const res = await c.get(p);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('<title>admin</title>');
      expectSecurityHeaders(res.headers, false);
      // The DS public origin may serve api.js (the browser → DS check); nothing else outside the bridge.
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self' https://office.example.com;");
    }
    const types: Record<string, string> = {
      'app.js': 'text/javascript; charset=utf-8',
      'style.css': 'text/css; charset=utf-8',
      'logo.svg': 'image/svg+xml',
      'logo.png': 'image/png',
      'zh-cn.json': 'application/json; charset=utf-8',
    };
    for (const [name, type] of Object.entries(types)) {
      const res = await c.get(`/admin/assets/${name}`);
      expect([name, res.status, res.headers.get('content-type')]).toEqual([name, 200, type]);
      expectSecurityHeaders(res.headers, false);
    }
  });

  test('asset names outside the allowed set are 404, with the security headers', async () => {
    const c = new AdminClient(tb.url);
    for (const p of ['README.md', 'App.js', 'index.html', '.hidden.js', '..%2Fpackage.json', 'missing.js', 'a%00.js']) {
      const res = await c.get(`/admin/assets/${p}`);
      expect([p, res.status]).toEqual([p, 404]);
      expectSecurityHeaders(res.headers, false);
    }
    // Sent verbatim (fetch would normalise the dots away).
    for (const target of ['/admin/assets/..', '/admin/assets/%2e%2e', '/admin/assets/../../package.json', '/admin/assets/%2e%2e%2fpackage.json']) {
      const status = await new Promise<number>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: Number(new URL(tb.url).port), path: target }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      expect([target, status]).toEqual([target, 404]);
    }
  });

  test('GET /admin/api/session says signed out; every other API route answers 401 without a session', async () => {
    const c = new AdminClient(tb.url);
    const s = await c.get('/admin/api/session');
    expect(s.status).toBe(200);
    expect(s.json()).toEqual({ authenticated: false });
    expectSecurityHeaders(s.headers, true);
    for (const [method, p] of API_ROUTES) {
      const res = await c.request(method, p);
      expect([method, p, res.status]).toEqual([method, p, 401]);
      expectSecurityHeaders(res.headers, true);
    }
    // A made-up cookie is no session either.
    c.cookie = 'A'.repeat(43);
    expect((await c.get('/admin/api/settings')).status).toBe(401);
  });

  test('wrong password → 401; right password → csrfToken and an HttpOnly SameSite=Strict cookie on /admin', async () => {
    const c = new AdminClient(tb.url);
    const bad = await c.login('not-the-admin-password');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const ok = await c.login();
    expect(ok.status).toBe(200);
    const body = ok.json<{ csrfToken: string }>();
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookie = ok.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^wb_admin=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/admin');
    expect(cookie).toContain('Max-Age=28800');
    expect(cookie).not.toContain('Secure'); // PUBLIC_URL is http here
    const s = await c.get('/admin/api/session');
    expect(s.json()).toEqual({ authenticated: true, csrfToken: body.csrfToken });
    expect((await c.get('/admin/api/settings')).status).toBe(200);
    expect((await c.get('/admin/api/checks/last')).status).toBe(200);
  });

  test('the session is kept in the state store (namespace adminsession, 8 h), keyed by a hash of the cookie', async () => {
    const c = new AdminClient(tb.url);
    await c.login();
    const entries = await tb.bridge.runtime.state.list('adminsession');
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) {
      expect(e.key).not.toBe(c.cookie);
      expect(e.expiresAt).not.toBeNull();
      expect((e.expiresAt as number) - Date.now()).toBeGreaterThan(7.9 * 3600 * 1000);
      expect((e.expiresAt as number) - Date.now()).toBeLessThanOrEqual(8 * 3600 * 1000);
    }
  });

  test('POST without X-CSRF-Token or with a wrong one → 403', async () => {
    const c = new AdminClient(tb.url);
    await c.login();
    const missing = await c.post('/admin/api/checks', { only: ['mixed_content'] }, { csrf: false });
    expect(missing.status).toBe(403);
    expectSecurityHeaders(missing.headers, true);
    const wrong = await c.post('/admin/api/checks', { only: ['mixed_content'] }, { headers: { 'X-CSRF-Token': 'B'.repeat(43) }, csrf: false });
    expect(wrong.status).toBe(403);
    const another = new AdminClient(tb.url);
    await another.login();
    const othersToken = await c.post('/admin/api/logout', undefined, { headers: { 'X-CSRF-Token': another.csrfToken as string }, csrf: false });
    expect(othersToken.status).toBe(403);
    const right = await c.post('/admin/api/checks', { only: ['mixed_content'] });
    expect(right.status).toBe(200);
  });

  test('a cross-site Origin or Referer → 403, even with the right token; the own origin and the request host pass', async () => {
    const c = new AdminClient(tb.url);
    await c.login();
    for (const origin of ['https://evil.example', 'null', `http://127.0.0.1:${Number(new URL(tb.url).port) + 1}`]) {
      const res = await c.post('/admin/api/checks', { only: ['mixed_content'] }, { origin });
      expect([origin, res.status]).toEqual([origin, 403]);
    }
    const viaReferer = await c.post('/admin/api/checks', { only: ['mixed_content'] }, { origin: null, headers: { Referer: 'https://evil.example/page' } });
    expect(viaReferer.status).toBe(403);
    const crossLogin = await new AdminClient(tb.url).post('/admin/api/login', { password: ADMIN_PASSWORD }, { origin: 'https://evil.example' });
    expect(crossLogin.status).toBe(403);
    // Same origin (PUBLIC_URL), and no Origin at all (a non-browser client: the token still has to match).
    expect((await c.post('/admin/api/checks', { only: ['mixed_content'] })).status).toBe(200);
    expect((await c.post('/admin/api/checks', { only: ['mixed_content'] }, { origin: null })).status).toBe(200);
    expect((await c.post('/admin/api/checks', { only: ['mixed_content'] }, { origin: null, headers: { Referer: `${tb.url}/admin/` } })).status).toBe(200);
  });

  test('logout revokes the session: the old cookie is refused afterwards', async () => {
    const c = new AdminClient(tb.url);
    await c.login();
    const out = await c.post('/admin/api/logout');
    expect(out.status).toBe(200);
    expect(out.json()).toEqual({ authenticated: false });
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await c.get('/admin/api/settings')).status).toBe(401);
    expect((await c.get('/admin/api/session')).json()).toEqual({ authenticated: false });
  });

  test('bodies: not JSON → 415, broken JSON → 400, over 64 KiB → 413', async () => {
    const c = new AdminClient(tb.url);
    await c.login();
    expect((await c.request('POST', '/admin/api/checks', { raw: 'save=true', contentType: 'application/x-www-form-urlencoded' })).status).toBe(415);
    expect((await c.request('POST', '/admin/api/checks', { raw: '{"save":' })).status).toBe(400);
    expect((await c.request('POST', '/admin/api/checks', { raw: JSON.stringify({ settings: { LOG_LEVEL: 'x'.repeat(70 * 1024) } }) })).status).toBe(413);
    expect((await c.post('/admin/api/checks', { save: 'yes' })).status).toBe(400);
    expect((await c.post('/admin/api/checks', { only: ['no_such_check'] })).status).toBe(400);
    expect((await c.post('/admin/api/login', { nope: 1 })).status).toBe(400);
    // Still usable afterwards.
    expect((await c.get('/admin/api/session')).json()).toMatchObject({ authenticated: true });
  });

  test('nothing under /wopi parses a JSON body', async () => {
    const res = await fetch(`${tb.url}/wopi/files/x`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"password":"x"}' });
    expect([400, 401]).toContain(res.status);
    expect(res.headers.get('content-security-policy')).toBeNull();
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  test('the admin password never appears in a response or a log line', () => {
    expectNoSecrets([...ALL_BODIES, ...tb.logs.lines], [ADMIN_PASSWORD]);
  });
});

describe('admin sign-in rate limit', () => {
  let tb: AdminBridge;
  beforeAll(async () => {
    tb = await startAdminBridge();
  });
  afterAll(async () => {
    await tb?.stop();
  });

  test('after 5 failures from one address in 15 minutes → 429 with Retry-After, even with the right password', async () => {
    const c = new AdminClient(tb.url);
    for (let i = 0; i < 5; i++) expect((await c.login(`wrong-password-${i}`)).status).toBe(401);
    const limited = await c.login();
    expect(limited.status).toBe(429);
    const retry = Number(limited.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    expect(c.cookie).toBeNull();
  });
});

describe('admin page not installed, and a Secure cookie behind https', () => {
  let tb: AdminBridge;
  let emptyDir: string;
  beforeAll(async () => {
    emptyDir = await mkdtemp(path.join(os.tmpdir(), 'wopi-admin-empty-'));
    tb = await startAdminBridge({ PUBLIC_URL: 'https://bridge.example.com' }, { adminUiDir: emptyDir });
  });
  afterAll(async () => {
    await tb?.stop();
    await rm(emptyDir, { recursive: true, force: true });
  });

  test('without admin-ui/index.html /admin answers 503 with one plain line', async () => {
    const res = await fetch(`${tb.url}/admin`);
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect((await res.text()).trim().split('\n')).toHaveLength(1);
    expectSecurityHeaders(res.headers, false);
  });

  test('the cookie is Secure when PUBLIC_URL is https; the request host is accepted as an origin', async () => {
    const c = new AdminClient(tb.url);
    const res = await c.login();
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toContain('Secure');
    expect((await c.post('/admin/api/checks', { only: ['mixed_content'] }, { origin: 'https://bridge.example.com' })).status).toBe(200);
    expect((await c.post('/admin/api/checks', { only: ['mixed_content'] }, { origin: 'https://other.example.com' })).status).toBe(403);
  });
});

describe('the default admin-ui folder', () => {
  test('is found from the package root (admin-ui/ beside package.json)', async () => {
    const tb = await startAdminBridge();
    try {
      const res = await fetch(`${tb.url}/admin/`);
      // 200 once the page is written, 503 until then: never a 404 or a 500.
      expect([200, 503]).toContain(res.status);
    } finally {
      await tb.stop();
    }
  });
});
