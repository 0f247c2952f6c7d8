import { Agent as HttpsAgent } from 'node:https';
import axios from 'axios';
import type { Logger } from '../logging/createLogger.js';
import { importProofKeys, type ProofKeys } from '../proof/proofKeys.js';
import { parseDiscovery, type Discovery } from './parseDiscovery.js';

/** A discovery as fetched, with its proof keys imported once. */
export interface DiscoverySnapshot {
  discovery: Discovery;
  /** null when DS publishes no proof key (the default unless keys are configured on DS). */
  keys: ProofKeys | null;
  fetchedAt: number;
}

/** Why a fetch failed, in words an admin can act on. */
export class DiscoveryFetchError extends Error {
  constructor(message: string, readonly status: number | null, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiscoveryFetchError';
  }
}

export interface DiscoveryClientOptions {
  /** DS as the bridge reaches it, e.g. http://docs:80 (no trailing slash). */
  internalUrl: string;
  refreshMs: number;
  timeoutMs: number;
  log: Logger;
  /** Least time between two refetches caused by failed proofs (a flood of bad requests must not flood DS). */
  minRefetchMs?: number;
  now?: () => number;
  /** Verify DS's certificate (DOCS_TLS_VERIFY) and trust an extra CA (DOCS_CA_FILE's content). */
  tls?: { verify: boolean; ca?: string | Buffer | null };
}

/**
 * DS's `/hosting/discovery`: fetched with axios, parsed, cached, fetched again on a timer and — at most once per
 * minRefetchMs — when a proof fails or passes only with the old key, so a key rotation on DS does not break editing.
 * Concurrent callers share one fetch.
 */
export class DiscoveryClient {
  private snapshot: DiscoverySnapshot | null = null;
  private inflight: Promise<DiscoverySnapshot> | null = null;
  private lastRefetch = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly agent: HttpsAgent | null;

  constructor(private readonly opts: DiscoveryClientOptions) {
    this.now = opts.now ?? Date.now;
    const tls = opts.tls;
    this.agent = tls && (!tls.verify || tls.ca) ? new HttpsAgent({ rejectUnauthorized: tls.verify, ...(tls.ca ? { ca: tls.ca } : {}) }) : null;
  }

  /** The discovery URL asked. */
  get url(): string {
    return `${this.opts.internalUrl}/hosting/discovery`;
  }

  /** The cached snapshot, or null before the first successful fetch. */
  cached(): DiscoverySnapshot | null {
    return this.snapshot;
  }

  /** The cached snapshot, fetching it first when there is none (or it is older than the refresh interval). */
  async get(): Promise<DiscoverySnapshot> {
    if (this.snapshot && this.now() - this.snapshot.fetchedAt < this.opts.refreshMs) return this.snapshot;
    return this.refresh();
  }

  /**
   * Fetches discovery now (one fetch shared by concurrent callers).
   * @throws DiscoveryFetchError (unreachable, HTTP error, not a discovery) or DiscoveryError (parse)
   */
  refresh(): Promise<DiscoverySnapshot> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /**
   * Refetches after a failed proof, unless that was done less than minRefetchMs ago.
   * @returns the new snapshot, or null when no refetch was made (or it failed)
   */
  async refetchAfterProofFailure(): Promise<DiscoverySnapshot | null> {
    if (this.now() - this.lastRefetch < (this.opts.minRefetchMs ?? 10_000)) return null;
    this.lastRefetch = this.now();
    try {
      return await this.refresh();
    } catch (e) {
      this.opts.log.warn({ err: e }, 'discovery refetch failed');
      return null;
    }
  }

  /** Starts the periodic refresh (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch((e: unknown) => this.opts.log.warn({ err: e, url: this.url }, 'discovery refresh failed'));
    }, this.opts.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async fetch(): Promise<DiscoverySnapshot> {
    let res;
    try {
      res = await axios.get<string>(this.url, {
        timeout: this.opts.timeoutMs,
        responseType: 'text',
        transformResponse: (d: string) => d,
        validateStatus: () => true,
        maxContentLength: 10 * 1024 * 1024,
        ...(this.agent ? { httpsAgent: this.agent } : {}),
      });
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'error';
      throw new DiscoveryFetchError(`DocumentServer cannot be reached at ${this.url} (${code})`, null, { cause: e });
    }
    if (res.status === 404) throw new DiscoveryFetchError('DocumentServer answers 404 for /hosting/discovery: WOPI is disabled (wopi.enable)', 404);
    if (res.status === 403) throw new DiscoveryFetchError('DocumentServer refuses the bridge (403): its ipfilter blocks this address', 403);
    if (res.status !== 200) throw new DiscoveryFetchError(`DocumentServer answered ${res.status} for /hosting/discovery`, res.status);
    const discovery = parseDiscovery(String(res.data));
    const keys = discovery.proofKey ? importProofKeys(discovery.proofKey) : null;
    const snapshot = { discovery, keys, fetchedAt: this.now() };
    const changed = this.snapshot?.discovery.proofKey?.modulus !== discovery.proofKey?.modulus;
    this.snapshot = snapshot;
    if (changed) this.opts.log.info({ proofKeys: keys !== null, apps: discovery.apps.length }, 'discovery loaded');
    return snapshot;
  }
}
