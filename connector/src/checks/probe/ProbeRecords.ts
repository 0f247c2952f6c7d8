/**
 * One-time probe URLs of the "DocumentServer reaches the bridge" check, kept in the state store (namespace
 * `probe`, short expiry) so that any instance behind a load balancer can receive DS's request and the instance
 * that runs the check still sees what arrived. A record holds what the request carried: which headers had a
 * `Bearer` token (with the token, which only the check verifies: the probe endpoint does not know which secret
 * is being checked — "Check without saving" tries settings not yet in force).
 */
import { randomBytes } from 'node:crypto';
import type { StateStore } from '../../state/StateStore.js';

/** State-store namespace of the probe records. */
export const PROBE_NAMESPACE = 'probe';

/** Path prefix of the probe endpoint: `{PUBLIC_URL}/probe/<id>`. */
export const PROBE_PATH = '/probe';

/** How long a probe id stays usable (ms): longer than any check run, short enough to leave nothing behind. */
export const PROBE_TTL_MS = 5 * 60_000;

/** Arrivals kept per probe (DS retries a failed download twice: captures `84`, `85`). */
const MAX_ARRIVALS = 5;
/** Longest token kept (DS's outbox tokens are about 250 bytes). */
const MAX_TOKEN_CHARS = 4096;
/** Bearer tokens kept per request. */
const MAX_TOKENS = 4;

/** A `Bearer` token found in a request header. */
export interface ArrivedToken {
  /** Header name, lower case. */
  header: string;
  /** The JWT (kept only until the check reads the record). */
  token: string;
}

/** One request that reached the probe endpoint. */
export interface ProbeArrival {
  /** Bridge time of arrival (ms). */
  at: number;
  method: string;
  /** Every `Bearer` token in the request's headers. */
  tokens: ArrivedToken[];
  /** Whether an `Authorization` header came at all (a proxy may strip it). */
  hasAuthorization: boolean;
  /** `User-Agent` (DS's FileConverter sends `Node.js/6.13`), cut to 100 characters. */
  userAgent: string;
}

/** A probe: created by the check, filled by the endpoint. */
export interface ProbeRecord {
  created: number;
  arrivals: ProbeArrival[];
}

/** Reads a stored record; null for anything else. */
function parseRecord(raw: string | null): ProbeRecord | null {
  if (raw === null) return null;
  try {
    const o = JSON.parse(raw) as Partial<ProbeRecord>;
    if (typeof o !== 'object' || o === null || typeof o.created !== 'number' || !Array.isArray(o.arrivals)) return null;
    return { created: o.created, arrivals: o.arrivals };
  } catch {
    return null;
  }
}

/** The probe records over a state store. */
export class ProbeRecords {
  /**
   * @param state - the bridge's state store (shared between instances with Redis)
   * @param now - clock (ms)
   */
  constructor(
    private readonly state: StateStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Creates a one-time probe.
   * @param bridgeUrl - the bridge's public URL (PUBLIC_URL)
   * @returns the id and the URL DS is to fetch
   * @throws whatever the state store throws
   */
  async create(bridgeUrl: string): Promise<{ id: string; url: string }> {
    const id = randomBytes(16).toString('hex');
    const record: ProbeRecord = { created: this.now(), arrivals: [] };
    await this.state.set(PROBE_NAMESPACE, id, JSON.stringify(record), PROBE_TTL_MS);
    return { id, url: `${bridgeUrl.replace(/\/+$/, '')}${PROBE_PATH}/${id}` };
  }

  /**
   * Records a request for a probe.
   * @param id - the probe id from the URL
   * @param arrival - what the request carried
   * @returns false when no such probe exists (unknown or expired id: nothing is written)
   */
  async recordArrival(id: string, arrival: ProbeArrival): Promise<boolean> {
    if (!isProbeId(id)) return false;
    const clean: ProbeArrival = {
      ...arrival,
      tokens: arrival.tokens.slice(0, MAX_TOKENS).map((t) => ({ header: t.header.slice(0, 64), token: t.token.slice(0, MAX_TOKEN_CHARS) })),
      userAgent: arrival.userAgent.slice(0, 100),
    };
    // Compare-and-set: DS's retries, or two instances, may record at the same moment.
    for (let attempt = 0; attempt < 5; attempt++) {
      const raw = await this.state.get(PROBE_NAMESPACE, id);
      const record = parseRecord(raw);
      if (record === null) return false;
      if (record.arrivals.length >= MAX_ARRIVALS) return true;
      const next: ProbeRecord = { ...record, arrivals: [...record.arrivals, clean] };
      const remaining = Math.max(1000, record.created + PROBE_TTL_MS - this.now());
      const cas = await this.state.compareAndSet(PROBE_NAMESPACE, id, raw, JSON.stringify(next), remaining);
      if (cas.ok) return true;
    }
    return true;
  }

  /**
   * Reads a probe and removes it (its tokens go with it).
   * @param id - the probe id
   * @returns the record, or null when it expired
   */
  async take(id: string): Promise<ProbeRecord | null> {
    const record = parseRecord(await this.state.get(PROBE_NAMESPACE, id));
    await this.state.delete(PROBE_NAMESPACE, id);
    return record;
  }
}

/** Whether a string has the shape of a probe id (32 hex digits). */
export function isProbeId(id: string): boolean {
  return /^[0-9a-f]{32}$/.test(id);
}
