/**
 * User sessions in the state store, shared by every bridge on the same Redis. The cookie holds 32 random bytes; the
 * store knows only their SHA-256 (namespace `usercookie`, → session id), so a dump of the store yields no usable
 * cookie. The session record (namespace `usersession`, keyed by session id) holds who it is, the WebDAV root and
 * the drive credentials AES-256-GCM encrypted; both entries expire after SESSION_TTL_SECONDS.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SignInMode } from '../config/config.js';
import type { StateStore } from '../state/StateStore.js';
import type { UserSession } from './types.js';
import { CredentialCipher, type DriveCredentials } from './credentialCipher.js';

/** State-store namespace: SHA-256 of a cookie value → session id. */
export const USER_COOKIE_NS = 'usercookie';
/** State-store namespace: session id → session record. */
export const USER_SESSION_NS = 'usersession';

const COOKIE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SID_PATTERN = /^[A-Za-z0-9_-]{24}$/;

/** What the store keeps per session (never a credential in clear). */
export interface SessionRecord extends UserSession {
  /** SHA-256 (hex) of the cookie value, so revoking by id also forgets the cookie. */
  cookieKey: string;
  /** WebDAV root of this person's drive; null = the configured drive (service account). */
  root: string | null;
  /** The drive credentials, sealed by {@link CredentialCipher}; null when the configured account is used. */
  credentials: string | null;
}

/** What a new session is made of. */
export interface NewSession {
  userId: string;
  userName: string;
  mode: SignInMode;
  root: string | null;
  credentials: DriveCredentials | null;
}

function hashOf(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** Whether a string has the shape of a session id (cheap check before any lookup). */
export function isSessionIdWellFormed(sid: string): boolean {
  return SID_PATTERN.test(sid);
}

/** Creates, finds and ends user sessions. */
export class UserSessions {
  private readonly cipher: CredentialCipher;

  /**
   * @param state the state store
   * @param secret WOPI_TOKEN_SECRET (credential key derived from it)
   * @param ttlMs session lifetime
   * @param now clock (tests)
   */
  constructor(
    private readonly state: StateStore,
    secret: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cipher = new CredentialCipher(secret);
  }

  /**
   * Starts a session.
   * @returns the cookie value (32 random bytes, base64url; stored only as its hash) and the session
   */
  async create(input: NewSession): Promise<{ cookie: string; record: SessionRecord }> {
    const cookie = randomBytes(32).toString('base64url');
    const sid = randomBytes(18).toString('base64url');
    const now = this.now();
    const record: SessionRecord = {
      sid,
      userId: input.userId,
      userName: input.userName,
      mode: input.mode,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: new Date(now).toISOString(),
      expiresAt: now + this.ttlMs,
      cookieKey: hashOf(cookie),
      root: input.root,
      credentials: input.credentials === null ? null : this.cipher.seal(input.credentials, sid),
    };
    await this.state.set(USER_SESSION_NS, sid, JSON.stringify(record), this.ttlMs);
    await this.state.set(USER_COOKIE_NS, record.cookieKey, sid, this.ttlMs);
    return { cookie, record };
  }

  /** The record of a session id; null when malformed, unknown, expired or ended. */
  async get(sid: string): Promise<SessionRecord | null> {
    if (!isSessionIdWellFormed(sid)) return null;
    const raw = await this.state.get(USER_SESSION_NS, sid);
    if (raw === null) return null;
    const record = parseRecord(raw);
    if (record === null || record.sid !== sid || record.expiresAt <= this.now()) return null;
    return record;
  }

  /** The record of a cookie value; null when malformed, unknown, expired or ended. */
  async ofCookie(cookie: string | undefined): Promise<SessionRecord | null> {
    if (cookie === undefined || !COOKIE_PATTERN.test(cookie)) return null;
    const key = hashOf(cookie);
    const sid = await this.state.get(USER_COOKIE_NS, key);
    if (sid === null) return null;
    const record = await this.get(sid);
    return record !== null && record.cookieKey === key ? record : null;
  }

  /** The decrypted drive credentials of a session; null when it has none or they cannot be read. */
  credentialsOf(record: SessionRecord): DriveCredentials | null {
    return record.credentials === null ? null : this.cipher.openCredentials(record.credentials, record.sid);
  }

  /** Ends a session: its record (with the credentials) and its cookie entry. No error when absent. */
  async delete(record: Pick<SessionRecord, 'sid' | 'cookieKey'>): Promise<void> {
    await this.state.delete(USER_SESSION_NS, record.sid);
    await this.state.delete(USER_COOKIE_NS, record.cookieKey);
  }

  /** Ends a session by id (no error when absent). */
  async deleteById(sid: string): Promise<SessionRecord | null> {
    if (!isSessionIdWellFormed(sid)) return null;
    const raw = await this.state.get(USER_SESSION_NS, sid);
    const record = raw === null ? null : parseRecord(raw);
    await this.state.delete(USER_SESSION_NS, sid);
    if (record !== null) await this.state.delete(USER_COOKIE_NS, record.cookieKey);
    return record;
  }
}

/** The public part of a record (what the pages get). */
export function toUserSession(r: SessionRecord): UserSession {
  return { sid: r.sid, userId: r.userId, userName: r.userName, mode: r.mode, csrfToken: r.csrfToken, createdAt: r.createdAt, expiresAt: r.expiresAt };
}

function parseRecord(raw: string): SessionRecord | null {
  try {
    const r = JSON.parse(raw) as Partial<SessionRecord>;
    const strings = [r.sid, r.userId, r.userName, r.mode, r.csrfToken, r.createdAt, r.cookieKey];
    if (strings.some((v) => typeof v !== 'string') || typeof r.expiresAt !== 'number') return null;
    if (!(r.root === null || typeof r.root === 'string') || !(r.credentials === null || typeof r.credentials === 'string')) return null;
    return r as SessionRecord;
  } catch {
    return null;
  }
}
