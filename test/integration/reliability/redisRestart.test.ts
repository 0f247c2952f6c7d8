import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { cleanupProcesses, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { startTestBridge, TEST_SECRETS } from '../../helpers/testBridge.js';

const auth = (d: RcloneWebdav): string => `Basic ${Buffer.from(`${d.user}:${d.pass}`).toString('base64')}`;

/** How long a request may take while Redis is down (the Redis state store's command timeout is 2 s). */
const FAIL_FAST_MS = 4000;

// Fault: Redis (appendonly yes) SIGKILLed and restarted under a bridge running as a real process. Locks survive;
// while Redis is down every lock decision and every save fails closed (500), nothing lands on the drive.
describe('Redis restarts in the middle of an editing session (bridge as a process)', () => {
  let redis: RedisServer;
  let drive: RcloneWebdav;
  let bridge: SpawnedBridge;
  let wopiSrc: string;
  let token: string;
  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
    drive = await startRcloneWebdav();
    const put = await fetch(`${drive.url}/Session.docx`, { method: 'PUT', headers: { Authorization: auth(drive) }, body: 'v1' });
    expect(put.status).toBeLessThan(300);
    // The file id and a token, issued the way `wopi-bridge token` does, by an instance sharing the same Redis.
    const issuer = await startTestBridge({ REDIS_URL: redis.url, STORAGE_URL: drive.url, STORAGE_USER: drive.user, STORAGE_PASSWORD: drive.pass });
    const opened = await issuer.open('/Session.docx');
    token = opened.token;
    await issuer.stop();
    bridge = await spawnBridge({
      REDIS_URL: redis.url,
      STORAGE_URL: drive.url,
      STORAGE_USER: drive.user,
      STORAGE_PASSWORD: drive.pass,
      WOPI_TOKEN_SECRET: TEST_SECRETS.tokenSecret,
    });
    wopiSrc = `${bridge.url}/wopi/files/${opened.fileId}`;
  });
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await cleanupProcesses();
    await drive.stop();
    await redis.stop();
  });

  const url = (suffix = ''): string => `${wopiSrc}${suffix}?access_token=${encodeURIComponent(token)}`;
  const post = (override: string, headers: Record<string, string> = {}): Promise<Response> => fetch(url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers } });
  const save = (body: string, lock: string): Promise<Response> => fetch(url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock }, body });
  const onDrive = async (): Promise<string> => (await fetch(`${drive.url}/Session.docx`, { headers: { Authorization: auth(drive) } })).text();
  const timed = async (label: string, p: () => Promise<Response>): Promise<[string, number, boolean]> => {
    const started = performance.now();
    const res = await p();
    await res.arrayBuffer();
    return [label, res.status, performance.now() - started <= FAIL_FAST_MS];
  };
  /** Polls until `check` answers 200 (ioredis reconnects by itself, with a backoff capped at 1 s). */
  const whenBack = async (check: () => Promise<Response>): Promise<Response> => {
    for (let i = 0; i < 100; i++) {
      const res = await check();
      if (res.status === 200) return res;
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('Redis never came back for the bridge');
  };

  test('SIGKILL: fail closed while down (500, fast, nothing written); after the restart the lock is there and the session goes on', async () => {
    expect((await post('LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
    expect(await (await fetch(url('/contents'))).text()).toBe('v1');
    expect((await save('v2', 'L')).status).toBe(200);

    await redis.kill();
    const whileDown = [
      await timed('Lock (same id)', () => post('LOCK', { 'X-WOPI-Lock': 'L' })),
      await timed('Lock (another id)', () => post('LOCK', { 'X-WOPI-Lock': 'thief' })),
      await timed('RefreshLock', () => post('REFRESH_LOCK', { 'X-WOPI-Lock': 'L' })),
      await timed('GetLock', () => post('GET_LOCK')),
      await timed('Unlock', () => post('UNLOCK', { 'X-WOPI-Lock': 'L' })),
      await timed('PutFile', () => save('must not land', 'L')),
      await timed('PutFile (another lock)', () => save('must not land either', 'thief')),
    ];
    expect(whileDown).toEqual(whileDown.map(([label]) => [label, 500, true]));
    expect(await onDrive()).toBe('v2');
    expect((await fetch(`${bridge.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${bridge.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ state: { ok: false } });

    await redis.restart();
    const getLock = await whenBack(() => post('GET_LOCK'));
    expect(getLock.headers.get('x-wopi-lock')).toBe('L');
    const thief = await post('LOCK', { 'X-WOPI-Lock': 'thief' });
    expect(thief.status).toBe(409);
    expect(thief.headers.get('x-wopi-lock')).toBe('L');
    expect((await save('v3 after the Redis crash', 'L')).status).toBe(200);
    expect(await onDrive()).toBe('v3 after the Redis crash');
    expect((await fetch(`${bridge.url}/readyz`)).status).toBe(200);
    expect(bridge.child.exitCode).toBeNull();
  }, 60_000);

  test('a graceful Redis restart (SIGTERM): the lock survives, the save after it lands', async () => {
    expect((await post('REFRESH_LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
    await redis.restart();
    const getLock = await whenBack(() => post('GET_LOCK'));
    expect(getLock.headers.get('x-wopi-lock')).toBe('L');
    expect((await save('v4 after a graceful restart', 'L')).status).toBe(200);
    expect(await onDrive()).toBe('v4 after a graceful restart');
    expect((await post('UNLOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
    // The bridge stayed up through both restarts and logged no crash; it still stops cleanly.
    expect(bridge.entries().filter((e) => (e.level as number) >= 60)).toEqual([]);
    expect(await bridge.stop('SIGTERM')).toBe(0);
  }, 60_000);
});
