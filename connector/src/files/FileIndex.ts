import { randomBytes } from 'node:crypto';
import type { StateStore } from '../state/StateStore.js';
import { StorageError, type FileInfo, type StorageAdapter } from '../storage/StorageAdapter.js';
import { FileNotFoundError } from '../errors/errors.js';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A bridge-assigned id whose file is missing is looked up once more after this pause: another instance may have
 * renamed it (the shared map then has the new path) or be replacing it with upload-then-MOVE, which generic WebDAV
 * servers do not do atomically (the file is briefly absent). This instance's own writes are gated in WebdavStorage.
 */
const GONE_RECHECK_MS = 50;

const NS_ID = 'fileid'; // id -> path
const NS_PATH = 'filepath'; // path -> id

/**
 * WOPI file ids. DS uses the id as the co-editing key and the lock id, so it must be stable, the same for every
 * user, URL-safe and within [0-9A-Za-z._=-] (reference §1.2). Where the drive has its own ids (Nextcloud/ownCloud
 * `oc:fileid`) the id is `n<fileid>`, which survives moves made anywhere; otherwise the bridge assigns a random id
 * and keeps the id <-> path map in its state store, updated by renames made through the bridge.
 *
 * Each WebDAV root (one per signed-in person where the drive gives everyone their own) has its own scope: its maps
 * never mix with another root's, so a bridge-assigned id only exists below the root it was made for. `n<fileid>`
 * ids stay the same for every person (they are DS's co-editing key), but the path is per scope: a file shared with
 * someone has one id and a different path in each person's drive. Scope '' is the configured drive (the keys used
 * before scopes existed, so existing data stays valid).
 */
export class FileIndex {
  /**
   * @param store state store holding the maps
   * @param storage the drive the paths are below
   * @param scope which WebDAV root (e.g. a hash of its URL); '' = the configured drive
   */
  constructor(
    private readonly store: StateStore,
    private readonly storage: StorageAdapter,
    readonly scope: string = '',
  ) {}

  /** The state-store key of an id or path in this scope (ids and paths contain no ':', hex scopes no '/'). */
  private key(k: string): string {
    return this.scope === '' ? k : `${this.scope}:${k}`;
  }

  /** Whether a string can be a file id at all (cheap check before any lookup). */
  static isWellFormed(id: string): boolean {
    return /^[A-Za-z0-9_-]{1,64}$/.test(id);
  }

  /**
   * The id of a file, assigning one on first sight.
   * @param info the file's stat (gives the drive's own id where there is one)
   */
  async idFor(info: FileInfo): Promise<string> {
    if (info.upstreamId !== null && /^\d{1,20}$/.test(info.upstreamId)) {
      const id = `n${info.upstreamId}`;
      await this.store.set(NS_ID, this.key(id), info.path);
      return id;
    }
    const existing = await this.store.get(NS_PATH, this.key(info.path));
    if (existing !== null) return existing;
    const fresh = `f${randomBytes(12).toString('base64url')}`;
    const cas = await this.store.compareAndSet(NS_PATH, this.key(info.path), null, fresh);
    const id = cas.ok ? fresh : (cas.current as string);
    await this.store.set(NS_ID, this.key(id), info.path);
    return id;
  }

  /**
   * The path of a file id, without asking the drive (lock operations need no more).
   * @throws FileNotFoundError for an unknown or malformed id
   */
  async pathOf(id: string): Promise<string> {
    if (!FileIndex.isWellFormed(id)) throw new FileNotFoundError({ reason: 'malformed_id' });
    const p = await this.store.get(NS_ID, this.key(id));
    if (p !== null) return p;
    // A drive id first seen by someone else (a shared file): this person's own drive says where it is for them.
    if (this.scope !== '' && /^n\d{1,20}$/.test(id)) {
      const found = await this.storage.findByUpstreamId(id.slice(1));
      if (found !== null) {
        await this.store.set(NS_ID, this.key(id), found);
        return found;
      }
    }
    throw new FileNotFoundError({ reason: 'unknown_id' });
  }

  /**
   * The path and current stat of a file id. For drive-assigned ids a file moved outside the bridge is found
   * again (Nextcloud SEARCH by oc:fileid) and the map updated.
   * @throws FileNotFoundError when the id is unknown or the file is gone; StorageError when the drive fails
   */
  async resolve(id: string): Promise<FileInfo> {
    const p = await this.pathOf(id);
    const upstream = id.startsWith('n') ? id.slice(1) : null;
    try {
      const info = await this.storage.stat(p);
      if (upstream === null || info.upstreamId === upstream) {
        if (info.isDirectory) throw new FileNotFoundError({ reason: 'is_directory' });
        return info;
      }
    } catch (e) {
      if (!(e instanceof StorageError && e.kind === 'not_found')) throw e;
      if (upstream === null) return this.recheck(id);
    }
    const moved = upstream === null ? null : await this.storage.findByUpstreamId(upstream);
    if (moved === null) throw new FileNotFoundError({ reason: 'gone' });
    await this.store.set(NS_ID, this.key(id), moved);
    const info = await this.storage.stat(moved);
    if (info.isDirectory) throw new FileNotFoundError({ reason: 'is_directory' });
    return info;
  }

  /** Second and last look for a bridge-assigned id whose file was missing (see GONE_RECHECK_MS). */
  private async recheck(id: string): Promise<FileInfo> {
    await delay(GONE_RECHECK_MS);
    const p = await this.pathOf(id);
    try {
      const info = await this.storage.stat(p);
      if (info.isDirectory) throw new FileNotFoundError({ reason: 'is_directory' });
      return info;
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not_found') throw new FileNotFoundError({ reason: 'gone' });
      throw e;
    }
  }

  /** Records that a file moved (a rename made through the bridge); its id stays. */
  async moved(id: string, from: string, to: string): Promise<void> {
    await this.store.set(NS_ID, this.key(id), to);
    if (!id.startsWith('n')) {
      await this.store.delete(NS_PATH, this.key(from));
      await this.store.set(NS_PATH, this.key(to), id);
    }
  }

  /** Forgets a deleted file. */
  async forget(id: string, p: string): Promise<void> {
    await this.store.delete(NS_ID, this.key(id));
    await this.store.compareAndSet(NS_PATH, this.key(p), id, null);
  }
}
