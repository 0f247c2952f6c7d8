import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

type Opened = Awaited<ReturnType<TestBridge['open']>>;

const post = (f: Opened, override: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers } });
const put = (f: Opened, body: string, lock: string): Promise<Response> =>
  fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock }, body });

// Two bridge instances over one drive, sharing one redis-server: locks, file ids and loaded versions are shared.
describe('two bridge instances sharing Redis', () => {
  let redis: RedisServer;
  let drive: RcloneWebdav;
  let a: TestBridge;
  let b: TestBridge;
  const env = (): Record<string, string> => ({ REDIS_URL: redis.url, STORAGE_URL: drive.url, STORAGE_USER: drive.user, STORAGE_PASSWORD: drive.pass });
  beforeAll(async () => {
    redis = await startRedis({ appendonly: true });
    drive = await startRcloneWebdav();
    a = await startTestBridge(env());
    b = await startTestBridge(env());
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
    await drive.stop();
    await redis.stop();
  });

  test('the same file has the same id on both; a lock taken through one is honoured by the other', async () => {
    await rawDrive(a).put('/Shared.docx', Buffer.from('v1'));
    const fa = await a.open('/Shared.docx');
    const fb = await b.open('/Shared.docx');
    expect(fb.fileId).toBe(fa.fileId);
    expect((await post(fa, 'LOCK', { 'X-WOPI-Lock': 'from-a' })).status).toBe(200);
    const other = await post(fb, 'LOCK', { 'X-WOPI-Lock': 'from-b' });
    expect(other.status).toBe(409);
    expect(other.headers.get('x-wopi-lock')).toBe('from-a');
    expect((await put(fb, 'no', 'from-b')).status).toBe(409);
    expect((await post(fb, 'GET_LOCK')).headers.get('x-wopi-lock')).toBe('from-a');
  });

  test('an editing session whose requests alternate between the instances works, conflict detection included', async () => {
    await rawDrive(a).put('/Alternating.docx', Buffer.from('start'));
    const fa = await a.open('/Alternating.docx');
    const fb = await b.open('/Alternating.docx');
    expect((await fetch(fa.url())).status).toBe(200);
    expect((await post(fb, 'LOCK', { 'X-WOPI-Lock': fa.fileId })).status).toBe(200);
    expect(await (await fetch(fa.url('/contents'))).text()).toBe('start');
    expect((await post(fb, 'REFRESH_LOCK', { 'X-WOPI-Lock': fa.fileId })).status).toBe(200);
    expect((await put(fa, 'edited', fa.fileId)).status).toBe(200);
    // The version loaded through A is known to B: an outside change is still caught.
    await rawDrive(a).put('/Alternating.docx', Buffer.from('changed outside'));
    expect((await put(fb, 'edited again', fa.fileId)).status).toBe(409);
    expect((await rawDrive(b).get('/Alternating.docx'))?.toString()).toBe('changed outside');
    expect((await post(fa, 'UNLOCK', { 'X-WOPI-Lock': fa.fileId })).status).toBe(200);
  });

  test('200 rounds of 20 concurrent Lock attempts spread over both instances: exactly one winner per round', async () => {
    await rawDrive(a).put('/Contended.docx', Buffer.from('x'));
    const fa = await a.open('/Contended.docx');
    const fb = await b.open('/Contended.docx');
    for (let round = 0; round < 200; round++) {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? fa : fb, 'LOCK', { 'X-WOPI-Lock': `r${round}-c${i}` }).then((r) => r.status)),
      );
      expect(results.filter((s) => s === 200)).toHaveLength(1);
      expect(results.filter((s) => s === 409)).toHaveLength(19);
      const holder = (await post(fa, 'GET_LOCK')).headers.get('x-wopi-lock') as string;
      expect((await post(fb, 'UNLOCK', { 'X-WOPI-Lock': holder })).status).toBe(200);
    }
  }, 120_000);

  test('an instance restarted mid-session: the session goes on through it (locks live in Redis)', async () => {
    await rawDrive(a).put('/Restart.docx', Buffer.from('before'));
    const fa = await a.open('/Restart.docx');
    expect((await post(fa, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
    await (await fetch(fa.url('/contents'))).arrayBuffer();
    await a.stop();
    a = await startTestBridge(env());
    const again = await a.open('/Restart.docx');
    expect(again.fileId).toBe(fa.fileId);
    expect((await post(again, 'GET_LOCK')).headers.get('x-wopi-lock')).toBe('L');
    expect((await put(again, 'after restart', 'L')).status).toBe(200);
    expect((await post(again, 'UNLOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
  });

  test('Redis stopped mid-session: Lock and PutFile answer 500 and nothing is written; Redis back: the session continues', async () => {
    await rawDrive(a).put('/Outage.docx', Buffer.from('safe'));
    const f = await a.open('/Outage.docx');
    expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
    await redis.kill();
    expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(500);
    expect((await post(f, 'REFRESH_LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(500);
    expect((await put(f, 'must not land', 'L')).status).toBe(500);
    expect((await rawDrive(a).get('/Outage.docx'))?.toString()).toBe('safe');
    await redis.restart();
    // ioredis reconnects on its own; the first calls after the restart may still see the old connection closing.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await post(f, 'REFRESH_LOCK', { 'X-WOPI-Lock': 'L' })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect((await put(f, 'saved after the outage', 'L')).status).toBe(200);
    expect((await rawDrive(a).get('/Outage.docx'))?.toString()).toBe('saved after the outage');
  }, 30_000);
});
