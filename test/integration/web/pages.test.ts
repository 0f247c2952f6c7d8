/**
 * The pages over HTTP against a real bridge (embedded drive, service sign-in) and the DocumentServer double:
 * redirects without a session, cookie attributes, CSRF and cross-site refusal, bad folder addresses, new / rename /
 * delete, the host page (headers, the token only in the form), a type DS cannot open, and DS's discovery down.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { verifyAccessToken } from '../../../connector/src/tokens/accessToken.js';
import { USER_COOKIE } from '../../../connector/src/users/types.js';
import { PageClient, csrfOf, fileIdOf, namesOf, unescapeAttr } from './pageClient.js';

const T = 60_000;

describe('pages over HTTP (embedded drive, service sign-in)', () => {
  let ds: DocServiceDouble;
  let tb: TestBridge;
  let files: string;

  beforeAll(async () => {
    ds = await startDocServiceDouble({ editor: true });
    tb = await startTestBridge({ DOCS_URL: ds.url });
    files = tb.bridge.runtime.filesDir as string;
    await mkdir(path.join(files, 'Reports', 'Old'), { recursive: true });
    await writeFile(path.join(files, 'Reports', 'q1.docx'), Buffer.from('docx bytes of q1'));
    await writeFile(path.join(files, 'Reports', 'budget.xlsx'), Buffer.from('xlsx bytes'));
    await writeFile(path.join(files, 'Reports', 'notes.xyz'), Buffer.from('no office file'));
    await writeFile(path.join(files, 'Reports', 'a % b & <c>.docx'), Buffer.from('awkward name'));
  }, T);

  afterAll(async () => {
    await tb?.stop();
    await ds?.close();
  }, T);

  test('without a session every page sends the person to sign in, with `next` a local path only', async () => {
    const c = new PageClient(tb.url);
    const home = await c.get('/');
    expect(home.status).toBe(303);
    expect(home.location).toBe('/signin');
    const open = await c.get('/open/fabc?action=edit');
    expect(open.status).toBe(303);
    expect(open.location).toBe(`/signin?next=${encodeURIComponent('/open/fabc?action=edit')}`);
    const folder = await c.get('/?path=%2FReports');
    expect(folder.location).toBe(`/signin?next=${encodeURIComponent('/?path=%2FReports')}`);
    for (const evil of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/a\u0000b']) {
      const page = await c.get(`/signin?next=${encodeURIComponent(evil)}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('name="next" value="/"');
    }
    // POSTs without a session are refused the same way, and change nothing.
    const del = await c.post('/files/delete', { id: 'fabc', csrf: 'x' });
    expect(del.status).toBe(303);
    expect(del.location).toMatch(/^\/signin/);
  });

  test('sign-in sets an HttpOnly, SameSite=Lax, Path=/ session cookie (no Secure over http) and goes to `next`', async () => {
    const c = new PageClient(tb.url);
    const page = await c.get('/signin');
    expect(page.text).toContain('name="username"');
    expect(page.text).not.toContain('name="password"'); // service mode without SIGN_IN_PASSWORD: a name only
    const res = await c.post('/signin', { username: 'alice', next: '/?path=/Reports' });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/?path=/Reports');
    const cookie = res.setCookies.find((l) => l.startsWith(`${USER_COOKIE}=`)) ?? '';
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    const list = await c.get('/?path=/Reports');
    expect(list.status).toBe(200);
    expect(list.text).toContain('alice');
    // signed in: /signin goes straight on
    const again = await c.get('/signin?next=%2F%3Fpath%3D%2FReports');
    expect(again.status).toBe(303);
    expect(again.location).toBe('/?path=/Reports');
  });

  test('the file list: breadcrumbs, folders first, sizes, office files linked to the host page, others not', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('bob');
    const list = await c.get('/?path=/Reports');
    expect(list.status).toBe(200);
    expect(list.headers.get('cache-control')).toBe('no-store');
    expect(list.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(namesOf(list.text)).toEqual(['Old', 'a % b & <c>.docx', 'budget.xlsx', 'notes.xyz', 'q1.docx']);
    expect(list.text).toContain('<a href="/">Home</a>');
    expect(list.text).toContain('<li aria-current="page">Reports</li>');
    expect(list.text).toContain('href="/?path=%2FReports%2FOld"');
    expect(list.text).toContain('16 B'); // q1.docx
    const q1 = fileIdOf(list.text, 'q1.docx');
    expect(list.text).toContain(`href="/open/${q1}"`);
    const xyz = fileIdOf(list.text, 'notes.xyz');
    expect(list.text).not.toContain(`href="/open/${xyz}"`);
    expect(list.text).toContain('a % b &amp; &lt;c&gt;.docx'); // escaped, never raw
    expect(list.text).not.toContain('<c>');
  });

  test('bad folder addresses get a 400 or 404 page, never a 500', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('carol');
    const cases: Array<[string, number]> = [
      ['/?path=..%2Fetc', 400],
      ['/?path=%2FReports%2F..%2F..', 400],
      ['/?path=%2F.', 400],
      ['/?path=Reports', 400],
      ['/?path=%2FRe%00ports', 400],
      ['/?path=%2FRe%0Aports', 400],
      ['/?path=%5CReports', 400],
      ['/?path=%2FReports&path=%2FOther', 400],
      [`/?path=%2F${'a'.repeat(5000)}`, 400],
      ['/?path=%2FReports%2Fq1.docx', 400],
      ['/?path=%2FNo%20such%20folder', 404],
      ['/?path=%E0%A4%A', 400],
    ];
    for (const [url, status] of cases) {
      const res = await c.get(url);
      expect({ url, status: res.status }).toEqual({ url, status });
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.text).toContain('<h1>');
    }
    const ok = await c.get('/?path=%2F%2FReports%2F');
    expect(ok.status).toBe(200);
  });

  test('every POST needs the session CSRF token and the own origin (403 otherwise, nothing changed)', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('dave');
    await writeFile(path.join(files, 'Reports', 'keep.docx'), Buffer.from('keep'));
    const list = await c.get('/?path=/Reports');
    const id = fileIdOf(list.text, 'keep.docx');
    const csrf = csrfOf(list.text);
    const attempts: Array<[string, Record<string, string>, Record<string, string>]> = [
      ['no token', { id }, {}],
      ['wrong token', { id, csrf: `${csrf.slice(0, -2)}xx` }, {}],
      ['empty token', { id, csrf: '' }, {}],
      ['cross-site Origin', { id, csrf }, { Origin: 'https://evil.example' }],
      ['Origin null', { id, csrf }, { Origin: 'null' }],
      ['cross-site Referer', { id, csrf }, { Origin: '', Referer: 'https://evil.example/page' }],
      ['Sec-Fetch-Site cross-site', { id, csrf }, { 'Sec-Fetch-Site': 'cross-site' }],
      ['Sec-Fetch-Site same-site (another port or subdomain)', { id, csrf }, { 'Sec-Fetch-Site': 'same-site' }],
    ];
    for (const [label, form, headers] of attempts) {
      for (const route of ['/files/delete', '/files/rename', '/files/new']) {
        const res = await c.post(route, { ...form, name: 'x.docx', type: 'docx', path: '/Reports' }, headers);
        expect({ label, route, status: res.status }).toEqual({ label, route, status: 403 });
      }
    }
    const signOut = await c.post('/signout', {});
    expect(signOut.status).toBe(403);
    const crossSignIn = await new PageClient(tb.url).post('/signin', { username: 'mallory' }, { Origin: 'https://evil.example' });
    expect(crossSignIn.status).toBe(403);
    expect(crossSignIn.setCookies).toEqual([]);
    expect(await readFile(path.join(files, 'Reports', 'keep.docx'), 'utf8')).toBe('keep');
    expect(namesOf((await c.get('/?path=/Reports')).text)).not.toContain('x.docx');
    // Chromium sends `Origin: null` with the pages' own POSTs (Referrer-Policy: no-referrer); Sec-Fetch-Site says same-origin.
    const own = await c.post('/files/rename', { id, csrf, name: 'keep.docx' }, { Origin: 'null', 'Sec-Fetch-Site': 'same-origin' });
    expect(own.status).toBe(303);
    // A token of another session does not work either.
    const other = new PageClient(tb.url);
    await other.signIn('erin');
    const otherCsrf = csrfOf((await other.get('/')).text);
    expect((await c.post('/files/delete', { id, csrf: otherCsrf })).status).toBe(403);
  });

  test('new document: a 0-byte file with a unique name, then the host page in editnew', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('frank');
    const csrf = csrfOf((await c.get('/?path=/Reports')).text);
    const first = await c.post('/files/new', { csrf, path: '/Reports', type: 'docx', name: '' });
    expect(first.status).toBe(303);
    expect(first.location).toMatch(/^\/open\/[A-Za-z0-9_-]+\?action=editnew$/);
    const second = await c.post('/files/new', { csrf, path: '/Reports', type: 'docx', name: '' });
    const sheet = await c.post('/files/new', { csrf, path: '/Reports', type: 'xlsx', name: 'Plan' });
    expect(sheet.status).toBe(303);
    expect((await stat(path.join(files, 'Reports', 'New document.docx'))).size).toBe(0);
    expect((await stat(path.join(files, 'Reports', 'New document (2).docx'))).size).toBe(0);
    expect((await stat(path.join(files, 'Reports', 'Plan.xlsx'))).size).toBe(0);
    expect(second.location).not.toBe(first.location);
    const bad = await c.post('/files/new', { csrf, path: '/Reports', type: 'exe', name: '' });
    expect(bad.status).toBe(400);
    const badName = await c.post('/files/new', { csrf, path: '/Reports', type: 'docx', name: '../x' });
    expect(badName.status).toBe(400);
    const badFolder = await c.post('/files/new', { csrf, path: '/Reports/../..', type: 'docx', name: '' });
    expect(badFolder.status).toBe(400);
    const host = await c.get(first.location as string);
    expect(host.status).toBe(200);
    expect(host.text).toMatch(/action="http:\/\/127\.0\.0\.1:\d+\/hosting\/wopi\/word\/edit\?/);
  });

  test('rename (keeps the extension when none is typed; taken names and bad names refused) and delete', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('gina');
    await writeFile(path.join(files, 'Reports', 'draft.docx'), Buffer.from('draft'));
    await writeFile(path.join(files, 'Reports', 'taken.docx'), Buffer.from('taken'));
    let list = await c.get('/?path=/Reports');
    const csrf = csrfOf(list.text);
    const id = fileIdOf(list.text, 'draft.docx');
    const renamed = await c.post('/files/rename', { csrf, id, name: 'Final draft' });
    expect(renamed.status).toBe(303);
    expect(renamed.location).toBe('/?path=%2FReports');
    expect(await readFile(path.join(files, 'Reports', 'Final draft.docx'), 'utf8')).toBe('draft');
    list = await c.get('/?path=/Reports');
    expect(fileIdOf(list.text, 'Final draft.docx')).toBe(id); // the id survives the rename
    const taken = await c.post('/files/rename', { csrf, id, name: 'taken.docx' });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('taken.docx');
    for (const name of ['', '.hidden', 'a/b.docx', 'a\\b.docx', '..', 'x\u0000.docx']) {
      const res = await c.post('/files/rename', { csrf, id, name });
      expect({ name, status: res.status }).toEqual({ name, status: 400 });
    }
    const unknown = await c.post('/files/rename', { csrf, id: 'fnope', name: 'x.docx' });
    expect(unknown.status).toBe(404);
    const garbageId = await c.post('/files/delete', { csrf, id: '../../etc/passwd' });
    expect(garbageId.status).toBe(404);
    const del = await c.post('/files/delete', { csrf, id });
    expect(del.status).toBe(303);
    await expect(stat(path.join(files, 'Reports', 'Final draft.docx'))).rejects.toThrow();
    expect((await c.get(`/open/${id}`)).status).toBe(404);
  });

  test('form bodies that are not forms or too large get a page, not a 500', async () => {
    const c = new PageClient(tb.url);
    const json = await fetch(`${tb.url}/signin`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: tb.url }, body: '{"username":"x"}' });
    expect(json.status).toBe(415);
    const big = await c.post('/signin', { username: 'x'.repeat(40_000) });
    expect(big.status).toBe(413);
    const longName = await c.post('/signin', { username: 'y'.repeat(5000) });
    expect(longName.status).toBe(400);
    const empty = await c.post('/signin', { username: '' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('role="alert"');
  });

  test('host page: no-store, no-referrer, nonce CSP framing only DS; the token only in the POSTed form; CheckFileInfo leads back', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('henry');
    const list = await c.get('/?path=/Reports');
    const id = fileIdOf(list.text, 'q1.docx');
    const host = await c.get(`/open/${id}`, { 'Accept-Language': 'de-DE,de;q=0.9,en;q=0.5' });
    expect(host.status).toBe(200);
    expect(host.headers.get('cache-control')).toBe('no-store');
    expect(host.headers.get('referrer-policy')).toBe('no-referrer');
    expect(host.headers.get('x-frame-options')).toBe('DENY');
    expect(host.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = host.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1] ?? '';
    expect(nonce).not.toBe('');
    expect(csp).toContain(`frame-src ${ds.url}`);
    expect(csp).toContain(`form-action 'self' ${ds.url}`);
    expect(host.text).toContain(`<script nonce="${nonce}">`);
    expect(host.text.match(/<script/g)).toHaveLength(1); // no other inline or external script
    const action = unescapeAttr(/<form id="office_form"[^>]* action="([^"]+)"/.exec(host.text)?.[1] ?? '');
    const actionUrl = new URL(action);
    expect(actionUrl.origin + actionUrl.pathname).toBe(`${ds.url}/hosting/wopi/word/edit`);
    expect(actionUrl.searchParams.get('wopisrc')).toBe(`${tb.config.publicUrl}/wopi/files/${id}`);
    expect(actionUrl.searchParams.get('ui')).toBe('de-DE');
    expect(actionUrl.searchParams.get('rs')).toBe('de-DE');
    expect([...actionUrl.searchParams.keys()].sort()).toEqual(['rs', 'ui', 'wopisrc']);
    expect(host.text).toMatch(/target="office_frame"/);
    expect(host.text).toMatch(/<iframe name="office_frame"/);
    const token = /name="access_token" value="([^"]+)"/.exec(host.text)?.[1] ?? '';
    const ttl = Number(/name="access_token_ttl" value="(\d+)"/.exec(host.text)?.[1]);
    const grant = verifyAccessToken(tb.config.tokens.secret, token, id);
    expect(grant).toMatchObject({ userId: 'henry', canWrite: true, expiresAt: ttl });
    expect(grant.sid).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(ttl).toBeGreaterThan(Date.now());
    expect(host.text.split(token)).toHaveLength(2); // exactly once
    expect(action).not.toContain(token);

    // What DS does with the form: CheckFileInfo, Lock, GetFile through the bridge with that token.
    const res = await fetch(action, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: token, access_token_ttl: String(ttl) }).toString() });
    expect(res.status).toBe(200);
    const session = ds.editorSessions.at(-1);
    expect(session?.steps.map((s) => [s.op, s.status])).toEqual([
      ['CheckFileInfo', 200],
      ['Lock', 200],
      ['GetFile', 200],
    ]);
    const info = session?.steps[0]?.json ?? {};
    expect(info.CloseUrl).toBe(`${tb.config.publicUrl}/?path=%2FReports`);
    expect(info.BreadcrumbFolderUrl).toBe(`${tb.config.publicUrl}/?path=%2FReports`);
    expect(info.BreadcrumbFolderName).toBe('Reports');
    expect(session?.steps[2]?.bytes).toBe(16);

    // Explicit view: read-only token, view URL.
    const view = await c.get(`/open/${id}?action=view`);
    const viewAction = unescapeAttr(/action="([^"]+)"/.exec(view.text.slice(view.text.indexOf('office_form')))?.[1] ?? '');
    expect(new URL(viewAction).pathname).toBe('/hosting/wopi/word/view');
    const viewToken = /name="access_token" value="([^"]+)"/.exec(view.text)?.[1] ?? '';
    expect(verifyAccessToken(tb.config.tokens.secret, viewToken, id).canWrite).toBe(false);
    // Garbage action and ids
    expect((await c.get(`/open/${id}?action=<script>`)).status).toBe(200);
    expect((await c.get('/open/..%2F..%2Fetc')).status).toBe(404);
    expect((await c.get(`/open/${'x'.repeat(300)}`)).status).toBe(404);

    // The token is in no log line.
    const logs = tb.logs.lines.join('\n');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(viewToken);
    expect(logs).not.toContain('access_token=');
  });

  test('a file DS cannot open gets a plain explanation with a link back (not a blank frame)', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('ivy');
    const list = await c.get('/?path=/Reports');
    const id = fileIdOf(list.text, 'notes.xyz');
    const res = await c.get(`/open/${id}`);
    expect(res.status).toBe(415);
    expect(res.text).toContain('Cannot open this file here');
    expect(res.text).toContain('.xyz');
    expect(res.text).toContain('href="/?path=%2FReports"');
    expect(res.text).not.toContain('<iframe');
    expect(res.text).not.toContain('access_token');
  });

  test('sign-out ends the session: the old cookie no longer opens anything', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('jack');
    const cookie = c.cookies.get(USER_COOKIE) as string;
    const csrf = csrfOf((await c.get('/')).text);
    const out = await c.post('/signout', { csrf });
    expect(out.status).toBe(303);
    expect(out.location).toBe('/signin?reason=signed_out');
    expect(out.setCookies.find((l) => l.startsWith(`${USER_COOKIE}=;`))).toMatch(/Max-Age=0/);
    const replay = await fetch(`${tb.url}/`, { redirect: 'manual', headers: { Cookie: `${USER_COOKIE}=${cookie}` } });
    expect(replay.status).toBe(303);
    const garbage = await fetch(`${tb.url}/`, { redirect: 'manual', headers: { Cookie: `${USER_COOKIE}=%00%ff; other=1` } });
    expect(garbage.status).toBe(303);
  });

  test('static files: served with their type and nosniff; unknown names 404', async () => {
    const css = await fetch(`${tb.url}/web/assets/web.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = css.headers.get('etag') as string;
    expect((await fetch(`${tb.url}/web/assets/web.css`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    for (const name of ['nope.js', '..%2Fpackage.json', '%2e%2e']) expect((await fetch(`${tb.url}/web/assets/${name}`)).status).toBe(404);
  });
});

describe('sign-in with a shared password (service mode), rate limit and Secure cookies behind https', () => {
  let tb: TestBridge;

  beforeAll(async () => {
    tb = await startTestBridge({ SIGN_IN_PASSWORD: 'shared-password-123', PUBLIC_URL: 'https://files.example.test' });
  }, T);
  afterAll(async () => {
    await tb?.stop();
  }, T);

  test('cookies are Secure; a wrong password: the message on the page; the sixth try in a row: 429 with Retry-After', async () => {
    const ok = await new PageClient(tb.url).post('/signin', { username: 'lee', password: 'shared-password-123' }, { Origin: 'https://files.example.test' });
    expect(ok.status).toBe(303);
    expect(ok.setCookies.find((l) => l.startsWith(`${USER_COOKIE}=`))).toMatch(/; Secure/);
    const c = new PageClient(tb.url);
    const page = await c.get('/signin');
    expect(page.text).toContain('name="password"');
    const wrong = await c.post('/signin', { username: 'kim', password: 'nope' }, { Origin: 'https://files.example.test' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong password');
    expect(wrong.text).toContain('value="kim"');
    let last = wrong;
    for (let i = 0; i < 6 && last.status !== 429; i++) last = await c.post('/signin', { username: 'kim', password: 'nope' }, { Origin: 'https://files.example.test' });
    expect(last.status).toBe(429);
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last.text).toMatch(/try again in \d+ seconds/);
    // Even the right password waits now (the limiter counts by address).
    const blocked = await c.post('/signin', { username: 'kim', password: 'shared-password-123' }, { Origin: 'https://files.example.test' });
    expect(blocked.status).toBe(429);
    expect(blocked.setCookies).toEqual([]);
  });
});

describe('DocumentServer discovery down: a clear page instead of a blank frame', () => {
  let ds: DocServiceDouble;
  let tb: TestBridge;

  beforeAll(async () => {
    ds = await startDocServiceDouble({ wopiEnabled: false });
    tb = await startTestBridge({ DOCS_URL: ds.url });
    await writeFile(path.join(tb.bridge.runtime.filesDir as string, 'plan.docx'), Buffer.from('plan'));
  }, T);
  afterAll(async () => {
    await tb?.stop();
    await ds?.close().catch(() => undefined); // closed by the test already
  }, T);

  test('WOPI disabled on DS (404), then DS unreachable: 503 pages that say so; the list still works', async () => {
    const c = new PageClient(tb.url);
    await c.signIn('mia');
    const list = await c.get('/');
    expect(list.status).toBe(200);
    const id = fileIdOf(list.text, 'plan.docx');
    expect(list.text).toContain(`href="/open/${id}"`); // linked from the fallback list while discovery fails
    const disabled = await c.get(`/open/${id}`);
    expect(disabled.status).toBe(503);
    expect(disabled.text).toContain('WOPI interface is turned off');
    expect(disabled.text).not.toContain('<iframe');
    expect(disabled.text).not.toContain(ds.url); // internal addresses stay out of the page
    await ds.close();
    const down = await c.get(`/open/${id}`);
    expect(down.status).toBe(503);
    expect(down.text).toContain('cannot be reached');
  });
});
