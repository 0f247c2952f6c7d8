import type { CasResult, StateStore } from './StateStore.js';

/** In-memory StateStore for unit tests; same semantics as the durable ones, nothing kept across restarts. */
export class MemoryStateStore implements StateStore {
  private readonly data = new Map<string, { value: string; expiresAt: number | null }>();

  constructor(private readonly now: () => number = Date.now) {}

  private live(ns: string, key: string): string | null {
    const e = this.data.get(`${ns}\u0000${key}`);
    if (!e) return null;
    if (e.expiresAt !== null && e.expiresAt <= this.now()) {
      this.data.delete(`${ns}\u0000${key}`);
      return null;
    }
    return e.value;
  }

  async get(ns: string, key: string): Promise<string | null> {
    return this.live(ns, key);
  }

  async set(ns: string, key: string, value: string, ttlMs?: number): Promise<void> {
    this.data.set(`${ns}\u0000${key}`, { value, expiresAt: ttlMs === undefined ? null : this.now() + ttlMs });
  }

  async delete(ns: string, key: string): Promise<void> {
    this.data.delete(`${ns}\u0000${key}`);
  }

  async compareAndSet(ns: string, key: string, expected: string | null, next: string | null, ttlMs?: number): Promise<CasResult> {
    const current = this.live(ns, key);
    if (current !== expected) return { ok: false, current };
    if (next === null) this.data.delete(`${ns}\u0000${key}`);
    else this.data.set(`${ns}\u0000${key}`, { value: next, expiresAt: ttlMs === undefined ? null : this.now() + ttlMs });
    return { ok: true, current: next };
  }

  async list(ns: string): Promise<Array<{ key: string; value: string; expiresAt: number | null }>> {
    const out: Array<{ key: string; value: string; expiresAt: number | null }> = [];
    for (const [k, e] of this.data) {
      const [n, key] = k.split('\u0000') as [string, string];
      if (n === ns && this.live(ns, key) !== null) out.push({ key, value: e.value, expiresAt: e.expiresAt });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async close(): Promise<void> {}
}
