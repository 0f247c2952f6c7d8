import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { issueAccessToken } from '../../../connector/src/tokens/accessToken.js';
import { SignInError, type UserService, type UserSession } from '../../../connector/src/users/types.js';

const ALICE = { name: 'alice', password: 'alice-drive-secret-1' };
const BOB = { name: 'bob', password: 'bob-drive-secret-2' };

// Mode webdav against an independent WebDAV server (rclone, one account per person, STORAGE_URL with a `{user}`
// folder): each person signs in with their own drive password, and WOPI requests made with the tokens of their
// session reach their own root with their own credentials.
describe('sign-in with WebDAV credentials, and WOPI in the session', () => {
  let dir: string;
  let rclone: RcloneWebdav;
  let tb: TestBridge;
  let users: UserService;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wopi-users-rclone-'));
    await mkdir(path.join(dir, 'alice'));
    await mkdir(path.join(dir, 'bob'));
    await writeFile(path.join(dir, 'alice', 'Report.docx'), 'alice report');
    await writeFile(path.join(dir, 'alice', 'Other.docx'), 'alice other');
    await writeFile(path.join(dir, 'bob', 'Notes.docx'), 'bob notes');
    rclone = await startRcloneWebdav({ dir, users: { [ALICE.name]: ALICE.password, [BOB.name]: BOB.password } });
    tb = await startTestBridge({ STORAGE_URL: `${rclone.url}/{user}`, STORAGE_USER: ALICE.name, STORAGE_PASSWORD: ALICE.password, STORAGE_FLAVOUR: 'auto' });
    users = tb.bridge.runtime.users;
  });
  afterAll(async () => {
    await tb.stop();
    await rclone.stop();
    await rm(dir, { recursive: true, force: true });
  });

  let ipCounter = 0;
  const freshIp = (): string => `192.0.2.${++ipCounter}`;
  const signIn = (who: { name: string; password: string }) => users.signIn({ username: who.name, password: who.password, ip: freshIp() });

  /** Assigns the file's id in the session's drive and issues a token in that session, as the host page does. */
  const tokenFor = async (session: UserSession, filePath: string): Promise<{ fileId: string; url: (suffix?: string) => string }> => {
    const drive = await users.driveOf(session);
    const fileId = await drive.files.idFor(await drive.storage.stat(filePath));
    const { token } = issueAccessToken(tb.config.tokens.secret, { userId: session.userId, fileId, canWrite: true, sid: session.sid }, 3600);
    return { fileId, url: (suffix = '') => `${tb.url}/wopi/files/${fileId}${suffix}?access_token=${token}` };
  };

  test('auto mode on a plain WebDAV drive signs in with WebDAV credentials', () => {
    expect(users.mode).toBe('webdav');
  });

  test('the right password starts a session whose drive is the person\'s own folder', async () => {
    const { cookie, session } = await signIn(BOB);
    expect(session).toMatchObject({ userId: 'bob', userName: 'bob', mode: 'webdav' });
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await users.sessionOfCookie(cookie))?.sid).toBe(session.sid);
    const drive = await users.driveOf(session);
    expect((await drive.storage.list('/')).map((f) => f.name)).toEqual(['Notes.docx']);
  });

  test('a wrong password is refused with a message for the person', async () => {
    const err = (await signIn({ name: 'bob', password: 'not-it' }).catch((e: unknown) => e)) as SignInError;
    expect(err).toBeInstanceOf(SignInError);
    expect(err.reason).toBe('bad_credentials');
    expect(err.message).toBe('The drive did not accept this user name and password');
  });

  test('the sixth failed attempt from one address is rate limited, even with the right password', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) {
      await expect(users.signIn({ username: 'bob', password: `guess-${i}`, ip })).rejects.toMatchObject({ reason: 'bad_credentials' });
    }
    const err = (await users.signIn({ username: 'bob', password: BOB.password, ip }).catch((e: unknown) => e)) as SignInError;
    expect(err.reason).toBe('rate_limited');
    expect(err.retryAfterSeconds).toBeGreaterThan(0);
    expect(err.message).toMatch(/try again in \d+ seconds/);
    // Another address is not affected.
    await expect(signIn(BOB)).resolves.toBeDefined();
  });

  test.each([
    ['an empty name', '', 'x', /Enter your user name/],
    ['a blank name', '   ', 'x', /Enter your user name/],
    ['an oversized name', 'a'.repeat(65), 'x', /too long/],
    ['a name with a newline', 'bob\nadmin', 'x', /cannot be used/],
    ['a name with a colon', 'bob:x', 'x', /":"/],
    ['an empty password', 'bob', '', /Enter your password/],
    ['an oversized password', 'bob', 'p'.repeat(1025), /too long/],
    ['a password with a NUL', 'bob', 'a\u0000b', /cannot be used/],
    ['a name that is not a string', 42 as unknown as string, 'x', /Enter your user name/],
  ])('%s is refused as bad input, before the drive is asked, and nothing is stored', async (_what, username, password, message) => {
    const before = (await tb.bridge.runtime.state.list('usersession')).length;
    const err = (await users.signIn({ username, password, ip: freshIp() }).catch((e: unknown) => e)) as SignInError;
    expect(err).toBeInstanceOf(SignInError);
    expect(err.reason).toBe('bad_input');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain(password.slice(0, 20) || '\u0001');
    expect((await tb.bridge.runtime.state.list('usersession')).length).toBe(before);
  });

  test.each([undefined, '', 'x', '!'.repeat(43), 'a'.repeat(42), 'a'.repeat(44), 'a'.repeat(100_000), '../../etc/passwd'])(
    'a malformed cookie value (%#) is no session, and signing out with it is harmless',
    async (cookie) => {
      expect(await users.sessionOfCookie(cookie)).toBeNull();
      await expect(users.signOut(cookie)).resolves.toBeUndefined();
    },
  );

  test('a token of the session reaches the person\'s file with their credentials', async () => {
    const { session } = await signIn(BOB);
    const f = await tokenFor(session, '/Notes.docx');
    const info = await fetch(f.url());
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ BaseFileName: 'Notes.docx', UserId: expect.any(String) });
    const body = await fetch(f.url('/contents'));
    expect(body.status).toBe(200);
    expect(await body.text()).toBe('bob notes');
  });

  test('after sign-out the session\'s access tokens get 401 on CheckFileInfo', async () => {
    const { cookie, session } = await signIn(BOB);
    const f = await tokenFor(session, '/Notes.docx');
    expect((await fetch(f.url())).status).toBe(200);
    await users.signOut(cookie);
    expect(await users.sessionOfCookie(cookie)).toBeNull();
    expect((await fetch(f.url())).status).toBe(401);
    expect((await fetch(f.url('/contents'))).status).toBe(401);
    expect(tb.logs.entries().some((e) => e.op === 'CheckFileInfo' && e.status === 401)).toBe(true);
  });

  test('a revoked session\'s tokens get 401; tokens naming an unknown session or another person get 401', async () => {
    const { session } = await signIn(BOB);
    const f = await tokenFor(session, '/Notes.docx');
    await users.revoke(session.sid);
    expect((await fetch(f.url())).status).toBe(401);

    const { session: alive } = await signIn(BOB);
    const g = await tokenFor(alive, '/Notes.docx');
    expect((await fetch(g.url())).status).toBe(200);
    const forged = (claims: { userId: string; sid: string }): string =>
      `${tb.url}/wopi/files/${g.fileId}?access_token=${issueAccessToken(tb.config.tokens.secret, { ...claims, fileId: g.fileId, canWrite: true }, 3600).token}`;
    expect((await fetch(forged({ userId: 'bob', sid: 'A'.repeat(24) }))).status).toBe(401);
    expect((await fetch(forged({ userId: 'alice', sid: alive.sid }))).status).toBe(401);
  });

  test('one person\'s session cannot reach another\'s files: A\'s file id in B\'s session is not found', async () => {
    const { session: alice } = await signIn(ALICE);
    const { session: bob } = await signIn(BOB);
    const a = await tokenFor(alice, '/Report.docx');
    expect((await fetch(a.url())).status).toBe(200);
    // B's root does not contain A's file...
    const bobDrive = await users.driveOf(bob);
    expect((await bobDrive.storage.list('/')).map((f) => f.name)).not.toContain('Report.docx');
    // ...and A's id means nothing in B's session, even with a token the bridge signed.
    const { token } = issueAccessToken(tb.config.tokens.secret, { userId: 'bob', fileId: a.fileId, canWrite: true, sid: bob.sid }, 3600);
    const res = await fetch(`${tb.url}/wopi/files/${a.fileId}?access_token=${token}`);
    expect(res.status).toBe(404);
    const get = await fetch(`${tb.url}/wopi/files/${a.fileId}/contents?access_token=${token}`);
    expect(get.status).toBe(404);
    expect(await get.text()).not.toContain('alice report');
  });

  test('a token for file A cannot be used for file B of the same person', async () => {
    const { session } = await signIn(ALICE);
    const a = await tokenFor(session, '/Report.docx');
    const b = await tokenFor(session, '/Other.docx');
    const token = new URL(a.url()).searchParams.get('access_token') as string;
    expect((await fetch(`${tb.url}/wopi/files/${b.fileId}?access_token=${token}`)).status).toBe(401);
  });

  test('tokens without a session (the CLI\'s) keep using the configured drive', async () => {
    const f = await tb.open('/Report.docx');
    const res = await fetch(f.url());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ BaseFileName: 'Report.docx' });
  });

  test('PutRelativeFile hands out a token in the same session: it dies at sign-out too', async () => {
    const { cookie, session } = await signIn(BOB);
    const f = await tokenFor(session, '/Notes.docx');
    const res = await fetch(f.url(), {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'PUT_RELATIVE', 'X-WOPI-SuggestedTarget': '.docx', 'Content-Length': '4' },
      body: 'copy',
    });
    expect(res.status).toBe(200);
    const { Url, Name } = (await res.json()) as { Url: string; Name: string };
    expect(await readFile(path.join(dir, 'bob', Name), 'utf8')).toBe('copy');
    expect((await fetch(Url)).status).toBe(200);
    await users.signOut(cookie);
    expect((await fetch(Url)).status).toBe(401);
  });

  test('the state store on disk and the logs never hold a password in clear', async () => {
    const { cookie } = await signIn(BOB);
    // Written through to disk (SQLite, WAL included): every file of the state database.
    const files = (await readdir(tb.dataDir)).filter((n) => n.startsWith('state.sqlite'));
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const bytes = await readFile(path.join(tb.dataDir, name));
      expect(bytes.includes(Buffer.from(BOB.password))).toBe(false);
      expect(bytes.includes(Buffer.from(cookie))).toBe(false);
    }
    const log = tb.logs.lines.join('\n');
    expect(log).not.toContain(BOB.password);
    expect(log).not.toContain(cookie);
    expect(log).not.toContain('access_token=');
  });
});
