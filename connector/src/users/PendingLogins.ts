/**
 * Nextcloud login flows that were started and not yet finished (namespace `userlogin`). The page holds only our
 * own random id (pendingId, 32 bytes base64url); the store is keyed by its SHA-256 and keeps the poll token
 * encrypted, so the token that fetches an app password never reaches the browser or a store dump in clear. Entries
 * expire with the flow (20 minutes after it started).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { StateStore } from '../state/StateStore.js';
import { CredentialCipher } from './credentialCipher.js';
import type { StartedFlow } from './nextcloudLoginFlow.js';

/** State-store namespace of pending login flows. */
export const PENDING_LOGIN_NS = 'userlogin';
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

interface PendingRecord {
  token: string;
  endpoint: string;
  expiresAt: number;
}

function keyOf(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}

/** Started login flows by pendingId. */
export class PendingLogins {
  private readonly cipher: CredentialCipher;

  constructor(
    private readonly state: StateStore,
    secret: string,
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cipher = new CredentialCipher(secret);
  }

  /** Keeps a started flow; returns its pendingId. */
  async create(flow: Pick<StartedFlow, 'pollToken' | 'pollEndpoint'>): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const key = keyOf(id);
    const record: PendingRecord = { token: this.cipher.seal(flow.pollToken, key), endpoint: flow.pollEndpoint, expiresAt: this.now() + this.lifetimeMs };
    await this.state.set(PENDING_LOGIN_NS, key, JSON.stringify(record), this.lifetimeMs);
    return id;
  }

  /** The flow of a pendingId; null when malformed, unknown, used or older than the flow's lifetime. */
  async get(id: unknown): Promise<Pick<StartedFlow, 'pollToken' | 'pollEndpoint'> | null> {
    if (typeof id !== 'string' || !ID_PATTERN.test(id)) return null;
    const key = keyOf(id);
    const raw = await this.state.get(PENDING_LOGIN_NS, key);
    if (raw === null) return null;
    try {
      const r = JSON.parse(raw) as Partial<PendingRecord>;
      if (typeof r.token !== 'string' || typeof r.endpoint !== 'string' || typeof r.expiresAt !== 'number' || r.expiresAt <= this.now()) return null;
      const token = this.cipher.open(r.token, key);
      return typeof token === 'string' ? { pollToken: token, pollEndpoint: r.endpoint } : null;
    } catch {
      return null;
    }
  }

  /** Forgets a flow (used up or failed for good). */
  async delete(id: string): Promise<void> {
    if (ID_PATTERN.test(id)) await this.state.delete(PENDING_LOGIN_NS, keyOf(id));
  }
}
