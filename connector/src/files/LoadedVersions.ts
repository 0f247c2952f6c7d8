import type { StateStore } from '../state/StateStore.js';

const NS = 'loaded';
/** A baseline older than this is dropped; the next Lock or GetFile sets a fresh one. */
const TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * The version of each file that the editing session loaded (set at Lock, GetFile and by each PutFile, the latter
 * inside the file's write lock). PutFile compares it, under that lock, with the drive's current version: a difference
 * means someone changed the file outside the editor, and the editor's content must go to a conflict copy instead of
 * overwriting that change; equality (also when the session's own earlier save wrote that version) lets it save.
 */
export class LoadedVersions {
  constructor(private readonly store: StateStore) {}

  get(fileId: string): Promise<string | null> {
    return this.store.get(NS, fileId);
  }

  set(fileId: string, version: string): Promise<void> {
    return this.store.set(NS, fileId, version, TTL_MS);
  }

  /**
   * Sets the baseline only if it is still `seen` (read before a download started): a save of the session that ended
   * meanwhile recorded a newer version, which a download that began earlier must not replace. Returns whether set.
   */
  async setIfUnchanged(fileId: string, seen: string | null, version: string): Promise<boolean> {
    return (await this.store.compareAndSet(NS, fileId, seen, version, TTL_MS)).ok;
  }
}
