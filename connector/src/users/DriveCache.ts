/**
 * The drives of live sessions, one WebDAV adapter (with its own keep-alive connections) per session id, so each
 * WOPI request does not build a client. Bounded: beyond `max` sessions the least recently used adapter is closed
 * (the next request of that session simply builds a new one). Sign-out and revocation close theirs at once.
 */
import type { StorageAdapter } from '../storage/StorageAdapter.js';
import type { UserDrive } from './types.js';

interface Entry {
  drive: UserDrive;
  /** Closed on eviction; null when the drive is shared (the configured one) and must stay open. */
  owned: StorageAdapter | null;
}

/** LRU map of session id → drive. */
export class DriveCache {
  private readonly entries = new Map<string, Entry>();

  /** @param max most drives kept open */
  constructor(private readonly max: number = 256) {}

  /** The cached drive of a session (and marks it recently used). */
  get(sid: string): UserDrive | null {
    const e = this.entries.get(sid);
    if (!e) return null;
    this.entries.delete(sid);
    this.entries.set(sid, e);
    return e.drive;
  }

  /**
   * Keeps a drive; closes the one it replaces and the least recently used beyond the bound.
   * @param owned the adapter to close when the entry goes (null for the shared configured drive)
   */
  set(sid: string, drive: UserDrive, owned: StorageAdapter | null): void {
    const old = this.entries.get(sid);
    this.entries.delete(sid);
    if (old && old.owned !== null && old.owned !== owned) void old.owned.close();
    this.entries.set(sid, { drive, owned });
    while (this.entries.size > this.max) {
      const first = this.entries.keys().next();
      if (first.done) break;
      this.delete(first.value);
    }
  }

  /** Drops and closes a session's drive (no error when absent). */
  delete(sid: string): void {
    const e = this.entries.get(sid);
    if (!e) return;
    this.entries.delete(sid);
    if (e.owned !== null) void e.owned.close();
  }

  /** How many drives are open (tests). */
  get size(): number {
    return this.entries.size;
  }

  /** Closes every drive. */
  async close(): Promise<void> {
    const owned = [...this.entries.values()].map((e) => e.owned);
    this.entries.clear();
    await Promise.all(owned.map((s) => s?.close()));
  }
}
