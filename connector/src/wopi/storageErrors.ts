import { FileNotFoundError, LockConflictError, StorageUnavailableError, WopiError, isWopiError } from '../errors/errors.js';
import { StorageError } from '../storage/StorageAdapter.js';

/**
 * Maps a storage failure to its WOPI answer: gone/forbidden → 404 (WOPI treats both alike), locked on the drive →
 * 409 with X-WOPI-LockedByOtherInterface, anything else (down, slow, 5xx, full, our credentials) → 500.
 * @param currentLock the WOPI lock to report in a 409 ('' when none)
 */
export function toWopiError(e: unknown, currentLock: string | null = null): WopiError {
  if (isWopiError(e)) return e;
  if (e instanceof StorageError) {
    switch (e.kind) {
      case 'not_found':
      case 'forbidden':
        return new FileNotFoundError({ storage: e.kind, ...e.detail });
      case 'locked':
        return new LockConflictError(currentLock, 'File is locked on the drive by another application', {
          otherInterface: true,
          code: 'locked_on_drive',
          detail: e.detail,
        });
      case 'conflict':
        return new LockConflictError(currentLock, 'The drive reported a conflict', { code: 'storage_conflict', detail: e.detail });
      default:
        return new StorageUnavailableError({ kind: e.kind, ...e.detail }, e);
    }
  }
  return new StorageUnavailableError({ kind: 'unexpected' }, e);
}
