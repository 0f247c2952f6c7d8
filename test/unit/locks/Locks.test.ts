import { Locks } from '../../../connector/src/locks/Locks.js';
import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import { SqliteStateStore } from '../../../connector/src/state/SqliteStateStore.js';
import type { StateStore } from '../../../connector/src/state/StateStore.js';
import { LockConflictError, isWopiError } from '../../../connector/src/errors/errors.js';
import { rejection } from '../../helpers/rejection.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_800_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

async function expectConflict(p: Promise<unknown>, currentLock: string, reason: string | RegExp): Promise<LockConflictError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(LockConflictError);
  const err = e as LockConflictError;
  expect(isWopiError(err)).toBe(true);
  expect(err.status).toBe(409);
  expect(err.headers['X-WOPI-Lock']).toBe(currentLock);
  if (typeof reason === 'string') expect(err.headers['X-WOPI-LockFailureReason']).toBe(reason);
  else expect(err.headers['X-WOPI-LockFailureReason']).toMatch(reason);
  return err;
}

const TTL = 30 * 60 * 1000;

const stores: Array<[string, (now: () => number) => StateStore]> = [
  ['MemoryStateStore', (now) => new MemoryStateStore(now)],
  ["SqliteStateStore(':memory:')", (now) => new SqliteStateStore(':memory:', now)],
];

describe.each(stores)('Locks over %s', (_name, makeStore) => {
  let clock: ReturnType<typeof manualClock>;
  let store: StateStore;
  let locks: Locks;

  beforeEach(() => {
    clock = manualClock();
    store = makeStore(clock.now);
    locks = new Locks(store, TTL, clock.now);
  });

  afterEach(async () => {
    await store.close();
  });

  test('an unlocked file has no lock', async () => {
    expect(await locks.get('f1')).toBeNull();
  });

  test('Lock on an unlocked file takes the lock and reports there was none before', async () => {
    expect(await locks.apply('f1', { kind: 'lock', id: 'L1' })).toEqual({ before: null });
    expect(await locks.get('f1')).toEqual({ id: 'L1', since: clock.now() });
  });

  test('locks are per file', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    await locks.apply('f2', { kind: 'lock', id: 'L2' });
    expect((await locks.get('f1'))?.id).toBe('L1');
    expect((await locks.get('f2'))?.id).toBe('L2');
  });

  test('Lock with the same id refreshes and keeps the time the lock was first taken', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    const since = clock.now();
    clock.advance(60_000);
    const r = await locks.apply('f1', { kind: 'lock', id: 'L1' });
    expect(r.before).toEqual({ id: 'L1', since });
    expect(await locks.get('f1')).toEqual({ id: 'L1', since });
  });

  test('Lock with another id → 409 with X-WOPI-Lock = the current lock; the lock is unchanged', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    await expectConflict(locks.apply('f1', { kind: 'lock', id: 'L2' }), 'L1', /locked/i);
    expect((await locks.get('f1'))?.id).toBe('L1');
  });

  test('RefreshLock on an unlocked file → 409 with X-WOPI-Lock "" (empty, not absent)', async () => {
    const err = await expectConflict(locks.apply('f1', { kind: 'refresh', id: 'L1' }), '', 'File is not locked');
    expect(Object.keys(err.headers)).toContain('X-WOPI-Lock');
    expect(await locks.get('f1')).toBeNull();
  });

  test('RefreshLock with another id → 409 with the current lock', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    await expectConflict(locks.apply('f1', { kind: 'refresh', id: 'L2' }), 'L1', 'Lock mismatch');
  });

  test('Unlock with the current id releases the lock; the file can then be locked by another id', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    expect((await locks.apply('f1', { kind: 'unlock', id: 'L1' })).before?.id).toBe('L1');
    expect(await locks.get('f1')).toBeNull();
    await locks.apply('f1', { kind: 'lock', id: 'L2' });
    expect((await locks.get('f1'))?.id).toBe('L2');
  });

  test('Unlock on an unlocked file → 409 with X-WOPI-Lock ""', async () => {
    await expectConflict(locks.apply('f1', { kind: 'unlock', id: 'L1' }), '', 'File is not locked');
  });

  test('Unlock with another id → 409 with the current lock; the lock stays', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    await expectConflict(locks.apply('f1', { kind: 'unlock', id: 'L2' }), 'L1', 'Lock mismatch');
    expect((await locks.get('f1'))?.id).toBe('L1');
  });

  test('UnlockAndRelock moves the lock to the new id', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    clock.advance(1000);
    await locks.apply('f1', { kind: 'relock', oldId: 'L1', id: 'L2' });
    expect(await locks.get('f1')).toEqual({ id: 'L2', since: clock.now() });
    // The old id no longer works.
    await expectConflict(locks.apply('f1', { kind: 'refresh', id: 'L1' }), 'L2', 'Lock mismatch');
  });

  test('UnlockAndRelock with a wrong old id → 409 with the current lock', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    await expectConflict(locks.apply('f1', { kind: 'relock', oldId: 'X', id: 'L2' }), 'L1', 'Old lock mismatch');
    expect((await locks.get('f1'))?.id).toBe('L1');
  });

  test('UnlockAndRelock on an unlocked file → 409 with X-WOPI-Lock ""', async () => {
    await expectConflict(locks.apply('f1', { kind: 'relock', oldId: 'L1', id: 'L2' }), '', 'File is not locked');
  });

  test('a lock expires after the ttl; then another editor can lock the file', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    clock.advance(TTL - 1);
    expect((await locks.get('f1'))?.id).toBe('L1');
    await expectConflict(locks.apply('f1', { kind: 'lock', id: 'L2' }), 'L1', /locked/i);
    clock.advance(1);
    expect(await locks.get('f1')).toBeNull();
    expect(await locks.apply('f1', { kind: 'lock', id: 'L2' })).toEqual({ before: null });
    expect((await locks.get('f1'))?.id).toBe('L2');
  });

  test('an expired lock cannot be refreshed or unlocked (409, X-WOPI-Lock "")', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    clock.advance(TTL);
    await expectConflict(locks.apply('f1', { kind: 'refresh', id: 'L1' }), '', 'File is not locked');
    await expectConflict(locks.apply('f1', { kind: 'unlock', id: 'L1' }), '', 'File is not locked');
  });

  test('RefreshLock restarts the ttl', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    clock.advance(TTL - 1000);
    await locks.apply('f1', { kind: 'refresh', id: 'L1' });
    clock.advance(TTL - 1000);
    expect((await locks.get('f1'))?.id).toBe('L1');
    clock.advance(1000);
    expect(await locks.get('f1')).toBeNull();
  });

  test('list shows live locks with their expiry and leaves expired ones out', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    clock.advance(10_000);
    await locks.apply('f2', { kind: 'lock', id: 'L2' });
    const rows = await locks.list();
    expect(rows.map((r) => [r.fileId, r.lock.id, r.expiresAt]).sort()).toEqual([
      ['f1', 'L1', clock.now() - 10_000 + TTL],
      ['f2', 'L2', clock.now() + TTL],
    ]);
    clock.advance(TTL - 10_000);
    expect((await locks.list()).map((r) => r.fileId)).toEqual(['f2']);
  });

  test('forceRelease removes a lock whatever its id', async () => {
    await locks.apply('f1', { kind: 'lock', id: 'L1' });
    expect((await locks.forceRelease('f1'))?.id).toBe('L1');
    expect(await locks.get('f1')).toBeNull();
    expect(await locks.forceRelease('f1')).toBeNull();
  });

  test('a 1024-character lock id (any characters) is stored and returned verbatim', async () => {
    const base = 'é"\\{}\u4e2d😀 ,;=\'<>&';
    const id = base.repeat(Math.ceil(1024 / base.length)).slice(0, 1023) + 'Z';
    expect(id).toHaveLength(1024);
    await locks.apply('f1', { kind: 'lock', id });
    expect((await locks.get('f1'))?.id).toBe(id);
    const err = await expectConflict(locks.apply('f1', { kind: 'lock', id: 'other' }), id, /locked/i);
    expect(err.headers['X-WOPI-Lock']).toBe(id);
    await locks.apply('f1', { kind: 'unlock', id });
    expect(await locks.get('f1')).toBeNull();
  });

  test('a JSON-looking lock id is kept as a string', async () => {
    const id = '{"S":"abc","F":4,"E":2}';
    await locks.apply('f1', { kind: 'lock', id });
    expect((await locks.get('f1'))?.id).toBe(id);
  });

  test('50 concurrent Lock calls with different ids on one file → exactly one winner, 49 conflicts naming it', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `lock-${i}`);
    const results = await Promise.allSettled(ids.map((id) => locks.apply('f1', { kind: 'lock', id })));
    const winners = ids.filter((_, i) => results[i]?.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    const winner = winners[0];
    expect((await locks.get('f1'))?.id).toBe(winner);
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(losers).toHaveLength(49);
    for (const l of losers) {
      expect(l.reason).toBeInstanceOf(LockConflictError);
      expect((l.reason as LockConflictError).headers['X-WOPI-Lock']).toBe(winner);
    }
  });

  test('50 concurrent Lock calls with the same id all succeed (Lock with the current id is a refresh)', async () => {
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => locks.apply('f1', { kind: 'lock', id: 'same' })));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect((await locks.get('f1'))?.id).toBe('same');
  });

  test('a store holding garbage for a file counts as unlocked', async () => {
    await store.set('lock', 'f1', 'not json');
    expect(await locks.get('f1')).toBeNull();
    await store.set('lock', 'f2', JSON.stringify({ nope: 1 }));
    expect(await locks.get('f2')).toBeNull();
  });
});
