import { startNextcloudLoginDouble, type NextcloudLoginDouble } from '../../helpers/nextcloudLoginDouble.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { issueAccessToken } from '../../../connector/src/tokens/accessToken.js';
import type { UserService, UserSession } from '../../../connector/src/users/types.js';

// A real bridge on a Nextcloud drive, people signed in through Login Flow v2: WOPI reaches each person's own
// dav/files/<loginName> root with their app password, `n<fileid>` ids are the same for everyone, and an app password
// revoked in Nextcloud ends the session at the next WOPI request.
describe('WOPI in Nextcloud sessions', () => {
  let nc: NextcloudLoginDouble;
  let tb: TestBridge;
  let users: UserService;

  beforeAll(async () => {
    nc = await startNextcloudLoginDouble({ aliases: { 'bob@example.com': 'bob' } });
    nc.backend.putFileDirect('alice', '/Docs/Plan.docx', Buffer.from('alice plan'));
    nc.backend.putFileDirect('bob', '/Bob.docx', Buffer.from('bob file'));
    tb = await startTestBridge({ STORAGE_URL: nc.davUrl('alice'), STORAGE_USER: 'alice', STORAGE_PASSWORD: nc.users.alice as string });
    users = tb.bridge.runtime.users;
  });
  afterAll(async () => {
    await tb.stop();
    await nc.close();
  });

  const signInAs = async (loginName: string): Promise<{ session: UserSession; cookie: string; appPassword: string }> => {
    const { pendingId, loginUrl } = await users.startNextcloudLogin('10.1.1.1');
    const appPassword = nc.grant(loginUrl, loginName);
    const done = await users.pollNextcloudLogin(pendingId);
    if (done === null) throw new Error('not granted');
    return { ...done, appPassword };
  };
  const tokenFor = async (session: UserSession, filePath: string): Promise<{ fileId: string; url: (suffix?: string) => string }> => {
    const drive = await users.driveOf(session);
    const fileId = await drive.files.idFor(await drive.storage.stat(filePath));
    const { token } = issueAccessToken(tb.config.tokens.secret, { userId: session.userId, fileId, canWrite: true, sid: session.sid }, 3600);
    return { fileId, url: (suffix = '') => `${tb.url}/wopi/files/${fileId}${suffix}?access_token=${token}` };
  };

  test('the bridge picks Nextcloud sign-in on a Nextcloud drive', () => {
    expect(tb.bridge.runtime.flavour).toBe('nextcloud');
    expect(users.mode).toBe('nextcloud');
  });

  test('a session\'s token reaches the person\'s own files with their app password; the id is Nextcloud\'s fileid', async () => {
    const { session, appPassword } = await signInAs('bob');
    const f = await tokenFor(session, '/Bob.docx');
    expect(f.fileId).toBe(`n${nc.backend.fileIdOf('bob', '/Bob.docx')}`);
    const since = nc.backend.requests.length;
    const res = await fetch(f.url('/contents'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('bob file');
    // The request went to bob's root, authenticated as bob (the double swaps a live app password for the account).
    const get = nc.backend.requests.slice(since).find((r) => r.method === 'GET');
    expect(get?.path).toBe('/remote.php/dav/files/bob/Bob.docx');
    expect(get?.headers.authorization).toBe(`Basic ${Buffer.from(`bob:${nc.users.bob}`).toString('base64')}`);
    expect(tb.logs.lines.join('\n')).not.toContain(appPassword);
  });

  test('a person who logs in with an e-mail address reaches the files of their user id, shown by their display name', async () => {
    const { session } = await signInAs('bob@example.com');
    expect(session.userId).toBe('bob');
    expect(session.userName).toBe('Bob');
    const f = await tokenFor(session, '/Bob.docx');
    const since = nc.backend.requests.length;
    const res = await fetch(f.url('/contents'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('bob file');
    expect(nc.backend.requests.slice(since).find((r) => r.method === 'GET')?.path).toBe('/remote.php/dav/files/bob/Bob.docx');
  });

  test('another person\'s Nextcloud file id is not found in a session that cannot see it', async () => {
    const { session: alice } = await signInAs('alice');
    const { session: bob } = await signInAs('bob');
    const a = await tokenFor(alice, '/Docs/Plan.docx');
    expect((await fetch(a.url())).status).toBe(200);
    const { token } = issueAccessToken(tb.config.tokens.secret, { userId: 'bob', fileId: a.fileId, canWrite: true, sid: bob.sid }, 3600);
    const res = await fetch(`${tb.url}/wopi/files/${a.fileId}/contents?access_token=${token}`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('alice plan');
  });

  test('an app password revoked in Nextcloud: the next WOPI request gets 401 and the session is over', async () => {
    const { session, cookie, appPassword } = await signInAs('bob');
    const f = await tokenFor(session, '/Bob.docx');
    expect((await fetch(f.url())).status).toBe(200);
    nc.revoke(appPassword);
    const res = await fetch(f.url());
    expect(res.status).toBe(401);
    expect(await users.session(session.sid)).toBeNull();
    expect(await users.sessionOfCookie(cookie)).toBeNull();
    // Still 401 afterwards, without asking the drive again.
    const since = nc.backend.requests.length;
    expect((await fetch(f.url())).status).toBe(401);
    expect(nc.backend.requests.length).toBe(since);
  });

  test('the state store on disk never holds an app password in clear', async () => {
    const { appPassword } = await signInAs('alice');
    for (const ns of ['usersession', 'usercookie', 'userlogin']) {
      for (const e of await tb.bridge.runtime.state.list(ns)) expect(`${e.key} ${e.value}`).not.toContain(appPassword);
    }
  });
});
