import type { StorageAdapter } from '../storage/StorageAdapter.js';
import type { StateStore } from '../state/StateStore.js';
import type { DiscoveryClient } from '../discovery/DiscoveryClient.js';

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

/**
 * Whether the bridge can serve: the drive answers a PROPFIND of its root, the state store answers a read, and DS's
 * discovery can be had (when a DS is configured). Each part is bounded by timeoutMs; all run in parallel.
 */
export async function checkReadiness(deps: { storage: StorageAdapter; state: StateStore; discovery: DiscoveryClient | null }, timeoutMs = 3000): Promise<Readiness> {
  const [storage, state, docs] = await Promise.all([
    probe(() => deps.storage.stat('/'), timeoutMs),
    probe(() => deps.state.get('health', 'probe'), timeoutMs),
    deps.discovery ? probe(() => deps.discovery?.get() ?? Promise.resolve(), timeoutMs) : Promise.resolve(null),
  ]);
  return { ready: storage.ok && state.ok && (docs === null || docs.ok), storage, state, docs };
}
