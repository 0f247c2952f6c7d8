/**
 * The contract between sign-in (connector/src/users/) and the pages that use it (connector/src/web/): who is signed
 * in, and which drive their WOPI requests reach. Cookies, CSRF and HTML belong to the pages; credentials, sessions
 * and drives belong to the user service.
 */
import type { SignInMode } from '../config/config.js';
import type { StorageAdapter } from '../storage/StorageAdapter.js';
import type { FileIndex } from '../files/FileIndex.js';

/** Name of the cookie that holds a user session's cookie value (HttpOnly, SameSite=Lax, Secure behind HTTPS). */
export const USER_COOKIE = 'wopi_session';

/** A signed-in person. Never holds a credential. */
export interface UserSession {
  /** Session id: random, put in access tokens (claim `sid`); not the cookie value, which is never stored. */
  sid: string;
  /** Stable user id (lock owner, PutUserInfo key), e.g. `alice`; the same person gets the same id in every session. */
  userId: string;
  /** Name shown in the editor and the page. */
  userName: string;
  mode: SignInMode;
  /** Token the pages must receive with every form POST (CSRF). */
  csrfToken: string;
  /** ISO time of sign-in. */
  createdAt: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

/** The drive as one signed-in person reaches it: their credentials, their root, their file ids. */
export interface UserDrive {
  storage: StorageAdapter;
  files: FileIndex;
}

/** Why a sign-in failed; `message` is written for the person signing in (no secrets). */
export type SignInFailure =
  | 'bad_credentials' // the drive (or the shared password) refused them
  | 'rate_limited' // too many attempts; retryAfterSeconds says when to try again
  | 'drive_unreachable' // the drive did not answer; not the person's fault
  | 'flow_expired' // a Nextcloud login flow older than 20 minutes or unknown
  | 'wrong_mode' // e.g. a password sign-in while SIGN_IN_MODE=nextcloud
  | 'bad_input'; // empty or oversized name or password

export class SignInError extends Error {
  constructor(
    readonly reason: SignInFailure,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

/** Signs people in and out and gives each session its drive. One per running bridge. */
export interface UserService {
  /** The resolved mode (never 'auto'). */
  readonly mode: SignInMode;
  /**
   * Signs in with a name and password: WebDAV credentials checked against the drive (mode webdav), or a name plus the
   * shared SIGN_IN_PASSWORD (mode service; password ignored when none is configured).
   * @param ip client address, for the brute-force limiter
   * @returns the cookie value to set and the session
   * @throws SignInError
   */
  signIn(input: { username: string; password: string; ip: string }): Promise<{ cookie: string; session: UserSession }>;
  /**
   * Starts a Nextcloud Login Flow v2 (mode nextcloud): the person opens `loginUrl` (Nextcloud's own page) and the
   * page then polls with `pendingId` (opaque, random; keep it in a short-lived cookie, not in a URL).
   * @throws SignInError
   */
  startNextcloudLogin(ip: string): Promise<{ pendingId: string; loginUrl: string }>;
  /**
   * Polls Nextcloud once for a started flow.
   * @returns null while the person has not granted access yet; the new session once they have
   * @throws SignInError (flow_expired for an unknown, used or old flow)
   */
  pollNextcloudLogin(pendingId: string): Promise<{ cookie: string; session: UserSession } | null>;
  /** The session of a cookie value; null when malformed, unknown, expired or signed out. */
  sessionOfCookie(cookie: string | undefined): Promise<UserSession | null>;
  /** The session of a session id (from an access token's `sid`); null when unknown, expired or signed out. */
  session(sid: string): Promise<UserSession | null>;
  /** The drive of a session: its own credentials and WebDAV root. */
  driveOf(session: UserSession): Promise<UserDrive>;
  /** Signs out: the session, its stored credentials and every access token issued for it stop working. */
  signOut(cookie: string | undefined): Promise<void>;
  /** Ends a session by id (e.g. the drive revoked its app password). */
  revoke(sid: string): Promise<void>;
  close(): Promise<void>;
}
