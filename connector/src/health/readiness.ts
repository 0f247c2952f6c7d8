import type { StorageAdapter } from '../storage/StorageAdapter.js';
import type { StateStore } from '../state/StateStore.js';
import type { DiscoveryClient } from '../discovery/DiscoveryClient.js';
import type { Config } from '../config/config.js';
import { endpoint } from '../checks/docsUrls.js';
import { isTransportFailure, probeHttp, resolveTls } from '../checks/probeHttp.js';

/**
 * How long a DS probe's result is reused (ms): /readyz is unauthenticated and polled by load balancers, so a flood
 * of it must not become a flood on DS; short enough that "DS went down" shows within seconds.
 */
export const DOCS_PROBE_CACHE_MS = 2000;

/** One dependency's state for /readyz. */
export interface ReadinessPart {
  ok: boolean;
  /** A short reason when not ok (no URLs with credentials, no secrets). */
  reason?: string;
  ms: number;
}

export interface Readiness {
  ready: boolean;
  storage: ReadinessPart;
  state: ReadinessPart;
  /** null when no DocumentServer is configured. */
  docs: ReadinessPart | null;
}

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<ReadinessPart> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Date.now() - started };
  } catch (e) {
    return { ok: false, reason: (e as Error).message.slice(0, 200), ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/** The latest DS probe per configuration (one per app), and the one under way: callers in between share them. */
const docsProbes = new WeakMap<object, { at: number; result: Promise<ReadinessPart> }>();

/**
 * DS's own `/healthcheck` (200 `true`), bounded by timeoutMs and reused for DOCS_PROBE_CACHE_MS. Not the discovery
 * cache: that keeps answering for DISCOVERY_REFRESH_SECONDS after DS went down (WOPI goes on with the loaded keys).
 */
function probeDocs(docs: Config['docs'], timeoutMs: number): Promise<ReadinessPart> {
  const cached = docsProbes.get(docs);
  const now = Date.now();
  if (cached && now - cached.at < DOCS_PROBE_CACHE_MS) return cached.result;
  const result = (async (): Promise<ReadinessPart> => {
    const started = Date.now();
    const tls = await resolveTls({ tlsVerify: docs.tlsVerify, caFile: docs.caFile });
    if (isTransportFailure(tls)) return { ok: false, reason: tls.summary.slice(0, 200), ms: Date.now() - started };
    const res = await probeHttp(endpoint(docs.internalUrl as string, '/healthcheck'), { timeoutMs: Math.min(timeoutMs, docs.timeoutMs), tls });
    if (!res.ok) return { ok: false, reason: res.failure.summary.slice(0, 200), ms: res.ms };
    if (res.status === 200 && res.body.trim() === 'true') return { ok: true, ms: res.ms };
    const said = res.status === 200 ? `answered ${JSON.stringify(res.body.trim().slice(0, 20))} (one of its dependencies is down)` : `answered HTTP ${res.status}`;
    return { ok: false, reason: `DocumentServer's /healthcheck ${said}`, ms: res.ms };
  })();
  docsProbes.set(docs, { at: now, result });
  return result;
}

/**
 * Whether the bridge can serve: the drive answers a PROPFIND of its root, the state store answers a read, and DS's
 * /healthcheck answers true (when a DS is configured). Each part is bounded by timeoutMs; all run in parallel.
 */
export async function checkReadiness(
  deps: { storage: StorageAdapter; state: StateStore; discovery: DiscoveryClient | null; config: Pick<Config, 'docs'> },
  timeoutMs = 3000,
): Promise<Readiness> {
  const docsConfigured = deps.discovery !== null && deps.config.docs.internalUrl !== null;
  const [storage, state, docs] = await Promise.all([
    probe(() => deps.storage.stat('/'), timeoutMs),
    probe(() => deps.state.get('health', 'probe'), timeoutMs),
    docsConfigured ? probeDocs(deps.config.docs, timeoutMs) : Promise.resolve(null),
  ]);
  return { ready: storage.ok && state.ok && (docs === null || docs.ok), storage, state, docs };
}
