import type { StateStore } from '../state/StateStore.js';
import { decideLock, type LockRequest } from './lockRules.js';
import { LockConflictError, StateStoreError } from '../errors/errors.js';

const NS = 'lock';

/** What the store keeps per locked file. */
export interface LockState {
  id: string;
  /** When the lock was first taken (ms since epoch); kept across refreshes. */
  since: number;
}

function decode(raw: string | null): LockState | null {
  if (raw === null) return null;
  try {
    const v = JSON.parse(raw) as LockState;
    return typeof v.id === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * WOPI locks over a StateStore: each operation is one compare-and-set, retried when another request changed the
 * lock in between, so concurrent Lock attempts on one file give exactly one winner. Locks expire after ttlMs.
 */
export class Locks {
  constructor(private readonly store: StateStore, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  /** The live lock of a file, or null. */
  async get(fileId: string): Promise<LockState | null> {
    return decode(await this.store.get(NS, fileId));
  }

  /**
   * Applies a lock operation atomically.
   * @returns the lock before the operation (null when the file was unlocked)
   * @throws LockConflictError (409, carrying the current lock) when the rules refuse it
   */
  async apply(fileId: string, req: LockRequest): Promise<{ before: LockState | null }> {
    let raw = await this.store.get(NS, fileId);
    for (let attempt = 0; attempt < 8; attempt++) {
      const before = decode(raw);
      const decision = decideLock(req, before?.id ?? null);
      if (decision.result === 'conflict') throw new LockConflictError(before?.id ?? null, decision.reason);
      const next =
        decision.result === 'clear'
          ? null
          : JSON.stringify({ id: decision.id, since: before && before.id === decision.id ? before.since : this.now() } satisfies LockState);
      const cas = await this.store.compareAndSet(NS, fileId, raw, next, next === null ? undefined : this.ttlMs);
      if (cas.ok) return { before };
      raw = cas.current;
    }
    throw new StateStoreError({ op: 'lock', reason: 'too much contention' });
  }

  /**
   * Removes a lock whatever its id (sysadmin's release of a stuck lock), atomically: a lock taken between the read
   * and the removal is not removed by mistake (the removal is retried against what is there now).
   */
  async forceRelease(fileId: string): Promise<LockState | null> {
    let raw = await this.store.get(NS, fileId);
    for (let attempt = 0; attempt < 8; attempt++) {
      if (raw === null) return null;
      const cas = await this.store.compareAndSet(NS, fileId, raw, null);
      if (cas.ok) return decode(raw);
      raw = cas.current;
    }
    throw new StateStoreError({ op: 'forceRelease', reason: 'too much contention' });
  }

  /** Every live lock (diagnostics). */
  async list(): Promise<Array<{ fileId: string; lock: LockState; expiresAt: number | null }>> {
    const rows = await this.store.list(NS);
    return rows.flatMap((r) => {
      const lock = decode(r.value);
      return lock ? [{ fileId: r.key, lock, expiresAt: r.expiresAt }] : [];
    });
  }
}
