/**
 * Admin sessions in the state store (namespace `adminsession`), so that behind a load balancer every bridge sharing
 * Redis knows them. The cookie holds a random 32-byte id; the store is keyed by its SHA-256, so a dump of the store
 * does not yield usable cookies. Each session has its own CSRF token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { StateStore } from '../state/StateStore.js';

/** State-store namespace of admin sessions. */
export const ADMIN_SESSION_NS = 'adminsession';
/** Session lifetime: 8 hours from sign-in. */
export const ADMIN_SESSION_TTL_MS = 8 * 3600 * 1000;

/** A live session. */
export interface AdminSession {
  /** Token the page must send as X-CSRF-Token on every POST. */
  csrfToken: string;
  /** When it was created (ISO). */
  createdAt: string;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function keyOf(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** Creates, reads and revokes admin sessions. */
export class AdminSessions {
  constructor(
    private readonly state: StateStore,
    private readonly ttlMs: number = ADMIN_SESSION_TTL_MS,
  ) {}

  /** Session lifetime in ms (the cookie's Max-Age). */
  get lifetimeMs(): number {
    return this.ttlMs;
  }

  /**
   * Starts a session.
   * @returns the cookie value (32 random bytes, base64url) and the session
   */
  async create(): Promise<{ id: string; session: AdminSession }> {
    const id = randomBytes(32).toString('base64url');
    const session: AdminSession = { csrfToken: randomBytes(32).toString('base64url'), createdAt: new Date().toISOString() };
    await this.state.set(ADMIN_SESSION_NS, keyOf(id), JSON.stringify(session), this.ttlMs);
    return { id, session };
  }

  /**
   * The session of a cookie value.
   * @param id cookie value (anything the client sent)
   * @returns null when malformed, unknown, expired or revoked
   */
  async get(id: string | undefined): Promise<AdminSession | null> {
    if (id === undefined || !ID_PATTERN.test(id)) return null;
    const raw = await this.state.get(ADMIN_SESSION_NS, keyOf(id));
    if (raw === null) return null;
    try {
      const s = JSON.parse(raw) as Partial<AdminSession>;
      return typeof s.csrfToken === 'string' && typeof s.createdAt === 'string' ? { csrfToken: s.csrfToken, createdAt: s.createdAt } : null;
    } catch {
      return null;
    }
  }

  /** Ends a session (no error when it does not exist). */
  async revoke(id: string | undefined): Promise<void> {
    if (id === undefined || !ID_PATTERN.test(id)) return;
    await this.state.delete(ADMIN_SESSION_NS, keyOf(id));
  }
}

/**
 * Constant-time comparison of a CSRF token with the session's.
 * @param given header value (may be absent)
 * @param expected the session's token
 */
export function isCsrfTokenValid(given: string | undefined, expected: string): boolean {
  if (given === undefined || given === '') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
