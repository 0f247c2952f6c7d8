/**
 * Sign-in through Nextcloud Login Flow v2 on the pages, against a real bridge over the Nextcloud doubles: the button,
 * the flow cookie, polling until granted, the person's own files, and a revoked app password signing them out with
 * a clear message.
 */
import { startNextcloudLoginDouble, type NextcloudLoginDouble } from '../../helpers/nextcloudLoginDouble.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { USER_COOKIE } from '../../../connector/src/users/types.js';
import { REVOKED_APP_PASSWORD_MESSAGE } from '../../../connector/src/users/driveRefusedSession.js';
import { NEXTCLOUD_FLOW_COOKIE } from '../../../connector/src/web/webRouter.js';
import { PageClient, fileIdOf, namesOf, unescapeAttr } from './pageClient.js';

const T = 60_000;

function escapeHtmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

describe('Nextcloud Login Flow v2 on the pages', () => {
  let nc: NextcloudLoginDouble;
  let ds: DocServiceDouble;
  let tb: TestBridge;

  beforeAll(async () => {
    nc = await startNextcloudLoginDouble();
    nc.backend.putFileDirect('bob', '/Projects/Plan.docx', Buffer.from('bob plan'));
    nc.backend.putFileDirect('alice', '/Alice only.docx', Buffer.from('alice'));
    ds = await startDocServiceDouble({ editor: true });
    tb = await startTestBridge({
      STORAGE_URL: nc.davUrl('alice'),
      STORAGE_USER: 'alice',
      STORAGE_PASSWORD: nc.users.alice as string,
      STORAGE_FLAVOUR: 'nextcloud',
      SIGN_IN_MODE: 'nextcloud',
      DOCS_URL: ds.url,
    });
  }, T);
  afterAll(async () => {
    await tb?.stop();
    await ds?.close();
    await nc?.close();
  }, T);

  /** Starts a flow on the page; returns the login URL the page links to. */
  async function start(c: PageClient, next = '/'): Promise<string> {
    const res = await c.post('/signin/nextcloud', { next });
    expect(res.status).toBe(200);
    const href = /<a class="button" href="([^"]+)" target="_blank"/.exec(res.text)?.[1];
    if (!href) throw new Error('no login link');
    return unescapeAttr(href);
  }

  test('the sign-in page offers only the Nextcloud button; starting sets a short-lived HttpOnly flow cookie', async () => {
    const c = new PageClient(tb.url);
    const page = await c.get('/signin');
    expect(page.text).toContain('Sign in with Nextcloud');
    expect(page.text).not.toContain('name="password"');
    const res = await c.post('/signin/nextcloud', { next: '/?path=/Projects' });
    const flow = res.setCookies.find((l) => l.startsWith(`${NEXTCLOUD_FLOW_COOKIE}=`)) ?? '';
    expect(flow).toMatch(/; HttpOnly/);
    expect(flow).toMatch(/; SameSite=Strict/);
    expect(flow).toMatch(/; Path=\/signin\/nextcloud/);
    expect(Number(/Max-Age=(\d+)/.exec(flow)?.[1])).toBeLessThanOrEqual(1200);
    const pendingId = c.cookies.get(NEXTCLOUD_FLOW_COOKIE) as string;
    expect(res.text).not.toContain(pendingId); // the flow id stays in the cookie
    expect(res.text).toContain(`href="${escapeHtmlText(nc.origin)}/index.php/login/v2/flow/`);
    expect(res.text).toContain('data-next="/?path=/Projects"');
    expect(res.text).toContain('/web/assets/nextcloud.js');
    // A password sign-in is the wrong mode here.
    const pw = await c.post('/signin', { username: 'bob', password: 'x' });
    expect(pw.status).toBe(400);
  });

  test('poll: pending until granted, then a session with the person\'s own drive; the flow cookie is cleared', async () => {
    const c = new PageClient(tb.url);
    const loginUrl = await start(c);
    const pending = await c.post('/signin/nextcloud/poll', {});
    expect(pending.status).toBe(200);
    expect(JSON.parse(pending.text)).toEqual({ status: 'pending' });
    const appPassword = nc.grant(loginUrl, 'bob');
    const done = await c.post('/signin/nextcloud/poll', {});
    expect(JSON.parse(done.text)).toEqual({ status: 'done' });
    expect(done.setCookies.find((l) => l.startsWith(`${USER_COOKIE}=`))).toMatch(/HttpOnly; SameSite=Lax/);
    expect(c.cookies.has(NEXTCLOUD_FLOW_COOKIE)).toBe(false);
    expect(done.text).not.toContain(appPassword);
    const list = await c.get('/');
    expect(list.status).toBe(200);
    expect(namesOf(list.text)).toEqual(['Projects']);
    const projects = await c.get('/?path=/Projects');
    expect(namesOf(projects.text)).toEqual(['Plan.docx']);
    expect(tb.logs.lines.join('\n')).not.toContain(appPassword);
  });

  test('poll without a flow, with garbage, or from another site: an error the page can show', async () => {
    const c = new PageClient(tb.url);
    const none = await c.post('/signin/nextcloud/poll', {});
    expect(none.status).toBe(400);
    expect(JSON.parse(none.text)).toMatchObject({ status: 'error', message: expect.stringMatching(/expired/) });
    c.cookies.set(NEXTCLOUD_FLOW_COOKIE, 'garbage');
    const garbage = await c.post('/signin/nextcloud/poll', {});
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.text).message).toMatch(/start again/);
    await start(c);
    const cross = await c.post('/signin/nextcloud/poll', {}, { 'Sec-Fetch-Site': 'cross-site' });
    expect(cross.status).toBe(403);
  });

  test('a revoked app password: the next page signs the person out and says why; the old cookie is dead', async () => {
    const c = new PageClient(tb.url);
    const loginUrl = await start(c, '/');
    const appPassword = nc.grant(loginUrl, 'bob');
    await c.post('/signin/nextcloud/poll', {});
    const cookie = c.cookies.get(USER_COOKIE) as string;
    const list = await c.get('/?path=/Projects');
    const id = fileIdOf(list.text, 'Plan.docx');
    // Opening works while the app password is valid: DS's calls reach bob's drive with it.
    const host = await c.get(`/open/${id}`);
    expect(host.status).toBe(200);
    nc.revoke(appPassword);
    const after = await c.get('/?path=/Projects');
    expect(after.status).toBe(401);
    expect(after.text).toContain(escapeHtmlText(REVOKED_APP_PASSWORD_MESSAGE));
    expect(after.text).toContain('Sign in with Nextcloud');
    expect(after.setCookies.find((l) => l.startsWith(`${USER_COOKIE}=;`))).toMatch(/Max-Age=0/);
    const replay = await fetch(`${tb.url}/`, { redirect: 'manual', headers: { Cookie: `${USER_COOKIE}=${cookie}` } });
    expect(replay.status).toBe(303);
  });
});
