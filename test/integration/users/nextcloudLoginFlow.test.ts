import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startNextcloudLoginDouble, type NextcloudLoginDouble } from '../../helpers/nextcloudLoginDouble.js';
import { LogSink, TEST_SECRETS } from '../../helpers/testBridge.js';
import { loadConfig } from '../../../connector/src/config/loadConfig.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import { WebdavStorage } from '../../../connector/src/storage/webdav/WebdavStorage.js';
import { FileIndex } from '../../../connector/src/files/FileIndex.js';
import { createUserService } from '../../../connector/src/users/createUserService.js';
import { endSessionRefusedByDrive, REVOKED_APP_PASSWORD_MESSAGE } from '../../../connector/src/users/driveRefusedSession.js';
import { SignInError, type UserService } from '../../../connector/src/users/types.js';

const NAMESPACES = ['usersession', 'usercookie', 'userlogin'];

// Sign-in through Nextcloud Login Flow v2 against a double that answers like the captures f-loginflow-*, then WebDAV
// with the app password the flow handed over.
describe('Nextcloud Login Flow v2', () => {
  let nc: NextcloudLoginDouble;
  let dataDir: string;
  let state: MemoryStateStore;
  let clock: number;
  let users: UserService;
  let logs: LogSink;

  beforeAll(async () => {
    nc = await startNextcloudLoginDouble();
    nc.backend.putFileDirect('alice', '/Docs/Plan.docx', Buffer.from('alice plan'));
    nc.backend.putFileDirect('bob', '/Bob.docx', Buffer.from('bob file'));
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'wopi-users-nc-'));
  });
  afterAll(async () => {
    await nc.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    clock = Date.now();
    const now = (): number => clock;
    state = new MemoryStateStore(now);
    const config = loadConfig(
      { STORAGE_URL: nc.davUrl('alice'), STORAGE_USER: 'alice', STORAGE_PASSWORD: nc.users.alice as string, STORAGE_FLAVOUR: 'nextcloud', DATA_DIR: dataDir, PORT: '8080' },
      TEST_SECRETS,
    );
    logs = new LogSink();
    const storage = new WebdavStorage({ url: nc.davUrl('alice'), username: 'alice', password: nc.users.alice as string, flavour: 'nextcloud', timeoutMs: 5000 });
    users = createUserService({
      config,
      log: createLogger('debug', logs),
      state,
      storage,
      files: new FileIndex(state, storage),
      flavour: 'nextcloud',
      embedded: false,
      davUrl: nc.davUrl('alice'),
      now,
    });
  });
  afterEach(async () => {
    await users.close();
  });

  const signInAs = async (loginName: string): Promise<{ cookie: string; sid: string; appPassword: string }> => {
    const { pendingId, loginUrl } = await users.startNextcloudLogin('10.0.0.1');
    const appPassword = nc.grant(loginUrl, loginName);
    const done = await users.pollNextcloudLogin(pendingId);
    if (done === null) throw new Error('not granted');
    return { cookie: done.cookie, sid: done.session.sid, appPassword };
  };
  const storedValues = async (): Promise<string> =>
    (await Promise.all(NAMESPACES.map((ns) => state.list(ns)))).flat().map((e) => `${e.key}=${e.value}`).join('\n');

  test('auto mode on a Nextcloud drive signs in through Nextcloud', () => {
    expect(users.mode).toBe('nextcloud');
  });

  test('start → pending (404 []) → granted (200 once) → a session whose drive is the person\'s own, with the app password', async () => {
    const { pendingId, loginUrl } = await users.startNextcloudLogin('10.0.0.1');
    expect(loginUrl.startsWith(`${nc.origin}/index.php/login/v2/flow/`)).toBe(true);
    expect(pendingId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const init = nc.loginRequests.at(-1);
    expect(init).toMatchObject({ method: 'POST', path: '/index.php/login/v2', body: '', userAgent: 'wopi-bridge' });

    expect(await users.pollNextcloudLogin(pendingId)).toBeNull();
    const poll = nc.loginRequests.at(-1);
    expect(poll?.path).toBe('/index.php/login/v2/poll');
    expect(poll?.body).toMatch(/^token=[A-Za-z0-9]{128}$/);
    // The poll token is ours to keep: not the pendingId the page holds, not in the login URL.
    const pollToken = (poll?.body ?? '').slice('token='.length);
    expect(pendingId).not.toContain(pollToken);
    expect(loginUrl).not.toContain(pollToken);

    const appPassword = nc.grant(loginUrl, 'bob');
    const done = await users.pollNextcloudLogin(pendingId);
    expect(done?.session).toMatchObject({ userId: 'bob', userName: 'Bob', mode: 'nextcloud' });
    expect(done?.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Used once: Nextcloud answers 404 again, and we no longer know the flow.
    await expect(users.pollNextcloudLogin(pendingId)).rejects.toMatchObject({ reason: 'flow_expired' });

    const session = await users.sessionOfCookie(done?.cookie);
    expect(session?.sid).toBe(done?.session.sid);
    const drive = await users.driveOf(session!);
    expect((await drive.storage.list('/')).map((f) => f.name)).toEqual(['Bob.docx']);
    const proxied = nc.backend.requests.filter((r) => r.path.startsWith('/remote.php/dav/files/bob'));
    expect(proxied.length).toBeGreaterThan(0);

    // Neither the app password nor the poll token is in the store or a log line in clear.
    const dump = await storedValues();
    expect(dump).not.toContain(appPassword);
    expect(dump).not.toContain(pollToken);
    expect(dump).not.toContain(done!.cookie);
    expect(logs.lines.join('\n')).not.toContain(appPassword);
  });

  test('a garbage poll token gets 404 [] like a pending one (f-loginflow-18); a garbage pendingId never reaches Nextcloud', async () => {
    const res = await fetch(`${nc.origin}/index.php/login/v2/poll`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'token=garbage',
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('[]');
    const before = nc.loginRequests.length;
    for (const bad of ['', 'garbage', 'x'.repeat(43), 'ä'.repeat(43), 'a'.repeat(10_000)]) {
      await expect(users.pollNextcloudLogin(bad)).rejects.toMatchObject({ reason: 'flow_expired', message: expect.stringContaining('start again') });
    }
    expect(nc.loginRequests.length).toBe(before);
  });

  test('a flow older than 20 minutes is expired, even when Nextcloud would still hand it out', async () => {
    const { pendingId, loginUrl } = await users.startNextcloudLogin('10.0.0.1');
    nc.grant(loginUrl, 'alice');
    clock += 20 * 60 * 1000 + 1;
    await expect(users.pollNextcloudLogin(pendingId)).rejects.toMatchObject({ reason: 'flow_expired' });
    expect(await state.list('usersession')).toHaveLength(0);
  });

  test('Nextcloud forgets a flow after 20 minutes: its poll answers 404 [] for good', async () => {
    const { pendingId, loginUrl } = await users.startNextcloudLogin('10.0.0.1');
    nc.advance(20 * 60 * 1000 + 1);
    expect(() => nc.grant(loginUrl, 'alice')).toThrow(/expired/);
    expect(await users.pollNextcloudLogin(pendingId)).toBeNull();
    nc.advance(-(20 * 60 * 1000 + 1));
  });

  test.each([
    ['not JSON', { status: 200, body: '<html>Nextcloud</html>', contentType: 'text/html' }, /not JSON/],
    ['a 500', { status: 500, body: '{"message":"Internal Server Error"}' }, /answered 500/],
    ['no poll token', { status: 200, body: '{"poll":{"endpoint":"http://x/poll"},"login":"http://x/login"}' }, /lacks poll\.token/],
    ['a login URL that is not http', { status: 200, body: '{"poll":{"token":"t","endpoint":"http://x/poll"},"login":"javascript:alert(1)"}' }, /lacks/],
    ['JSON null', { status: 200, body: 'null' }, /lacks/],
  ])('a start answered with %s is a clear error and stores nothing', async (_what, answer, message) => {
    nc.answerNext(answer);
    const err = (await users.startNextcloudLogin('10.0.0.1').catch((e: unknown) => e)) as SignInError;
    expect(err).toBeInstanceOf(SignInError);
    expect(err.reason).toBe('drive_unreachable');
    expect(err.message).toMatch(message);
    expect(await storedValues()).toBe('');
  });

  test.each([
    ['not JSON', { status: 200, body: 'Account connected' }, /not JSON/, true],
    ['no appPassword', { status: 200, body: '{"server":"http://x","loginName":"alice"}' }, /lacks/, true],
    ['a loginName with a colon', { status: 200, body: '{"server":"http://x","loginName":"a:b","appPassword":"p"}' }, /lacks/, true],
    ['an array', { status: 200, body: '[]' }, /lacks/, true],
    ['a 500', { status: 500, body: '' }, /answered 500/, false],
  ])('a poll answered with %s is a clear error and no session is stored', async (_what, answer, message, usedUp) => {
    const { pendingId } = await users.startNextcloudLogin('10.0.0.1');
    nc.answerNext(answer);
    const err = (await users.pollNextcloudLogin(pendingId).catch((e: unknown) => e)) as SignInError;
    expect(err).toBeInstanceOf(SignInError);
    expect(err.reason).toBe('drive_unreachable');
    expect(err.message).toMatch(message);
    expect(await state.list('usersession')).toHaveLength(0);
    expect(await state.list('usercookie')).toHaveLength(0);
    // A 200 used the flow up at Nextcloud: start again. A 500 may pass: the flow stays.
    if (usedUp) await expect(users.pollNextcloudLogin(pendingId)).rejects.toMatchObject({ reason: 'flow_expired' });
    else expect(await users.pollNextcloudLogin(pendingId)).toBeNull();
  });

  test('Nextcloud down: a clear drive_unreachable, not a crash', async () => {
    const down = await startNextcloudLoginDouble();
    const url = down.davUrl('alice');
    await down.close();
    const config = loadConfig({ STORAGE_URL: url, STORAGE_FLAVOUR: 'nextcloud', DATA_DIR: dataDir, PORT: '8080' }, TEST_SECRETS);
    const storage = new WebdavStorage({ url, username: null, password: null, flavour: 'nextcloud', timeoutMs: 2000 });
    const s = createUserService({ config, log: createLogger('silent'), state, storage, files: new FileIndex(state, storage), flavour: 'nextcloud', embedded: false, davUrl: url });
    await expect(s.startNextcloudLogin('10.0.0.1')).rejects.toMatchObject({ reason: 'drive_unreachable', message: expect.stringContaining('ECONNREFUSED') });
    await s.close();
  });

  test('a password sign-in in Nextcloud mode is the wrong mode', async () => {
    await expect(users.signIn({ username: 'alice', password: nc.users.alice as string, ip: '10.0.0.1' })).rejects.toMatchObject({ reason: 'wrong_mode' });
  });

  test('an app password revoked in Nextcloud: the drive answers 401, the session ends with a clear message', async () => {
    const { sid, cookie, appPassword } = await signInAs('alice');
    const session = (await users.session(sid))!;
    const drive = await users.driveOf(session);
    expect((await drive.storage.list('/')).map((f) => f.name)).toContain('Docs');

    nc.revoke(appPassword);
    const err = await drive.storage.list('/').catch((e: unknown) => e);
    const shown = await endSessionRefusedByDrive(users, session, err);
    expect(shown).toBeInstanceOf(SignInError);
    expect(shown?.reason).toBe('bad_credentials');
    expect(shown?.message).toBe(REVOKED_APP_PASSWORD_MESSAGE);
    expect(await users.session(sid)).toBeNull();
    expect(await users.sessionOfCookie(cookie)).toBeNull();
    expect(await state.list('usersession')).toHaveLength(0);
  });

  test('other failures do not end the session', async () => {
    const { sid } = await signInAs('alice');
    const session = (await users.session(sid))!;
    const drive = await users.driveOf(session);
    const err = await drive.storage.stat('/missing.docx').catch((e: unknown) => e);
    expect(await endSessionRefusedByDrive(users, session, err)).toBeNull();
    expect(await users.session(sid)).not.toBeNull();
  });

  test('signing out ends the session and revokes the app password at Nextcloud', async () => {
    const { sid, cookie, appPassword } = await signInAs('bob');
    expect(nc.liveAppPasswords()).toContain(appPassword);
    await users.signOut(cookie);
    expect(await users.session(sid)).toBeNull();
    expect(nc.liveAppPasswords()).not.toContain(appPassword);
    expect(await storedValues()).toBe('');
  });
});
