/**
 * Benchmark 4: WOPI lock operations over HTTP at 200 concurrent clients: each client locks and unlocks its own files
 * in turn (LOCK then UNLOCK, as a pair), with the state in the embedded SQLite store and in Redis. Two ceilings are
 * measured beside them, to say where the limit is: the bridge's cheapest request (GET /healthz) at the same
 * concurrency, and the lock store alone (Locks.apply in this process, no HTTP).
 *
 * @module
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { redisCommand, startRedis, type RedisServer } from '../helpers/redisServer.js';
import { Locks } from '../../connector/src/locks/Locks.js';
import { SqliteStateStore } from '../../connector/src/state/SqliteStateStore.js';
import type { StateStore } from '../../connector/src/state/StateStore.js';
import { importRedisStore, redisStoreBuilt, runtimeWiresRedis, startBenchBridge, type BenchBridge } from './bridgeProcess.js';
import type { WopiClient, WopiFile } from './clients.js';
import type { BenchContext } from './context.js';
import { pseudoRandomBytes } from './data.js';
import { closedLoop, type LoopResult, type Recorder } from './load.js';
import { verdict, type Row, type SectionResult } from './report.js';
import { fmt, ms, rounded } from './stats.js';

export const LOCK_CLIENTS = 200;

/**
 * Writes `count` small files into a folder the embedded drive will serve.
 * @returns their drive paths
 */
export async function seedLockFiles(filesDir: string, count: number): Promise<string[]> {
  await mkdir(filesDir, { recursive: true });
  const paths = Array.from({ length: count }, (_, i) => `/lock-${i}.docx`);
  await Promise.all(paths.map((p) => writeFile(path.join(filesDir, p), pseudoRandomBytes(1024, p))));
  return paths;
}

/**
 * One LOCK/UNLOCK pair of one client on one of its files, recorded as 'Lock' and 'Unlock'.
 * @param client the client's number; its lock id is derived from it
 * @param f the file (no other client uses it)
 */
export async function lockPair(rec: Recorder, wopi: WopiClient, client: number, f: WopiFile): Promise<void> {
  const id = `bench-lock-${client}`;
  const locked = await rec.time('Lock', () => wopi.lock(f, id));
  if (locked === null || locked.status !== 200) return;
  await rec.time('Unlock', () => wopi.unlock(f, id));
}

/** Closed loop of lock pairs: client c uses files c, c + clients, c + 2·clients, … in turn. */
async function lockLoad(wopi: WopiClient, files: WopiFile[], durationMs: number, clients: number, serverPid: number): Promise<LoopResult> {
  const perClient = Math.max(1, Math.floor(files.length / clients));
  return closedLoop({
    concurrency: clients,
    durationMs,
    maxOps: 2_000_000,
    warmupMs: 1000,
    serverPid,
    task: (client, it, rec) => lockPair(rec, wopi, client, files[client + (it % perClient) * clients] as WopiFile),
  });
}

/** Locks.apply lock+unlock pairs on a store in this process: the store's own ceiling (no HTTP, no token, no drive). */
async function storeCeiling(store: StateStore, durationMs: number, clients: number): Promise<LoopResult> {
  const locks = new Locks(store, 30 * 60 * 1000);
  return closedLoop({
    concurrency: clients,
    durationMs,
    maxOps: 5_000_000,
    warmupMs: 300,
    task: async (client, it, rec) => {
      const fileId = `ceiling-${client}-${it % 5}`;
      const id = `L${client}`;
      for (const kind of ['lock', 'unlock'] as const) {
        const t = performance.now();
        try {
          await locks.apply(fileId, { kind, id });
          rec.record(kind, performance.now() - t, null);
        } catch (e) {
          rec.record(kind, performance.now() - t, (e as Error).message);
        }
      }
    },
  });
}

function lockRow(store: string, loop: LoopResult, minPerSecond: number): Row[] {
  const rec = loop.recorder;
  const all = rec.summary();
  const errors = rec.errors();
  const note = errors > 0 ? `${errors} errors: ${rec.firstErrors.slice(0, 3).join('; ')}` : undefined;
  return [
    {
      section: '4',
      figure: `Lock ops/s at ${LOCK_CLIENTS} clients, ${store} store`,
      measured: `${fmt(loop.perSecond)}/s; bridge at ${fmt((loop.cpu?.serverCores ?? Number.NaN) * 100, 1)}% of a core, ${ms(loop.cpu?.serverMsPerRequest ?? Number.NaN)} CPU/op`,
      target: `≥ ${minPerSecond.toLocaleString('en-US')}/s`,
      verdict: errors > 0 ? 'FAIL' : verdict(loop.perSecond >= minPerSecond),
      ...(note !== undefined ? { note } : {}),
    },
    {
      section: '4',
      figure: `Lock op p99 at ${LOCK_CLIENTS} clients, ${store} store`,
      measured: `${ms(all.p99)} (LOCK ${ms(rec.summary('Lock').p99)}, UNLOCK ${ms(rec.summary('Unlock').p99)})`,
      target: '< 10 ms',
      verdict: errors > 0 ? 'FAIL' : verdict(all.p99 < 10),
    },
  ];
}

function loopDetails(loop: LoopResult): Record<string, unknown> {
  const rec = loop.recorder;
  return {
    perSecond: loop.perSecond,
    elapsedMs: loop.elapsedMs,
    cpu: loop.cpu ?? null,
    requests: rec.count(),
    errors: rec.errors(),
    firstErrors: rec.firstErrors,
    latencyMs: Object.fromEntries(rec.ops().map((op) => [op, rounded(rec.summary(op))])),
  };
}

/**
 * Runs the lock benchmark on the SQLite store and, when it can, on Redis.
 * @param ctx the runner's context
 */
export async function runLocks(ctx: BenchContext): Promise<SectionResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const durationMs = ctx.quick ? 2000 : 6000;
  const filesDir = path.join(ctx.workDir, 'locks-files');
  const paths = await seedLockFiles(filesDir, ctx.quick ? 400 : 1000);

  const measureBridge = async (bridge: BenchBridge, store: string, minPerSecond: number): Promise<void> => {
    const files = await bridge.openMany(paths);
    const wopi = bridge.wopi(LOCK_CLIENTS);
    ctx.progress('4 locks', `${store}: ${LOCK_CLIENTS} clients for ${durationMs / 1000} s`);
    const loop = await lockLoad(wopi, files, durationMs, LOCK_CLIENTS, bridge.pid);
    rows.push(...lockRow(store, loop, minPerSecond));
    details[`${store}/http`] = loopDetails(loop);
    // The same bridge's cheapest request at the same concurrency: the HTTP ceiling of one bridge process here.
    const health = await closedLoop({
      concurrency: LOCK_CLIENTS,
      durationMs: Math.min(durationMs, 3000),
      maxOps: 2_000_000,
      warmupMs: 500,
      serverPid: bridge.pid,
      task: async (_c, _i, rec) => {
        await rec.time('healthz', () => wopi.health());
      },
    });
    details[`${store}/healthzCeiling`] = loopDetails(health);
    rows.push({
      section: '4',
      figure: `ceiling: GET /healthz/s at ${LOCK_CLIENTS} clients (${store} run)`,
      measured: `${fmt(health.perSecond)}/s (p99 ${ms(health.recorder.summary().p99)}), ${ms(health.cpu?.serverMsPerRequest ?? Number.NaN)} CPU/request, load generator at ${fmt((health.cpu?.clientCores ?? Number.NaN) * 100, 1)}% of a core`,
      target: '',
      verdict: 'INFO',
    });
    wopi.http.close();
  };

  // SQLite (the default store).
  const sqliteBridge = await startBenchBridge({ label: 'locks-sqlite', drive: 'embedded', workDir: ctx.workDir, filesDir, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
  try {
    await measureBridge(sqliteBridge, 'SQLite', 10_000);
  } finally {
    await sqliteBridge.stop();
  }
  const sqliteFile = path.join(await mkdtemp(path.join(ctx.workDir, 'ceiling-')), 'state.sqlite');
  const sqlite = new SqliteStateStore(sqliteFile);
  try {
    ctx.progress('4 locks', 'SQLite store alone (in process)');
    const ceiling = await storeCeiling(sqlite, Math.min(durationMs, 3000), LOCK_CLIENTS);
    details['SQLite/storeCeiling'] = loopDetails(ceiling);
    rows.push({ section: '4', figure: 'ceiling: Locks.apply ops/s, SQLite store alone', measured: `${fmt(ceiling.perSecond)}/s (p99 ${ms(ceiling.recorder.summary().p99)})`, target: '', verdict: 'INFO' });
  } finally {
    await sqlite.close();
  }

  // Redis.
  if (!redisStoreBuilt() || !runtimeWiresRedis()) {
    const note = 'the bridge has no Redis store yet (connector/src/state/RedisStateStore.ts, REDIS_URL in runtime.ts)';
    rows.push({ section: '4', figure: `Lock ops/s at ${LOCK_CLIENTS} clients, Redis store`, measured: '—', target: '≥ 3,000/s', verdict: 'SKIP', note });
    details.Redis = { skipped: note };
    return { rows, details };
  }
  let redis: RedisServer | undefined;
  try {
    redis = await startRedis({ dir: await mkdtemp(path.join(ctx.workDir, 'redis-')), appendonly: true });
    const bridge = await startBenchBridge({ label: 'locks-redis', drive: 'embedded', workDir: ctx.workDir, filesDir, redisUrl: redis.url, ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    try {
      await measureBridge(bridge, 'Redis', 3000);
    } finally {
      await bridge.stop();
    }
    // Proof the bridge kept its state in Redis (its file ids at least), not in SQLite.
    const keys = await redisCommand(redis.port, ['DBSIZE']);
    details['Redis/keysAfterRun'] = keys;
    if (typeof keys !== 'number' || keys === 0) throw new Error('the Redis run left no key in Redis: the bridge did not use the Redis store');
    const store = await (await importRedisStore()).createRedisStateStore(redis.url);
    try {
      ctx.progress('4 locks', 'Redis store alone (in process)');
      const ceiling = await storeCeiling(store, Math.min(durationMs, 3000), LOCK_CLIENTS);
      details['Redis/storeCeiling'] = loopDetails(ceiling);
      rows.push({ section: '4', figure: 'ceiling: Locks.apply ops/s, Redis store alone', measured: `${fmt(ceiling.perSecond)}/s (p99 ${ms(ceiling.recorder.summary().p99)})`, target: '', verdict: 'INFO' });
    } finally {
      await store.close();
    }
  } finally {
    await redis?.stop();
  }
  return { rows, details };
}
