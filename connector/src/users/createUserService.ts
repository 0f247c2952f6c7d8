/**
 * The user service: signs people in (their own WebDAV credentials, Nextcloud Login Flow v2, or a name over the
 * service account), keeps their sessions in the state store and gives each session its drive.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config, SignInMode, StorageFlavour } from '../config/config.js';
import type { Logger } from '../logging/createLogger.js';
import type { StateStore } from '../state/StateStore.js';
import { StorageError, type StorageAdapter } from '../storage/StorageAdapter.js';
import { WebdavStorage } from '../storage/webdav/WebdavStorage.js';
import { FileIndex } from '../files/FileIndex.js';
import { LoginLimiter } from '../admin/LoginLimiter.js';
import { SignInError, type UserDrive, type UserService, type UserSession } from './types.js';
import { UserSessions, toUserSession, type SessionRecord } from './UserSessions.js';
import type { DriveCredentials } from './credentialCipher.js';
import { DriveCache } from './DriveCache.js';
import { userDavRoot } from './userDavRoot.js';
import { validName, validPassword } from './signInInput.js';
import { FlowConsumedError, LOGIN_FLOW_LIFETIME_MS, NextcloudLoginFlow, nextcloudBaseOf } from './nextcloudLoginFlow.js';
import { PendingLogins } from './PendingLogins.js';

/** What the user service is built on. */
export interface UserServiceDeps {
  config: Config;
  log: Logger;
  state: StateStore;
  /** The configured drive (the service account) and its file ids (scope ''). */
  storage: StorageAdapter;
  files: FileIndex;
  flavour: StorageFlavour;
  /** Whether the configured drive is the embedded one. */
  embedded: boolean;
  /** WebDAV URL of the configured drive. */
  davUrl: string;
  /** Failed sign-ins per client address (default: 5 in 15 minutes). */
  limiter?: LoginLimiter;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * The sign-in mode in force: SIGN_IN_MODE, or for 'auto' service on the embedded drive, nextcloud on a Nextcloud
 * drive and webdav otherwise.
 */
export function resolveSignInMode(configured: 'auto' | SignInMode, embedded: boolean, flavour: StorageFlavour): SignInMode {
  if (configured !== 'auto') return configured;
  if (embedded) return 'service';
  return flavour === 'nextcloud' ? 'nextcloud' : 'webdav';
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The person-facing message for a drive that failed the credential check (never the URL or the password). */
function signInErrorOf(e: unknown, who: 'webdav' | 'nextcloud'): SignInError {
  if (e instanceof SignInError) return e;
  if (e instanceof StorageError) {
    if (e.kind === 'unavailable' && e.detail.auth === true) {
      return new SignInError(
        'bad_credentials',
        who === 'webdav' ? 'The drive did not accept this user name and password' : 'Nextcloud did not accept the app password it just issued; sign in again',
      );
    }
    if (e.kind === 'not_found' || e.kind === 'forbidden') return new SignInError('bad_credentials', 'The drive has no files folder for this user name');
    const what =
      e.detail.timeout === true
        ? 'it did not answer in time'
        : typeof e.detail.status === 'number'
          ? `it answered ${e.detail.status}`
          : typeof e.detail.network === 'string'
            ? `network error ${e.detail.network}`
            : e.message;
    return new SignInError('drive_unreachable', `The drive could not check the sign-in (${what}); try again later`);
  }
  return new SignInError('drive_unreachable', 'The drive could not check the sign-in; try again later');
}

/**
 * Builds the user service.
 * @param deps configuration, state store and the configured drive
 */
export function createUserService(deps: UserServiceDeps): UserService {
  const { config, log, state } = deps;
  const mode = resolveSignInMode(config.signIn.mode, deps.embedded, deps.flavour);
  const now = deps.now ?? Date.now;
  const sessions = new UserSessions(state, config.tokens.secret, config.signIn.sessionTtlSeconds * 1000, now);
  const pending = new PendingLogins(state, config.tokens.secret, LOGIN_FLOW_LIFETIME_MS, now);
  const limiter = deps.limiter ?? new LoginLimiter({ now });
  // Starting a flow costs Nextcloud a database row: at most 30 starts per address in 15 minutes.
  const startLimiter = new LoginLimiter({ maxFailures: 30, now });
  const drives = new DriveCache();
  const baseUrl = deps.davUrl.replace(/\/+$/, '');
  const storageUrl = config.storage.url ?? baseUrl;
  const loginFlow = mode === 'nextcloud' ? new NextcloudLoginFlow(nextcloudBaseOf(storageUrl), Math.min(config.storage.timeoutMs, 30_000)) : null;
  const ulog = log.child({ component: 'users' });

  const scopeOf = (root: string): string => (root === baseUrl ? '' : createHash('sha256').update(root, 'utf8').digest('hex').slice(0, 16));
  const openDrive = (root: string, credentials: DriveCredentials): { drive: UserDrive; storage: StorageAdapter } => {
    const storage = new WebdavStorage({ url: root, username: credentials.username, password: credentials.password, flavour: deps.flavour, timeoutMs: config.storage.timeoutMs });
    return { storage, drive: { storage, files: new FileIndex(state, storage, scopeOf(root)) } };
  };

  /** Checks credentials with one PROPFIND (Depth 0) of the person's root; the adapter stays open for the session. */
  const checkedDrive = async (root: string, credentials: DriveCredentials, who: 'webdav' | 'nextcloud') => {
    const opened = openDrive(root, credentials);
    try {
      await opened.storage.stat('/');
      return opened;
    } catch (e) {
      await opened.storage.close();
      throw signInErrorOf(e, who);
    }
  };

  const startSession = async (record: Omit<SessionRecord, 'sid' | 'csrfToken' | 'createdAt' | 'expiresAt' | 'cookieKey' | 'credentials'>, credentials: DriveCredentials | null, opened: { drive: UserDrive; storage: StorageAdapter } | null) => {
    const { cookie, record: created } = await sessions.create({ userId: record.userId, userName: record.userName, mode: record.mode, root: record.root, credentials });
    if (opened) drives.set(created.sid, opened.drive, opened.storage);
    ulog.info({ user: created.userId, mode: created.mode }, 'signed in');
    return { cookie, session: toUserSession(created) };
  };

  return {
    mode,

    async signIn(input) {
      if (mode === 'nextcloud') throw new SignInError('wrong_mode', 'This bridge signs in through Nextcloud; use "Sign in with Nextcloud"');
      const ip = typeof input.ip === 'string' && input.ip !== '' ? input.ip : 'unknown';
      const wait = limiter.retryAfterSeconds(ip);
      if (wait !== null) throw new SignInError('rate_limited', `Too many failed sign-ins; try again in ${wait} seconds`, wait);
      const name = validName(input.username, mode === 'webdav');
      const password = validPassword(input.password, mode === 'webdav' || config.signIn.password !== null);
      // Counted before checking (and cleared on success), so attempts sent in parallel count too.
      limiter.failed(ip);
      let result: { cookie: string; session: UserSession };
      if (mode === 'service') {
        if (config.signIn.password !== null && !sameSecret(password, config.signIn.password)) {
          ulog.info({ result: 'bad_credentials' }, 'sign-in refused');
          throw new SignInError('bad_credentials', 'Wrong password');
        }
        result = await startSession({ userId: name, userName: name, mode, root: null }, null, null);
      } else {
        const root = userDavRoot(storageUrl, name);
        const credentials = { username: name, password };
        let opened;
        try {
          opened = await checkedDrive(root, credentials, 'webdav');
        } catch (e) {
          ulog.info({ result: (e as SignInError).reason }, 'sign-in refused');
          throw e;
        }
        result = await startSession({ userId: name, userName: name, mode, root }, credentials, opened);
      }
      limiter.succeeded(ip);
      return result;
    },

    async startNextcloudLogin(ip) {
      if (loginFlow === null) throw new SignInError('wrong_mode', 'Sign in with a user name and password');
      const address = typeof ip === 'string' && ip !== '' ? ip : 'unknown';
      const wait = startLimiter.retryAfterSeconds(address);
      if (wait !== null) throw new SignInError('rate_limited', `Too many sign-ins started; try again in ${wait} seconds`, wait);
      startLimiter.failed(address);
      const flow = await loginFlow.start();
      const pendingId = await pending.create(flow);
      return { pendingId, loginUrl: flow.loginUrl };
    },

    async pollNextcloudLogin(pendingId) {
      if (loginFlow === null) throw new SignInError('wrong_mode', 'Sign in with a user name and password');
      const flow = await pending.get(pendingId);
      if (flow === null) throw new SignInError('flow_expired', 'This sign-in has expired or was already used; start again');
      let granted;
      try {
        granted = await loginFlow.poll(flow);
      } catch (e) {
        if (e instanceof FlowConsumedError) await pending.delete(pendingId);
        throw e;
      }
      if (granted === null) return null;
      // Nextcloud hands the app password out once: the flow is used up whatever happens next.
      await pending.delete(pendingId);
      // WebDAV paths use the user id, which differs from the login name when people log in with an e-mail address.
      const account = (await loginFlow.account(granted.loginName, granted.appPassword)) ?? { id: granted.loginName, displayName: granted.loginName };
      const root = userDavRoot(storageUrl, account.id);
      const credentials = { username: granted.loginName, password: granted.appPassword };
      const opened = await checkedDrive(root, credentials, 'nextcloud');
      return startSession({ userId: account.id, userName: account.displayName, mode, root }, credentials, opened);
    },

    async sessionOfCookie(cookie) {
      const record = await sessions.ofCookie(cookie);
      return record === null ? null : toUserSession(record);
    },

    async session(sid) {
      if (typeof sid !== 'string') return null;
      const record = await sessions.get(sid);
      return record === null ? null : toUserSession(record);
    },

    async driveOf(session) {
      const cached = drives.get(session.sid);
      if (cached) return cached;
      const record = await sessions.get(session.sid);
      if (record === null) throw new SignInError('bad_credentials', 'Your session has ended; sign in again');
      if (record.root === null) {
        const drive = { storage: deps.storage, files: deps.files };
        drives.set(record.sid, drive, null);
        return drive;
      }
      const credentials = sessions.credentialsOf(record);
      if (credentials === null) {
        // Another secret since sign-in (WOPI_TOKEN_SECRET changed) or a damaged record: it cannot be used again.
        await sessions.delete(record);
        throw new SignInError('bad_credentials', 'Your session has ended; sign in again');
      }
      const opened = openDrive(record.root, credentials);
      drives.set(record.sid, opened.drive, opened.storage);
      return opened.drive;
    },

    async signOut(cookie) {
      const record = await sessions.ofCookie(cookie);
      if (record === null) return;
      const credentials = record.mode === 'nextcloud' ? sessions.credentialsOf(record) : null;
      await sessions.delete(record);
      drives.delete(record.sid);
      ulog.info({ user: record.userId, mode: record.mode }, 'signed out');
      // A client that disconnects revokes its own app password (fixture f-loginflow-14); best effort.
      if (credentials !== null && loginFlow !== null) {
        const revoked = await loginFlow.revokeAppPassword(credentials.username, credentials.password);
        if (!revoked) ulog.warn({ user: record.userId }, 'app password not revoked at Nextcloud');
      }
    },

    async revoke(sid) {
      if (typeof sid !== 'string') return;
      const record = await sessions.deleteById(sid);
      drives.delete(sid);
      if (record !== null) ulog.info({ user: record.userId, mode: record.mode }, 'session revoked');
    },

    async close() {
      await drives.close();
    },
  };
}

