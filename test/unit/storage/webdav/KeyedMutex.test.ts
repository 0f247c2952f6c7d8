import { KeyedMutex } from '../../../../connector/src/storage/webdav/KeyedMutex.js';

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('KeyedMutex', () => {
  test('runs the work of one key one after the other, in order, also after a failure', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const g = gate();
    const a = m.run('k', async () => {
      order.push('a start');
      await g.promise;
      order.push('a end');
      throw new Error('a failed');
    });
    const b = m.run('k', async () => {
      order.push('b');
      return 2;
    });
    g.open();
    await expect(a).rejects.toThrow('a failed');
    await expect(b).resolves.toBe(2);
    expect(order).toEqual(['a start', 'a end', 'b']);
  });

  test('work of other keys does not wait', async () => {
    const m = new KeyedMutex();
    const g = gate();
    const held = m.run('a', () => g.promise);
    await expect(m.run('b', async () => 'b done')).resolves.toBe('b done');
    g.open();
    await held;
  });

  test('idle() waits for the work queued before it, never rejects, and resolves at once for an idle key', async () => {
    const m = new KeyedMutex();
    const g = gate();
    let done = false;
    const held = m
      .run('k', async () => {
        await g.promise;
        done = true;
        throw new Error('failed');
      })
      .catch(() => undefined);
    expect(m.isBusy('k')).toBe(true);
    const idle = m.idle('k').then(() => done);
    g.open();
    await expect(idle).resolves.toBe(true);
    await held;
    expect(m.isBusy('k')).toBe(false);
    await expect(m.idle('k')).resolves.toBeUndefined();
  });

  test('startedCount grows with every run, whatever the key (a reader sees that work ran meanwhile)', async () => {
    const m = new KeyedMutex();
    const before = m.startedCount;
    await m.run('a', async () => undefined);
    await m.run('b', async () => undefined);
    expect(m.startedCount - before).toBe(2);
  });
});
