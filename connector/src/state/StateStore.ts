/**
 * The bridge's durable state (locks, file ids, the versions editors loaded) as namespaced string values with an
 * optional expiry. One atomic primitive, compareAndSet, is all the lock rules need; every backend implements it
 * atomically (a SQLite IMMEDIATE transaction, a Redis Lua script).
 */
export interface StateStore {
  /** The value, or null when absent or expired. */
  get(ns: string, key: string): Promise<string | null>;
  /** Sets a value; ttlMs undefined = no expiry. */
  set(ns: string, key: string, value: string, ttlMs?: number): Promise<void>;
  /** Removes a value (no error when absent). */
  delete(ns: string, key: string): Promise<void>;
  /**
   * Atomically: when the current value (null = absent or expired) equals `expected`, replace it with `next`
   * (null = delete) and report ok; otherwise change nothing and report the current value.
   */
  compareAndSet(ns: string, key: string, expected: string | null, next: string | null, ttlMs?: number): Promise<CasResult>;
  /** Every live entry of a namespace (for diagnostics; not on request paths). */
  list(ns: string): Promise<Array<{ key: string; value: string; expiresAt: number | null }>>;
  close(): Promise<void>;
}

export interface CasResult {
  ok: boolean;
  /** The value after the call: `next` when ok, else the value that blocked it. */
  current: string | null;
}
