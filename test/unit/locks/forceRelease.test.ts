import { Locks } from '../../../connector/src/locks/Locks.js';
import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import type { CasResult } from '../../../connector/src/state/StateStore.js';

describe('Locks.forceRelease', () => {
  test('removes a lock whatever its id and reports it; an unlocked file gives null', async () => {
    const locks = new Locks(new MemoryStateStore(), 60_000);
    await locks.apply('f', { kind: 'lock', id: 'stuck' });
    expect((await locks.forceRelease('f'))?.id).toBe('stuck');
    expect(await locks.get('f')).toBeNull();
    expect(await locks.forceRelease('f')).toBeNull();
  });

  test('a lock taken between its read and its removal is what gets removed and reported, atomically', async () => {
    const store = new MemoryStateStore();
    const locks = new Locks(store, 60_000);
    await locks.apply('f', { kind: 'lock', id: 'old' });
    // Another request replaces the lock right after forceRelease read it.
    const cas = store.compareAndSet.bind(store);
    let raced = false;
    store.compareAndSet = async (...args): Promise<CasResult> => {
      if (!raced) {
        raced = true;
        await store.set('lock', 'f', JSON.stringify({ id: 'new', since: 1 }), 60_000);
      }
      return cas(...args);
    };
    expect((await locks.forceRelease('f'))?.id).toBe('new');
    expect(await locks.get('f')).toBeNull();
  });
});
