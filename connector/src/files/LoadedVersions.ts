import type { StateStore } from '../state/StateStore.js';

const NS = 'loaded';
/** A baseline older than this is dropped; the next Lock or GetFile sets a fresh one. */
const TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * The version of each file that the editing session loaded (set at Lock, GetFile and after each PutFile).
 * PutFile compares it with the drive's current version: a difference means someone changed the file outside the
 * editor, and the editor's content must go to a conflict copy instead of overwriting that change.
 */
export class LoadedVersions {
  constructor(private readonly store: StateStore) {}

  get(fileId: string): Promise<string | null> {
    return this.store.get(NS, fileId);
  }

  set(fileId: string, version: string): Promise<void> {
    return this.store.set(NS, fileId, version, TTL_MS);
  }
}
