/**
 * The WOPI lock rules as pure decisions (MS-WOPI Lock, RefreshLock, Unlock, UnlockAndRelock, PutFile).
 * `current` is the live lock id, null when the file is unlocked.
 */
export type LockRequest =
  | { kind: 'lock'; id: string }
  | { kind: 'refresh'; id: string }
  | { kind: 'unlock'; id: string }
  | { kind: 'relock'; oldId: string; id: string };

export type LockDecision =
  | { result: 'set'; id: string }
  | { result: 'clear' }
  | { result: 'conflict'; reason: string };

/** Decides a lock operation; a conflict's reason goes to X-WOPI-LockFailureReason. */
export function decideLock(req: LockRequest, current: string | null): LockDecision {
  switch (req.kind) {
    case 'lock':
      // Lock on an unlocked file, or with the same id (= RefreshLock).
      if (current === null || current === req.id) return { result: 'set', id: req.id };
      return { result: 'conflict', reason: 'File is locked by another editor' };
    case 'refresh':
      if (current === req.id) return { result: 'set', id: req.id };
      return { result: 'conflict', reason: current === null ? 'File is not locked' : 'Lock mismatch' };
    case 'unlock':
      if (current === req.id) return { result: 'clear' };
      return { result: 'conflict', reason: current === null ? 'File is not locked' : 'Lock mismatch' };
    case 'relock':
      if (current === req.oldId) return { result: 'set', id: req.id };
      return { result: 'conflict', reason: current === null ? 'File is not locked' : 'Old lock mismatch' };
  }
}

/**
 * Whether PutFile may write: a locked file needs the matching id; an unlocked file may only be written while it
 * is empty (the new-document flow, where DS sends no lock).
 * @returns null when allowed, else the conflict reason
 */
export function decidePutFile(current: string | null, requestLock: string | undefined, currentSize: number): string | null {
  if (current === null) return currentSize === 0 ? null : 'File is not locked and not empty';
  if (requestLock === current) return null;
  return requestLock === undefined ? 'File is locked; no lock id sent' : 'Lock mismatch';
}
