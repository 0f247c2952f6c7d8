/**
 * RedisStateStore against a real redis-server (Debian, via test/helpers/redisServer.ts): the StateStore semantics
 * of the SQLite store, the key layout, two instances sharing one Redis, exactly one winner among concurrent Lock
 * attempts, persistence across a crash (appendonly yes + SIGKILL), and failing closed while Redis is down or frozen,
 * recovering by itself when it is back.
 */
import { inspect } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { createRedisStateStore, type RedisStateStore, type RedisStateStoreOptions } from '../../../connector/src/state/RedisStateStore.js';
import type { StateStore } from '../../../connector/src/state/StateStore.js';
import { Locks } from '../../../connector/src/locks/Locks.js';
import { LockConflictError, StateStoreError, isWopiError } from '../../../connector/src/errors/errors.js';
import { redisCommand, startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { rejection } from '../../helpers/rejection.js';

const SLOW = 30_000;

/** Figures printed once at the end (fail-closed latencies, lock rounds). */
const figures: string[] = [];
afterAll(() => {
  if (figures.length > 0) console.log(`RedisStateStore figures:\n  ${figures.join('\n  ')}`);
});

let prefixCounter = 0;
/** A fresh prefix per store group, so tests on the shared server never see each other's keys. */
const uniquePrefix = (): string => `t${process.pid}-${++prefixCounter}:`;

const byKey = <T extends { key: string }>(rows: T[]): T[] => [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** Stores opened by a test; closed after it. */
const opened: StateStore[] = [];
async function open(url: string, options: RedisStateStoreOptions = {}): Promise<RedisStateStore> {
  const s = await createRedisStateStore(url, options);
  opened.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** Settles `p` and measures how long it took. */
async function timed<T>(p: Promise<T>): Promise<{ ms: number; outcome: PromiseSettledResult<T> }> {
  const t0 = performance.now();
  const [outcome] = await Promise.allSettled([p]);
  return { ms: performance.now() - t0, outcome: outcome as PromiseSettledResult<T> };
}

/** Retries `fn` until it resolves or `timeoutMs` passed (then rethrows the last error). */
async function eventually<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) throw e;
      await delay(50);
    }
  }
}

async function pidOf(redis: RedisServer): Promise<number> {
  const info = await redisCommand(redis.port, ['INFO', 'server']);
  const m = typeof info === 'string' ? /process_id:(\d+)/.exec(info) : null;
  if (!m?.[1]) throw new Error('no process_id in INFO');
  return Number(m[1]);
}

/** Every StateStore method plus Locks.apply/get, each started now. */
function everyOperation(store: StateStore): Array<[string, Promise<unknown>]> {
  const locks = new Locks(store, 60_000);
  return [
    ['get', store.get('ns', 'k')],
    ['set', store.set('ns', 'k', 'v')],
    ['set with ttl', store.set('ns', 'k', 'v', 60_000)],
    ['delete', store.delete('ns', 'k')],
    ['compareAndSet', store.compareAndSet('ns', 'k', null, 'v', 60_000)],
    ['list', store.list('ns')],
    ['Locks.apply', locks.apply('file', { kind: 'lock', id: 'L' })],
    ['Locks.get', locks.get('file')],
  ];
}

/** Asserts that every operation rejected with StateStoreError (500) within `limitMs`; returns the slowest time. */
async function expectAllFailClosed(store: StateStore, limitMs: number): Promise<number> {
  const results = await Promise.all(everyOperation(store).map(async ([name, p]) => ({ name, ...(await timed(p)) })));
  for (const r of results) {
    if (r.outcome.status === 'fulfilled') throw new Error(`${r.name} resolved (${JSON.stringify(r.outcome.value)}) while Redis was unavailable`);
    const e = r.outcome.reason as unknown;
    expect(e).toBeInstanceOf(StateStoreError);
    expect(isWopiError(e) && e.status).toBe(500);
    expect(isWopiError(e) && e.code).toBe('state_store_unavailable');
    expect({ name: r.name, fast: r.ms < limitMs }).toEqual({ name: r.name, fast: true });
  }
  return Math.max(...results.map((r) => r.ms));
}

describe('RedisStateStore on a shared redis-server', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  describe('StateStore semantics (as the SQLite store)', () => {
    let store: RedisStateStore;
    let prefix: string;
    beforeEach(async () => {
      prefix = uniquePrefix();
      store = await open(redis.url, { prefix });
    });
    const pttl = async (ns: string, key: string): Promise<unknown> => redisCommand(redis.port, ['PTTL', `${prefix}${ns}:${key}`]);

    test('get of an absent key is null', async () => {
      expect(await store.get('ns', 'k')).toBeNull();
    });

    test('set then get returns the value; set again replaces it', async () => {
      await store.set('ns', 'k', 'v1');
      expect(await store.get('ns', 'k')).toBe('v1');
      await store.set('ns', 'k', 'v2');
      expect(await store.get('ns', 'k')).toBe('v2');
    });

    test('the empty string is a value, not absence (get, list, CAS)', async () => {
      await store.set('ns', 'k', '');
      expect(await store.get('ns', 'k')).toBe('');
      expect(await store.list('ns')).toEqual([{ key: 'k', value: '', expiresAt: null }]);
      expect(await store.compareAndSet('ns', 'k', null, 'x')).toEqual({ ok: false, current: '' });
      expect(await store.compareAndSet('ns', 'k', '', 'x')).toEqual({ ok: true, current: 'x' });
      expect(await store.compareAndSet('ns', 'k', 'x', '')).toEqual({ ok: true, current: '' });
      expect(await store.compareAndSet('ns', 'k', '', null)).toEqual({ ok: true, current: null });
      expect(await store.get('ns', 'k')).toBeNull();
    });

    test('namespaces are separate', async () => {
      await store.set('a', 'k', 'in a');
      await store.set('b', 'k', 'in b');
      await store.set('ab', 'k', 'in ab');
      expect(await store.get('a', 'k')).toBe('in a');
      expect(await store.get('b', 'k')).toBe('in b');
      expect(await store.list('a')).toEqual([{ key: 'k', value: 'in a', expiresAt: null }]);
    });

    test("a namespace containing ':' is refused (it would share keys with another namespace)", async () => {
      for (const p of [store.get('a:b', 'c'), store.set('a:b', 'c', 'v'), store.delete('a:b', 'c'), store.compareAndSet('a:b', 'c', null, 'v'), store.list('a:b')]) {
        const e = await rejection(p);
        expect(e).toBeInstanceOf(StateStoreError);
        expect(isWopiError(e) && String(e.detail.reason)).toMatch(/contains ':'/);
      }
      expect(await store.get('a', 'b:c')).toBeNull();
    });

    test('values and keys with unusual characters round-trip (get, list, CAS)', async () => {
      const key = 'a % b/&#文档😀 *?[x]\\ :';
      const value = '{"x":"\u0000 é 😀\n"}'.repeat(100);
      await store.set('ns', key, value);
      expect(await store.get('ns', key)).toBe(value);
      expect(await store.list('ns')).toEqual([{ key, value, expiresAt: null }]);
      expect(await store.compareAndSet('ns', key, value, `${value}!`)).toEqual({ ok: true, current: `${value}!` });
    });

    test('delete removes; deleting an absent key is no error', async () => {
      await store.set('ns', 'k', 'v');
      await store.delete('ns', 'k');
      expect(await store.get('ns', 'k')).toBeNull();
      await expect(store.delete('ns', 'never')).resolves.toBeUndefined();
    });

    test('a ttl becomes the key\'s PX expiry; set without a ttl clears it', async () => {
      await store.set('ns', 'k', 'v', 60_000);
      const t = await pttl('ns', 'k');
      expect(typeof t === 'number' && t > 59_000 && t <= 60_000).toBe(true);
      await store.set('ns', 'k', 'v2');
      expect(await pttl('ns', 'k')).toBe(-1);
      expect(await store.get('ns', 'k')).toBe('v2');
    });

    test('a value with a (short, real) ttl is gone after it: get, list and CAS see it as absent', async () => {
      await store.set('ns', 'k', 'v', 100);
      expect(await store.get('ns', 'k')).toBe('v');
      await delay(200);
      expect(await store.get('ns', 'k')).toBeNull();
      expect(await store.list('ns')).toEqual([]);
      expect(await store.compareAndSet('ns', 'k', 'v', 'w')).toEqual({ ok: false, current: null });
      expect(await store.compareAndSet('ns', 'k', null, 'w')).toEqual({ ok: true, current: 'w' });
    });

    test('a ttl <= 0 means already expired; a fractional ttl is rounded up; NaN/Infinity are refused', async () => {
      await store.set('ns', 'k', 'v', 0);
      expect(await store.get('ns', 'k')).toBeNull();
      await store.set('ns', 'k', 'v');
      await store.set('ns', 'k', 'v', -5);
      expect(await store.get('ns', 'k')).toBeNull();
      expect(await store.compareAndSet('ns', 'k', null, 'v', 0)).toEqual({ ok: true, current: 'v' });
      expect(await store.get('ns', 'k')).toBeNull();
      await store.set('ns', 'k', 'v', 59_999.2);
      const t = await pttl('ns', 'k');
      expect(typeof t === 'number' && t > 59_000 && t <= 60_000).toBe(true);
      expect(await rejection(store.set('ns', 'k', 'v', Number.NaN))).toBeInstanceOf(StateStoreError);
      expect(await rejection(store.compareAndSet('ns', 'k', 'v', 'w', Number.POSITIVE_INFINITY))).toBeInstanceOf(StateStoreError);
      expect(await store.get('ns', 'k')).toBe('v');
    });

    test('CAS on an absent key with expected null creates it', async () => {
      expect(await store.compareAndSet('ns', 'k', null, 'v')).toEqual({ ok: true, current: 'v' });
      expect(await store.get('ns', 'k')).toBe('v');
      expect(await pttl('ns', 'k')).toBe(-1);
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

    test('CAS with next null deletes the value; a failed CAS delete keeps it', async () => {
      await store.set('ns', 'k', 'v', 5000);
      expect(await store.compareAndSet('ns', 'k', 'other', null)).toEqual({ ok: false, current: 'v' });
      expect(await store.get('ns', 'k')).toBe('v');
      expect(await store.compareAndSet('ns', 'k', 'v', null)).toEqual({ ok: true, current: null });
      expect(await store.get('ns', 'k')).toBeNull();
      expect(await store.list('ns')).toEqual([]);
      expect(await store.compareAndSet('ns', 'k', null, null)).toEqual({ ok: true, current: null });
    });

    test('CAS with a ttl sets the PX expiry; without one it clears an earlier one', async () => {
      await store.compareAndSet('ns', 'a', null, 'x', 30_000);
      const t = await pttl('ns', 'a');
      expect(typeof t === 'number' && t > 29_000 && t <= 30_000).toBe(true);
      await store.compareAndSet('ns', 'a', 'x', 'y');
      expect(await pttl('ns', 'a')).toBe(-1);
    });

    test('CAS runs as EVALSHA, and still works after the script cache was flushed (NOSCRIPT → EVAL)', async () => {
      const calls = async (cmd: string): Promise<number> => {
        const info = await redisCommand(redis.port, ['INFO', 'commandstats']);
        const m = typeof info === 'string' ? new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info) : null;
        return Number(m?.[1] ?? 0);
      };
      await store.compareAndSet('ns', 'warm', null, 'x');
      const before = await calls('evalsha');
      await store.compareAndSet('ns', 'k', null, 'v');
      expect(await calls('evalsha')).toBe(before + 1);
      expect(await redisCommand(redis.port, ['SCRIPT', 'FLUSH'])).toBe('OK');
      expect(await store.compareAndSet('ns', 'k', 'v', 'w')).toEqual({ ok: true, current: 'w' });
      expect(await store.get('ns', 'k')).toBe('w');
    });

    test('list returns every live entry of the namespace only, with expiresAt = now + PTTL', async () => {
      const t0 = 1_800_000_000_000;
      const fixed = await open(redis.url, { prefix, now: () => t0 });
      await store.set('ns', 'b', '2');
      await store.set('ns', 'a', '1', 60_000);
      await store.set('other', 'c', '3');
      await store.set('nsx', 'd', '4');
      const rows = await fixed.list('ns');
      expect(rows.map((r) => [r.key, r.value])).toEqual([
        ['a', '1'],
        ['b', '2'],
      ]);
      const a = rows[0]?.expiresAt;
      expect(typeof a === 'number' && a > t0 + 59_000 && a <= t0 + 60_000).toBe(true);
      expect(rows[1]?.expiresAt).toBeNull();
      expect(await store.list('empty')).toEqual([]);
    });

    test('list walks every SCAN page (2,500 keys) and escapes glob characters in prefix and namespace', async () => {
      const globPrefix = `${uniquePrefix()}*?[`;
      const g = await open(redis.url, { prefix: globPrefix });
      const other = await open(redis.url, { prefix: `${globPrefix}x` });
      await Promise.all(Array.from({ length: 2500 }, (_, i) => g.set('n*', `k${String(i).padStart(4, '0')}`, `v${i}`)));
      await g.set('nX', 'glob would match', 'no');
      await other.set('n*', 'other prefix', 'no');
      const rows = await g.list('n*');
      expect(rows).toHaveLength(2500);
      expect(rows[0]).toEqual({ key: 'k0000', value: 'v0', expiresAt: null });
      expect(rows[2499]).toEqual({ key: 'k2499', value: 'v2499', expiresAt: null });
      expect(new Set(rows.map((r) => r.key)).size).toBe(2500);
    }, SLOW);

    test('concurrent CAS from null on one key: exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.compareAndSet('ns', 'k', null, `v${i}`)));
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const value = winners[0]?.current;
      expect(await store.get('ns', 'k')).toBe(value);
      for (const r of results.filter((x) => !x.ok)) expect(r.current).toBe(value);
    });

    test('a key of another type under the prefix: get fails closed (not null), list skips it', async () => {
      await redisCommand(redis.port, ['HSET', `${prefix}ns:hash`, 'f', 'v']);
      await store.set('ns', 'k', 'v');
      expect(await rejection(store.get('ns', 'hash'))).toBeInstanceOf(StateStoreError);
      expect(await rejection(store.compareAndSet('ns', 'hash', null, 'v'))).toBeInstanceOf(StateStoreError);
      expect(await store.list('ns')).toEqual([{ key: 'k', value: 'v', expiresAt: null }]);
    });
  });

  describe('key layout', () => {
    test('keys are `${prefix}${ns}:${key}`, prefix `wopi-bridge:` by default, plain string values', async () => {
      const ns = `layout-${process.pid}`;
      const s = await open(redis.url);
      await s.set(ns, 'f1', 'L1', 60_000);
      expect(await redisCommand(redis.port, ['GET', `wopi-bridge:${ns}:f1`])).toBe('L1');
      expect(await redisCommand(redis.port, ['TYPE', `wopi-bridge:${ns}:f1`])).toBe('string');
      await s.delete(ns, 'f1');
      const custom = await open(redis.url, { prefix: 'acme/' });
      await custom.set(ns, 'f2', 'x');
      expect(await redisCommand(redis.port, ['GET', `acme/${ns}:f2`])).toBe('x');
      expect(await s.get(ns, 'f2')).toBeNull();
      await custom.delete(ns, 'f2');
    });
  });

  describe('two store instances on one Redis', () => {
    test("see each other's writes, deletes and expiries", async () => {
      const prefix = uniquePrefix();
      const a = await open(redis.url, { prefix });
      const b = await open(redis.url, { prefix });
      await a.set('ns', 'k', 'from a', 60_000);
      expect(await b.get('ns', 'k')).toBe('from a');
      expect((await b.list('ns')).map((r) => r.key)).toEqual(['k']);
      expect(await b.compareAndSet('ns', 'k', 'from a', 'from b')).toEqual({ ok: true, current: 'from b' });
      expect(await a.get('ns', 'k')).toBe('from b');
      await b.delete('ns', 'k');
      expect(await a.get('ns', 'k')).toBeNull();
    });

    test('doing CAS on the same key: one wins, the other sees the winner', async () => {
      const prefix = uniquePrefix();
      const a = await open(redis.url, { prefix });
      const b = await open(redis.url, { prefix });
      for (let i = 0; i < 50; i++) {
        const [ra, rb] = await Promise.all([a.compareAndSet('lock', `f${i}`, null, 'A'), b.compareAndSet('lock', `f${i}`, null, 'B')]);
        expect([ra.ok, rb.ok].filter(Boolean)).toHaveLength(1);
        const winner = ra.ok ? 'A' : 'B';
        expect([ra.current, rb.current]).toEqual([winner, winner]);
        expect(await b.get('lock', `f${i}`)).toBe(winner);
      }
    });

    test('Locks: 1,000 rounds of 20 concurrent Lock attempts (different ids, two stores) give exactly one winner each', async () => {
      const prefix = uniquePrefix();
      const stores = [await open(redis.url, { prefix }), await open(redis.url, { prefix })];
      const locks = stores.map((s) => new Locks(s, 30 * 60_000));
      const anomalies: string[] = [];
      const t0 = performance.now();
      for (let round = 0; round < 1000; round++) {
        const ids = Array.from({ length: 20 }, (_, i) => `lock-${round}-${i}`);
        const results = await Promise.allSettled(ids.map((id, i) => locks[i % 2]!.apply('file-1', { kind: 'lock', id })));
        const winners = ids.filter((_, i) => results[i]?.status === 'fulfilled');
        if (winners.length !== 1) {
          anomalies.push(`round ${round}: ${winners.length} winners`);
          continue;
        }
        const winner = winners[0]!;
        for (const r of results) {
          if (r.status === 'fulfilled') continue;
          const e = r.reason as unknown;
          if (!(e instanceof LockConflictError) || e.headers['X-WOPI-Lock'] !== winner) anomalies.push(`round ${round}: ${inspect(e)}`);
        }
        const held = await locks[round % 2]!.get('file-1');
        if (held?.id !== winner) anomalies.push(`round ${round}: store holds ${held?.id}, winner ${winner}`);
        await locks[(round + 1) % 2]!.apply('file-1', { kind: 'unlock', id: winner });
      }
      const ms = performance.now() - t0;
      figures.push(`1,000 Lock rounds x 20 clients over 2 stores: ${Math.round(ms)} ms (${(ms / 1000).toFixed(2)} ms/round)`);
      expect(anomalies).toEqual([]);
      expect(await locks[0]!.get('file-1')).toBeNull();
    }, 120_000);
  });
});

describe('RedisStateStore when Redis crashes, stops or freezes', () => {
  let redis: RedisServer;
  beforeEach(async () => {
    redis = await startRedis({ appendonly: true });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await redis.stop();
  });

  test('appendonly yes, SIGKILL, restart on the same port and dir: data survives and the store reconnects by itself', async () => {
    const store = await open(redis.url);
    const locks = new Locks(store, 60_000);
    await store.set('ids', 'x', 'y');
    await locks.apply('file', { kind: 'lock', id: 'L1' });
    await redis.kill();
    await redis.restart();
    const t0 = performance.now();
    expect(await eventually(() => store.get('ids', 'x'))).toBe('y');
    figures.push(`reconnect after SIGKILL + restart (measured from restart done): ${Math.round(performance.now() - t0)} ms`);
    expect((await locks.get('file'))?.id).toBe('L1');
    // The lock kept its expiry; the CAS script (gone with the restart's empty script cache) still works.
    const t = await redisCommand(redis.port, ['PTTL', 'wopi-bridge:lock:file']);
    expect(typeof t === 'number' && t > 0 && t <= 60_000).toBe(true);
    await expect(locks.apply('file', { kind: 'lock', id: 'L2' })).rejects.toBeInstanceOf(LockConflictError);
    await locks.apply('file', { kind: 'unlock', id: 'L1' });
    expect(await locks.get('file')).toBeNull();
  }, SLOW);

  test('Redis stopped: every method rejects with StateStoreError at once (fail closed); Redis back: works again, same store', async () => {
    const store = await open(redis.url);
    await store.set('ns', 'k', 'before');
    await redis.kill();
    // Right after the crash, and again while ioredis keeps reconnecting in the background.
    const first = await expectAllFailClosed(store, 3000);
    await delay(1500);
    const later = await expectAllFailClosed(store, 3000);
    figures.push(`Redis down (connection refused): slowest rejection ${first.toFixed(1)} ms right after the crash, ${later.toFixed(1)} ms 1.5 s later`);
    const e = await rejection(store.get('ns', 'k'));
    expect(isWopiError(e) && e.detail).toMatchObject({ op: 'get', backend: 'redis', server: `127.0.0.1:${redis.port}` });

    await redis.restart();
    expect(await eventually(() => store.get('ns', 'k'))).toBe('before');
    await store.set('ns', 'k', 'after');
    expect(await store.compareAndSet('ns', 'k', 'after', 'cas')).toEqual({ ok: true, current: 'cas' });
    const locks = new Locks(store, 60_000);
    await locks.apply('file', { kind: 'lock', id: 'L' });
    expect(await store.list('lock')).toHaveLength(1);
  }, SLOW);

  test('Redis frozen (SIGSTOP): every method rejects with StateStoreError within the command timeout; resumed: works again', async () => {
    const store = await open(redis.url); // default command timeout: 2000 ms
    await store.set('keep', 'k', 'before');
    const pid = await pidOf(redis);
    process.kill(pid, 'SIGSTOP');
    try {
      const slowest = await expectAllFailClosed(store, 3000);
      expect(slowest).toBeGreaterThan(1500); // really waited for the timeout, not a stale error
      figures.push(`Redis frozen (SIGSTOP), default commandTimeout 2000 ms: slowest rejection ${Math.round(slowest)} ms`);
      // The silent connection was dropped; reconnecting to a frozen server does not get ready: later calls fail at once.
      const again = await expectAllFailClosed(store, 3000);
      figures.push(`Redis still frozen, second round: slowest rejection ${Math.round(again)} ms`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await eventually(() => store.get('keep', 'k'))).toBe('before');
    await store.set('ns', 'fresh', '1');
    expect(await store.compareAndSet('ns', 'fresh', '1', '2')).toEqual({ ok: true, current: '2' });
  }, SLOW);

  test('FACT: a write that timed out against a frozen Redis is still applied when it resumes (the outcome is unknown, not "not done")', async () => {
    const store = await open(redis.url, { commandTimeoutMs: 500 });
    const locks = new Locks(store, 60_000);
    const pid = await pidOf(redis);
    await store.set('ns', 'k', 'before');
    process.kill(pid, 'SIGSTOP');
    let casError: unknown;
    try {
      // get + CAS of Locks.apply: the GET times out, nothing reaches the CAS; a bare CAS is sent and times out.
      expect(await rejection(locks.apply('file', { kind: 'lock', id: 'L' }))).toBeInstanceOf(StateStoreError);
      casError = await rejection(store.compareAndSet('ns', 'k', 'before', 'written while frozen'));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(casError).toBeInstanceOf(StateStoreError);
    // The bytes were already in the server's socket buffer; Redis executes them on resuming.
    expect(await eventually(() => store.get('ns', 'k'))).toBe('written while frozen');
    expect(await locks.get('file')).toBeNull();
  }, SLOW);

  test('a command in flight when Redis dies rejects at once, not after the command timeout', async () => {
    const store = await open(redis.url, { commandTimeoutMs: 10_000 });
    const pid = await pidOf(redis);
    process.kill(pid, 'SIGSTOP');
    const inFlight = timed(store.compareAndSet('ns', 'k', null, 'v'));
    await delay(200);
    await redis.kill(); // SIGKILL works on a stopped process
    const { ms, outcome } = await inFlight;
    expect(outcome.status).toBe('rejected');
    expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(StateStoreError);
    expect(ms).toBeLessThan(2000);
    figures.push(`command in flight when Redis died (commandTimeout 10 s): rejected after ${Math.round(ms)} ms`);
  }, SLOW);

  test('close() is prompt while Redis is down; a closed store rejects with StateStoreError', async () => {
    const store = await open(redis.url);
    await redis.kill();
    const { ms } = await timed(store.close());
    expect(ms).toBeLessThan(1000);
    await store.close();
    expect(await rejection(store.get('ns', 'k'))).toBeInstanceOf(StateStoreError);
    await redis.restart();
    expect(await rejection(store.get('ns', 'k'))).toBeInstanceOf(StateStoreError);
  }, SLOW);
});

describe('createRedisStateStore errors', () => {
  const PASSWORD = 'S3cr3t-p@ss:w/rd%';
  const encoded = encodeURIComponent(PASSWORD);
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis({ appendonly: false });
    expect(await redisCommand(redis.port, ['CONFIG', 'SET', 'requirepass', PASSWORD])).toBe('OK');
  });
  afterAll(async () => {
    await redis.stop();
  });

  /** The error, its detail, its cause chain and its inspect() output never contain the password. */
  function expectNoSecret(e: unknown, secret: string): void {
    const texts = [inspect(e, { depth: 10 }), JSON.stringify(e), e instanceof Error ? e.message : '', JSON.stringify(isWopiError(e) ? e.detail : {})];
    let c: unknown = e instanceof Error ? e.cause : undefined;
    while (c !== undefined) {
      texts.push(inspect(c, { depth: 10 }));
      c = c instanceof Error ? c.cause : undefined;
    }
    for (const t of texts) {
      expect(t).not.toContain(secret);
      expect(t).not.toContain(encodeURIComponent(secret));
    }
  }

  async function creationError(url: string, options: RedisStateStoreOptions = {}): Promise<{ e: unknown; ms: number }> {
    const { ms, outcome } = await timed(createRedisStateStore(url, options));
    if (outcome.status === 'fulfilled') {
      await outcome.value.close();
      throw new Error('expected createRedisStateStore to reject');
    }
    return { e: outcome.reason, ms };
  }

  test('the right password (percent-encoded in the URL, with or without user "default") connects', async () => {
    const a = await open(`redis://:${encoded}@127.0.0.1:${redis.port}`);
    const b = await open(`redis://default:${encoded}@127.0.0.1:${redis.port}/0`);
    await a.set('ns', 'k', 'v');
    expect(await b.get('ns', 'k')).toBe('v');
    await b.delete('ns', 'k');
  });

  test('a wrong password: a prompt, clear StateStoreError without the password', async () => {
    const wrong = 'Wr0ng-Passw0rd-XYZ';
    const { e, ms } = await creationError(`redis://:${wrong}@127.0.0.1:${redis.port}`);
    expect(e).toBeInstanceOf(StateStoreError);
    expect(isWopiError(e) && e.status).toBe(500);
    expect(isWopiError(e) && String(e.detail.reason)).toMatch(/authentication failed: WRONGPASS/);
    expect(ms).toBeLessThan(2000);
    expectNoSecret(e, wrong);
    expectNoSecret(e, PASSWORD);
    figures.push(`wrong password at creation: rejected after ${Math.round(ms)} ms`);
  });

  test('no password for a server that needs one: a clear StateStoreError (NOAUTH)', async () => {
    const { e } = await creationError(`redis://127.0.0.1:${redis.port}`);
    expect(e).toBeInstanceOf(StateStoreError);
    expect(isWopiError(e) && String(e.detail.reason)).toMatch(/authentication failed: NOAUTH/);
  });

  test('an unreachable server: StateStoreError after the bounded wait, without the password', async () => {
    const gone = await startRedis({ appendonly: false });
    const port = gone.port;
    await gone.stop();
    const secret = 'Unreachable-Secret-123';
    const { e, ms } = await creationError(`redis://user:${secret}@127.0.0.1:${port}`, { connectTimeoutMs: 1000 });
    expect(e).toBeInstanceOf(StateStoreError);
    expect(isWopiError(e) && e.detail).toMatchObject({ op: 'connect', backend: 'redis', server: `127.0.0.1:${port}` });
    expect(isWopiError(e) && String(e.detail.reason)).toMatch(/not ready within 1000 ms: .*ECONNREFUSED/);
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(2000);
    expectNoSecret(e, secret);
    figures.push(`unreachable URL at creation (connectTimeoutMs 1000): rejected after ${Math.round(ms)} ms`);
  }, SLOW);

  test('a server that comes up during the bounded wait is used', async () => {
    const late = await startRedis({ appendonly: false });
    try {
      await late.kill();
      const pending = createRedisStateStore(late.url, { connectTimeoutMs: 10_000 });
      await delay(300);
      await late.restart();
      const store = await pending;
      opened.push(store);
      await store.set('ns', 'k', 'v');
      expect(await store.get('ns', 'k')).toBe('v');
    } finally {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await late.stop();
    }
  }, SLOW);

  test('invalid URLs and options are refused with StateStoreError, echoing no credentials', async () => {
    for (const url of ['not a url', 'http://user:Http-Secret-9@127.0.0.1:1', 'redis://', '']) {
      const { e } = await creationError(url);
      expect(e).toBeInstanceOf(StateStoreError);
      expectNoSecret(e, 'Http-Secret-9');
    }
    const { e } = await creationError(`redis://127.0.0.1:${redis.port}`, { commandTimeoutMs: 0 });
    expect(e).toBeInstanceOf(StateStoreError);
  });
});
