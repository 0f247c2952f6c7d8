import { loadConfig } from '../../../connector/src/config/loadConfig.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import { FileIndex } from '../../../connector/src/files/FileIndex.js';
import type { StorageAdapter } from '../../../connector/src/storage/StorageAdapter.js';
import { createUserService, resolveSignInMode } from '../../../connector/src/users/createUserService.js';
import { LoginLimiter } from '../../../connector/src/admin/LoginLimiter.js';
import { SignInError, type UserService } from '../../../connector/src/users/types.js';
import { TEST_SECRETS } from '../../helpers/testBridge.js';

const SHARED_PASSWORD = 'shared-sign-in-password';
/** The configured drive; service mode never asks it anything when signing in. */
const storage = { flavour: 'generic', close: async () => undefined } as unknown as StorageAdapter;

describe('resolveSignInMode', () => {
  test.each([
    ['auto', true, 'generic', 'service'],
    ['auto', false, 'nextcloud', 'nextcloud'],
    ['auto', false, 'owncloud', 'webdav'],
    ['auto', false, 'generic', 'webdav'],
    ['webdav', false, 'nextcloud', 'webdav'],
    ['service', false, 'generic', 'service'],
  ] as const)('%s on embedded=%s %s → %s', (configured, embedded, flavour, expected) => {
    expect(resolveSignInMode(configured, embedded, flavour)).toBe(expected);
  });
});

describe('service mode (a name over the service account)', () => {
  let clock: number;
  let state: MemoryStateStore;
  const make = (env: Record<string, string>): UserService => {
    const config = loadConfig({ SIGN_IN_MODE: 'service', SESSION_TTL_SECONDS: '3600', DATA_DIR: '/tmp/unused-wopi-unit', ...env }, TEST_SECRETS);
    return createUserService({
      config,
      log: createLogger('silent'),
      state,
      storage,
      files: new FileIndex(state, storage),
      flavour: 'generic',
      embedded: true,
      davUrl: 'http://127.0.0.1:1/',
      now: () => clock,
      limiter: new LoginLimiter({ now: () => clock }),
    });
  };
  beforeEach(() => {
    clock = 1_800_000_000_000;
    state = new MemoryStateStore(() => clock);
  });

  test('without SIGN_IN_PASSWORD the trimmed name is the user; the drive is the configured one', async () => {
    const users = make({});
    expect(users.mode).toBe('service');
    const { cookie, session } = await users.signIn({ username: '  Anna  ', password: '', ip: '1.2.3.4' });
    expect(session).toMatchObject({ userId: 'Anna', userName: 'Anna', mode: 'service', expiresAt: clock + 3600_000 });
    expect(session.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const drive = await users.driveOf(session);
    expect(drive.storage).toBe(storage);
  });

  test('with SIGN_IN_PASSWORD: a wrong one is refused, the right one signs in', async () => {
    const users = make({ SIGN_IN_PASSWORD: SHARED_PASSWORD });
    await expect(users.signIn({ username: 'anna', password: 'nope', ip: '1.2.3.4' })).rejects.toMatchObject({ reason: 'bad_credentials' });
    await expect(users.signIn({ username: 'anna', password: '', ip: '1.2.3.4' })).rejects.toMatchObject({ reason: 'bad_input' });
    const { session } = await users.signIn({ username: 'anna', password: SHARED_PASSWORD, ip: '1.2.3.4' });
    expect(session.userId).toBe('anna');
  });

  test('the store knows the cookie only by its hash, and never the shared password', async () => {
    const users = make({ SIGN_IN_PASSWORD: SHARED_PASSWORD });
    const { cookie, session } = await users.signIn({ username: 'anna', password: SHARED_PASSWORD, ip: '1.2.3.4' });
    const entries = [...(await state.list('usercookie')), ...(await state.list('usersession'))];
    expect(entries).toHaveLength(2);
    const dump = JSON.stringify(entries);
    expect(dump).not.toContain(cookie);
    expect(dump).not.toContain(SHARED_PASSWORD);
    expect(await state.list('usercookie')).toEqual([expect.objectContaining({ value: session.sid })]);
  });

  test('a session ends at its TTL, at sign-out and when revoked', async () => {
    const users = make({});
    const a = await users.signIn({ username: 'a', password: '', ip: '1.2.3.4' });
    const b = await users.signIn({ username: 'b', password: '', ip: '1.2.3.4' });
    const c = await users.signIn({ username: 'c', password: '', ip: '1.2.3.4' });
    await users.signOut(a.cookie);
    await users.revoke(b.session.sid);
    expect(await users.sessionOfCookie(a.cookie)).toBeNull();
    expect(await users.session(a.session.sid)).toBeNull();
    expect(await users.sessionOfCookie(b.cookie)).toBeNull();
    expect((await users.sessionOfCookie(c.cookie))?.userId).toBe('c');
    clock += 3600_000;
    expect(await users.sessionOfCookie(c.cookie)).toBeNull();
    expect(await users.session(c.session.sid)).toBeNull();
    await expect(users.driveOf(c.session)).rejects.toBeInstanceOf(SignInError);
  });

  test('sign-ins with garbage session ids or revocations of unknown ones are harmless', async () => {
    const users = make({});
    for (const sid of ['', 'x', 'A'.repeat(24), 'A'.repeat(5000), '../x', undefined as unknown as string]) {
      expect(await users.session(sid)).toBeNull();
      await expect(users.revoke(sid)).resolves.toBeUndefined();
    }
  });

  test('Nextcloud sign-in in service mode is the wrong mode', async () => {
    const users = make({});
    await expect(users.startNextcloudLogin('1.2.3.4')).rejects.toMatchObject({ reason: 'wrong_mode' });
    await expect(users.pollNextcloudLogin('x')).rejects.toMatchObject({ reason: 'wrong_mode' });
  });

  test('five wrong shared passwords from one address: the sixth attempt waits', async () => {
    const users = make({ SIGN_IN_PASSWORD: SHARED_PASSWORD });
    for (let i = 0; i < 5; i++) await expect(users.signIn({ username: 'anna', password: `x${i}`, ip: '9.9.9.9' })).rejects.toMatchObject({ reason: 'bad_credentials' });
    await expect(users.signIn({ username: 'anna', password: SHARED_PASSWORD, ip: '9.9.9.9' })).rejects.toMatchObject({ reason: 'rate_limited', retryAfterSeconds: 900 });
    clock += 900_000 + 1;
    await expect(users.signIn({ username: 'anna', password: SHARED_PASSWORD, ip: '9.9.9.9' })).resolves.toBeDefined();
  });
});
