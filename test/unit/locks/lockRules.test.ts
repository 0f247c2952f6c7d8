import { decideLock, decidePutFile } from '../../../connector/src/locks/lockRules.js';

// MS-WOPI lock rules as pure decisions: `current` is the live lock id (null = unlocked).

describe('decideLock: Lock', () => {
  test('an unlocked file is locked with the requested id', () => {
    expect(decideLock({ kind: 'lock', id: 'A' }, null)).toEqual({ result: 'set', id: 'A' });
  });

  test('Lock with the same id as the current lock refreshes it (no conflict)', () => {
    expect(decideLock({ kind: 'lock', id: 'A' }, 'A')).toEqual({ result: 'set', id: 'A' });
  });

  test('Lock with another id is a conflict that says the file is locked by someone else', () => {
    const d = decideLock({ kind: 'lock', id: 'B' }, 'A');
    expect(d.result).toBe('conflict');
    expect(d).toEqual({ result: 'conflict', reason: expect.stringMatching(/locked/i) });
  });

  test('lock ids are compared exactly (case and whitespace matter)', () => {
    expect(decideLock({ kind: 'lock', id: 'a' }, 'A').result).toBe('conflict');
    expect(decideLock({ kind: 'lock', id: 'A ' }, 'A').result).toBe('conflict');
  });
});

describe('decideLock: RefreshLock', () => {
  test('refresh with the current id keeps the lock', () => {
    expect(decideLock({ kind: 'refresh', id: 'A' }, 'A')).toEqual({ result: 'set', id: 'A' });
  });

  test('refresh on an unlocked file is a conflict ("not locked")', () => {
    expect(decideLock({ kind: 'refresh', id: 'A' }, null)).toEqual({ result: 'conflict', reason: 'File is not locked' });
  });

  test('refresh with another id is a conflict ("mismatch")', () => {
    expect(decideLock({ kind: 'refresh', id: 'B' }, 'A')).toEqual({ result: 'conflict', reason: 'Lock mismatch' });
  });
});

describe('decideLock: Unlock', () => {
  test('unlock with the current id clears the lock', () => {
    expect(decideLock({ kind: 'unlock', id: 'A' }, 'A')).toEqual({ result: 'clear' });
  });

  test('unlock on an unlocked file is a conflict ("not locked")', () => {
    expect(decideLock({ kind: 'unlock', id: 'A' }, null)).toEqual({ result: 'conflict', reason: 'File is not locked' });
  });

  test('unlock with another id is a conflict ("mismatch")', () => {
    expect(decideLock({ kind: 'unlock', id: 'B' }, 'A')).toEqual({ result: 'conflict', reason: 'Lock mismatch' });
  });
});

describe('decideLock: UnlockAndRelock', () => {
  test('relock with the current id as old id moves the lock to the new id', () => {
    expect(decideLock({ kind: 'relock', oldId: 'A', id: 'B' }, 'A')).toEqual({ result: 'set', id: 'B' });
  });

  test('relock on an unlocked file is a conflict ("not locked")', () => {
    expect(decideLock({ kind: 'relock', oldId: 'A', id: 'B' }, null)).toEqual({ result: 'conflict', reason: 'File is not locked' });
  });

  test('relock whose old id does not match is a conflict, even when the new id is the current one', () => {
    expect(decideLock({ kind: 'relock', oldId: 'X', id: 'B' }, 'A')).toEqual({ result: 'conflict', reason: 'Old lock mismatch' });
    expect(decideLock({ kind: 'relock', oldId: 'X', id: 'A' }, 'A').result).toBe('conflict');
  });
});

describe('decidePutFile', () => {
  test('an unlocked, empty (0 byte) file may be written without a lock (new-document flow)', () => {
    expect(decidePutFile(null, undefined, 0)).toBeNull();
  });

  test('an unlocked, empty file may also be written when a lock id is sent', () => {
    expect(decidePutFile(null, 'A', 0)).toBeNull();
  });

  test('an unlocked, non-empty file is refused', () => {
    expect(decidePutFile(null, undefined, 1)).toBe('File is not locked and not empty');
    expect(decidePutFile(null, 'A', 5000)).toBe('File is not locked and not empty');
  });

  test('a locked file is written when the request carries the matching lock id, whatever its size', () => {
    expect(decidePutFile('A', 'A', 0)).toBeNull();
    expect(decidePutFile('A', 'A', 123456)).toBeNull();
  });

  test('a locked file is refused with another lock id', () => {
    expect(decidePutFile('A', 'B', 10)).toBe('Lock mismatch');
  });

  test('a locked file is refused when no lock id is sent, even when empty', () => {
    expect(decidePutFile('A', undefined, 10)).toBe('File is locked; no lock id sent');
    expect(decidePutFile('A', undefined, 0)).toBe('File is locked; no lock id sent');
  });
});
