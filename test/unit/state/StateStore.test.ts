import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import { SqliteStateStore } from '../../../connector/src/state/SqliteStateStore.js';
import type { StateStore } from '../../../connector/src/state/StateStore.js';
import { StateStoreError, isWopiError } from '../../../connector/src/errors/errors.js';

function manualClock(start = 1_800_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const byKey = <T extends { key: string }>(rows: T[]): T[] => [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

const factories: Array<[string, (now: () => number) => StateStore]> = [
  ['MemoryStateStore', (now) => new MemoryStateStore(now)],
  ["SqliteStateStore(':memory:')", (now) => new SqliteStateStore(':memory:', now)],
];

describe.each(factories)('%s', (_name, make) => {
  let clock: ReturnType<typeof manualClock>;
  let store: StateStore;

  beforeEach(() => {
    clock = manualClock();
    store = make(clock.now);
  });
  afterEach(async () => {
    await store.close();
  });

  test('get of an absent key is null', async () => {
    expect(await store.get('ns', 'k')).toBeNull();
  });

  test('set then get returns the value; set again replaces it', async () => {
    await store.set('ns', 'k', 'v1');
    expect(await store.get('ns', 'k')).toBe('v1');
    await store.set('ns', 'k', 'v2');
    expect(await store.get('ns', 'k')).toBe('v2');
  });

  test('the empty string is a value, not absence', async () => {
    await store.set('ns', 'k', '');
    expect(await store.get('ns', 'k')).toBe('');
  });

  test('namespaces are separate', async () => {
    await store.set('a', 'k', 'in a');
    await store.set('b', 'k', 'in b');
    expect(await store.get('a', 'k')).toBe('in a');
    expect(await store.get('b', 'k')).toBe('in b');
    expect(await store.list('a')).toEqual([{ key: 'k', value: 'in a', expiresAt: null }]);
  });

  test('values and keys with unusual characters round-trip', async () => {
    const key = 'a % b/&#文档😀 ';
    const value = '{"x":"\u0000 é 😀\n"}'.repeat(100);
    await store.set('ns', key, value);
    expect(await store.get('ns', key)).toBe(value);
  });

  test('delete removes; deleting an absent key is no error', async () => {
    await store.set('ns', 'k', 'v');
    await store.delete('ns', 'k');
    expect(await store.get('ns', 'k')).toBeNull();
    await expect(store.delete('ns', 'never')).resolves.toBeUndefined();
  });

  test('a value with a ttl is live until now + ttl, then gone (get, list, CAS)', async () => {
    await store.set('ns', 'k', 'v', 1000);
    clock.advance(999);
    expect(await store.get('ns', 'k')).toBe('v');
    expect(await store.list('ns')).toEqual([{ key: 'k', value: 'v', expiresAt: clock.now() + 1 }]);
    clock.advance(1);
    expect(await store.get('ns', 'k')).toBeNull();
    expect(await store.list('ns')).toEqual([]);
    // CAS sees the expired value as absent.
    expect(await store.compareAndSet('ns', 'k', 'v', 'w')).toEqual({ ok: false, current: null });
    expect(await store.compareAndSet('ns', 'k', null, 'w')).toEqual({ ok: true, current: 'w' });
  });

  test('a value set without a ttl never expires, and set without ttl clears an earlier ttl', async () => {
    await store.set('ns', 'k', 'v', 1000);
    await store.set('ns', 'k', 'v2');
    clock.advance(10 * 365 * 24 * 3600 * 1000);
    expect(await store.get('ns', 'k')).toBe('v2');
  });

  test('CAS on an absent key with expected null creates it', async () => {
    expect(await store.compareAndSet('ns', 'k', null, 'v')).toEqual({ ok: true, current: 'v' });
    expect(await store.get('ns', 'k')).toBe('v');
  });

  test('CAS with expected null on a present key fails and reports the current value', async () => {
    await store.set('ns', 'k', 'v');
    expect(await store.compareAndSet('ns', 'k', null, 'w')).toEqual({ ok: false, current: 'v' });
    expect(await store.get('ns', 'k')).toBe('v');
  });

  test('CAS with the right expected value replaces it; with a stale one fails and changes nothing', async () => {
    await store.set('ns', 'k', 'v1');
    expect(await store.compareAndSet('ns', 'k', 'v1', 'v2')).toEqual({ ok: true, current: 'v2' });
    expect(await store.compareAndSet('ns', 'k', 'v1', 'v3')).toEqual({ ok: false, current: 'v2' });
    expect(await store.get('ns', 'k')).toBe('v2');
  });

  test('CAS with expected on an absent key fails with current null', async () => {
    expect(await store.compareAndSet('ns', 'k', 'v', 'w')).toEqual({ ok: false, current: null });
    expect(await store.get('ns', 'k')).toBeNull();
  });

  test('CAS with next null deletes the value', async () => {
    await store.set('ns', 'k', 'v', 5000);
    expect(await store.compareAndSet('ns', 'k', 'v', null)).toEqual({ ok: true, current: null });
    expect(await store.get('ns', 'k')).toBeNull();
    expect(await store.list('ns')).toEqual([]);
  });

  test('CAS with a ttl sets the expiry; without one the value does not expire', async () => {
    await store.compareAndSet('ns', 'a', null, 'x', 500);
    await store.compareAndSet('ns', 'b', null, 'y');
    expect(byKey(await store.list('ns'))).toEqual([
      { key: 'a', value: 'x', expiresAt: clock.now() + 500 },
      { key: 'b', value: 'y', expiresAt: null },
    ]);
    clock.advance(500);
    expect(await store.get('ns', 'a')).toBeNull();
    expect(await store.get('ns', 'b')).toBe('y');
  });

  test('list returns every live entry of the namespace only', async () => {
    await store.set('ns', 'b', '2');
    await store.set('ns', 'a', '1', 100);
    await store.set('other', 'c', '3');
    expect(byKey(await store.list('ns'))).toEqual([
      { key: 'a', value: '1', expiresAt: clock.now() + 100 },
      { key: 'b', value: '2', expiresAt: null },
    ]);
    expect(await store.list('empty')).toEqual([]);
  });

  test('concurrent CAS from null on one key: exactly one wins', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet('ns', 'k', null, `v${i}`)));
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const value = winners[0]?.current;
    expect(await store.get('ns', 'k')).toBe(value);
    for (const r of results.filter((x) => !x.ok)) expect(r.current).toBe(value);
  });
});

describe('SqliteStateStore on a file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wopi-state-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('creates its folder (mode 0700) and the database file', async () => {
    const file = path.join(dir, 'sub', 'state.db');
    const s = new SqliteStateStore(file);
    await s.set('ns', 'k', 'v');
    await s.close();
    expect(existsSync(file)).toBe(true);
    expect(statSync(path.join(dir, 'sub')).mode & 0o777).toBe(0o700);
  });

  test('data survives a restart: a second instance on the same file sees it (with its expiry)', async () => {
    const file = path.join(dir, 'state.db');
    const clock = manualClock();
    const a = new SqliteStateStore(file, clock.now);
    await a.set('lock', 'f1', 'L1', 60_000);
    await a.set('ids', 'x', 'y');
    await a.close();

    const b = new SqliteStateStore(file, clock.now);
    expect(await b.get('lock', 'f1')).toBe('L1');
    expect(await b.get('ids', 'x')).toBe('y');
    expect(await b.list('lock')).toEqual([{ key: 'f1', value: 'L1', expiresAt: clock.now() + 60_000 }]);
    clock.advance(60_000);
    expect(await b.get('lock', 'f1')).toBeNull();
    await b.close();

    // Reopened after expiry: the expired row is gone, the rest stays.
    const c = new SqliteStateStore(file, clock.now);
    expect(await c.list('lock')).toEqual([]);
    expect(await c.get('ids', 'x')).toBe('y');
    await c.close();
  });

  test('two open instances on one file see each other\'s writes', async () => {
    const file = path.join(dir, 'state.db');
    const a = new SqliteStateStore(file);
    const b = new SqliteStateStore(file);
    try {
      await a.set('ns', 'k', 'from a');
      expect(await b.get('ns', 'k')).toBe('from a');
      await b.delete('ns', 'k');
      expect(await a.get('ns', 'k')).toBeNull();
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('two instances doing CAS on the same key: one wins, the other sees the winner', async () => {
    const file = path.join(dir, 'state.db');
    const a = new SqliteStateStore(file);
    const b = new SqliteStateStore(file);
    try {
      const [ra, rb] = await Promise.all([a.compareAndSet('lock', 'f', null, 'A'), b.compareAndSet('lock', 'f', null, 'B')]);
      expect([ra.ok, rb.ok].filter(Boolean)).toHaveLength(1);
      const winner = ra.ok ? 'A' : 'B';
      expect(ra.current).toBe(winner);
      expect(rb.current).toBe(winner);
      expect(await a.get('lock', 'f')).toBe(winner);
      expect(await b.get('lock', 'f')).toBe(winner);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a closed store fails closed with StateStoreError (500), not a raw driver error', async () => {
    const s = new SqliteStateStore(path.join(dir, 'state.db'));
    await s.close();
    await s.close(); // closing twice is harmless
    const e = await s.get('ns', 'k').then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(StateStoreError);
    expect(isWopiError(e) && e.status).toBe(500);
    await expect(s.compareAndSet('ns', 'k', null, 'v')).rejects.toBeInstanceOf(StateStoreError);
  });
});
