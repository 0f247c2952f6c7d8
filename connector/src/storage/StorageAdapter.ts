import type { Readable } from 'node:stream';
import type { StorageFlavour } from '../config/config.js';

/** One file or folder on the drive. */
export interface FileInfo {
  /** Path below the adapter's root, starting with '/', decoded (e.g. '/Docs/a % b.docx'). */
  path: string;
  name: string;
  isDirectory: boolean;
  size: number;
  /** The drive's ETag without quotes or W/ prefix; changes whenever the content changes. */
  version: string;
  lastModified: Date;
  /** The drive's own stable id (Nextcloud/ownCloud oc:fileid), when it has one. */
  upstreamId: string | null;
  /** What the drive lets this account do (oc:permissions); all true where the drive says nothing. */
  permissions: { canWrite: boolean; canRename: boolean; canDelete: boolean };
}

export type StorageErrorKind =
  | 'not_found'
  | 'conflict' // 409/412 from the drive or a changed version
  | 'locked' // 423: locked outside WOPI
  | 'insufficient_storage' // 507
  | 'forbidden' // 403 / forbidden name
  | 'unavailable' // network, timeout, 5xx, our credentials refused
  | 'aborted'; // the request's client went away

/** A storage failure, classified by the upstream status (never by message text). */
export class StorageError extends Error {
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    readonly detail: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

/** Thrown by writeStream when the file changed since `expectedVersion`; the body is kept where `keptAt` says, if anywhere. */
export class VersionMismatchError extends StorageError {
  constructor(readonly currentVersion: string | null, readonly keptAt: string | null) {
    super('conflict', 'File changed on the drive', { currentVersion, keptAt });
    this.name = 'VersionMismatchError';
  }
}

export interface WriteOptions {
  /** Body length in bytes; always sent as Content-Length (chunked PUTs store 0 bytes on Nextcloud behind FastCGI). */
  contentLength: number;
  /**
   * Version the editor loaded; the write is refused when the file has another. null = must not exist or be empty.
   * undefined = unconditional. A function is called inside the path's critical section, after every earlier write
   * of the path in this process (and its onWritten) is done: e.g. an editing session's last saved version.
   */
  expectedVersion?: string | null | (() => Promise<string | null>);
  /**
   * Called with the new state after a successful write, inside the path's critical section: what it records (the
   * version a session wrote) is there before the next write of the path checks its expectedVersion.
   */
  onWritten?: (written: FileInfo) => Promise<void>;
  /**
   * Called when the version check fails after the body was already uploaded under a temporary name: returns the
   * path to keep that body at (a conflict copy), so nothing is lost. Without it the temporary upload is deleted.
   */
  conflictPath?: () => Promise<string>;
  signal?: AbortSignal;
}

/**
 * The one storage interface. Paths are decoded, below the drive root, starting with '/'.
 * Every method throws StorageError.
 */
export interface StorageAdapter {
  readonly flavour: StorageFlavour;
  /**
   * Whether a version mismatch found by the drive itself (If-Match 412) can consume the body before the bridge
   * can keep it; then the caller must keep its own copy of the body to write a conflict copy.
   */
  readonly mayConsumeBodyOnConflict: boolean;
  stat(path: string): Promise<FileInfo>;
  list(folder: string): Promise<FileInfo[]>;
  /** Opens a download; resolves only after the drive answered with a success status. */
  openReadStream(path: string, options?: { signal?: AbortSignal }): Promise<{ stream: Readable; size: number | null; version: string | null }>;
  /** Writes a file from a stream, safely: the original stays intact when the upload fails. Returns the new state. */
  writeStream(path: string, body: Readable, options: WriteOptions): Promise<FileInfo>;
  /**
   * Renames or moves; fails with 'conflict' when the target exists, 'not_found' when `from` is gone (e.g. an
   * overlapping rename moved it first). `onRenamed` runs inside the critical section of `from`, so the next rename of
   * `from` sees what it recorded.
   */
  rename(from: string, to: string, options?: { onRenamed?: (renamed: FileInfo) => Promise<void> }): Promise<FileInfo>;
  delete(path: string): Promise<void>;
  /** Creates a file in `folder` named `name`, or `name (2)`, `name (3)`… when taken; returns its info. */
  createUnique(folder: string, name: string, body: Readable | null, contentLength: number): Promise<FileInfo>;
  /** Finds a file by the drive's own id (Nextcloud SEARCH on oc:fileid); null when unknown or unsupported. */
  findByUpstreamId(upstreamId: string): Promise<string | null>;
  close(): Promise<void>;
}

/** Splits a path into its folder and name. */
export function splitPath(p: string): { folder: string; name: string } {
  const i = p.lastIndexOf('/');
  return { folder: i <= 0 ? '/' : p.slice(0, i), name: p.slice(i + 1) };
}

/** Joins a folder and a name. */
export function joinPath(folder: string, name: string): string {
  return folder.endsWith('/') ? `${folder}${name}` : `${folder}/${name}`;
}

/** Splits a name into base and extension ('a.b.docx' → ['a.b', '.docx']; '.bashrc' → ['.bashrc', '']). */
export function splitExtension(name: string): [string, string] {
  const i = name.lastIndexOf('.');
  return i <= 0 ? [name, ''] : [name.slice(0, i), name.slice(i)];
}
