import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

// Every lock rule of MS-WOPI (Lock, RefreshLock, Unlock, UnlockAndRelock, GetLock, PutFile), over HTTP.
// Every 409 must carry X-WOPI-Lock: the current lock, '' when unlocked.
describe('WOPI lock rules', () => {
  let tb: TestBridge;
  let n = 0;
  beforeAll(async () => {
    tb = await startTestBridge();
  });
  afterAll(async () => {
    await tb.stop();
  });

  async function freshFile(content = 'some content'): Promise<{ call: (override: string, headers?: Record<string, string>) => Promise<Response>; put: (body: string, lock?: string) => Promise<Response>; drivePath: string }> {
    const drivePath = `/lock-${++n}.docx`;
    await rawDrive(tb).put(drivePath, Buffer.from(content));
    const f = await tb.open(drivePath);
    return {
      drivePath,
      call: (override, headers = {}) => fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers } }),
      put: (body, lock) => fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', ...(lock !== undefined ? { 'X-WOPI-Lock': lock } : {}) }, body }),
    };
  }

  function expectConflict(res: Response, currentLock: string): void {
    expect(res.status).toBe(409);
    expect(res.headers.get('x-wopi-lock')).toBe(currentLock);
    expect(res.headers.get('x-wopi-lockfailurereason')).toBeTruthy();
  }

  test('Lock on an unlocked file locks it; GetLock reports it; 200s carry no X-WOPI-Lock', async () => {
    const f = await freshFile();
    const res = await f.call('LOCK', { 'X-WOPI-Lock': 'A' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-wopi-lock')).toBeNull();
    expect(res.headers.get('x-wopi-itemversion')).toBeTruthy();
    const get = await f.call('GET_LOCK');
    expect(get.status).toBe(200);
    expect(get.headers.get('x-wopi-lock')).toBe('A');
  });

  test('Lock with the same id refreshes (200); with another id is 409 with the current lock', async () => {
    const f = await freshFile();
    await f.call('LOCK', { 'X-WOPI-Lock': 'A' });
    expect((await f.call('LOCK', { 'X-WOPI-Lock': 'A' })).status).toBe(200);
    expectConflict(await f.call('LOCK', { 'X-WOPI-Lock': 'B' }), 'A');
  });

  test('GetLock on an unlocked file is 200 with an empty X-WOPI-Lock (not 404)', async () => {
    const f = await freshFile();
    const res = await f.call('GET_LOCK');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-wopi-lock')).toBe('');
  });

  test('RefreshLock: matching 200, mismatch 409 with the lock, unlocked 409 with ""', async () => {
    const f = await freshFile();
    expectConflict(await f.call('REFRESH_LOCK', { 'X-WOPI-Lock': 'A' }), '');
    await f.call('LOCK', { 'X-WOPI-Lock': 'A' });
    expect((await f.call('REFRESH_LOCK', { 'X-WOPI-Lock': 'A' })).status).toBe(200);
    expectConflict(await f.call('REFRESH_LOCK', { 'X-WOPI-Lock': 'B' }), 'A');
  });

  test('Unlock: matching 200 and the file is unlocked, mismatch 409 with the lock, unlocked 409 with ""', async () => {
    const f = await freshFile();
    expectConflict(await f.call('UNLOCK', { 'X-WOPI-Lock': 'A' }), '');
    await f.call('LOCK', { 'X-WOPI-Lock': 'A' });
    expectConflict(await f.call('UNLOCK', { 'X-WOPI-Lock': 'B' }), 'A');
    expect((await f.call('UNLOCK', { 'X-WOPI-Lock': 'A' })).status).toBe(200);
    expect((await f.call('GET_LOCK')).headers.get('x-wopi-lock')).toBe('');
  });

  test('UnlockAndRelock (Lock with X-WOPI-OldLock): swaps atomically when the old lock matches, else 409', async () => {
    const f = await freshFile();
    expectConflict(await f.call('LOCK', { 'X-WOPI-Lock': 'B', 'X-WOPI-OldLock': 'A' }), '');
    await f.call('LOCK', { 'X-WOPI-Lock': 'A' });
    expectConflict(await f.call('LOCK', { 'X-WOPI-Lock': 'C', 'X-WOPI-OldLock': 'X' }), 'A');
    expect((await f.call('LOCK', { 'X-WOPI-Lock': 'B', 'X-WOPI-OldLock': 'A' })).status).toBe(200);
    expect((await f.call('GET_LOCK')).headers.get('x-wopi-lock')).toBe('B');
  });

  test('lock ids up to 1024 characters are kept verbatim; a missing, empty or longer id is 400', async () => {
    const f = await freshFile();
    const long = `{"S":"${'x'.repeat(1024 - 8)}"}`;
    expect(long.length).toBe(1024);
    expect((await f.call('LOCK', { 'X-WOPI-Lock': long })).status).toBe(200);
    expect((await f.call('GET_LOCK')).headers.get('x-wopi-lock')).toBe(long);
    expectConflict(await f.call('LOCK', { 'X-WOPI-Lock': 'other' }), long);
    for (const bad of [undefined, '', `${long}y`]) {
      const g = await freshFile();
      const res = await g.call('LOCK', bad === undefined ? {} : { 'X-WOPI-Lock': bad });
      expect(res.status).toBe(400);
      expect((await g.call('GET_LOCK')).headers.get('x-wopi-lock')).toBe('');
    }
  });

  test('PutFile: matching lock writes; other lock 409; unlocked non-empty 409 with ""; unlocked empty file is written', async () => {
    const f = await freshFile('before');
    expectConflict(await f.put('no lock on unlocked'), '');
    await f.call('LOCK', { 'X-WOPI-Lock': 'A' });
    expectConflict(await f.put('no lock header'), 'A');
    expectConflict(await f.put('wrong lock', 'B'), 'A');
    expect((await rawDrive(tb).get(f.drivePath))?.toString()).toBe('before');
    const ok = await f.put('after', 'A');
    expect(ok.status).toBe(200);
    expect((await rawDrive(tb).get(f.drivePath))?.toString()).toBe('after');

    const empty = await freshFile('');
    expect((await empty.put('template')).status).toBe(200);
    expect((await rawDrive(tb).get(empty.drivePath))?.toString()).toBe('template');
  });

  // Expiry itself is tested with an injected clock in test/unit/locks; here: the running bridge stores the spec's 30 minutes.
  test('a lock is stored with the 30-minute expiry of the spec, renewed by RefreshLock', async () => {
    const f = await freshFile();
    await f.call('LOCK', { 'X-WOPI-Lock': 'A' });
    const fileId = new URL((await tb.open(f.drivePath)).src).pathname.split('/').pop() as string;
    const expiry = async (): Promise<number> => {
      const row = (await tb.bridge.runtime.state.list('lock')).find((r) => r.key === fileId);
      return (row?.expiresAt as number) - Date.now();
    };
    const first = await expiry();
    expect(first).toBeGreaterThan(29 * 60 * 1000);
    expect(first).toBeLessThanOrEqual(30 * 60 * 1000);
    expect((await f.call('REFRESH_LOCK', { 'X-WOPI-Lock': 'A' })).status).toBe(200);
    expect(await expiry()).toBeGreaterThan(29 * 60 * 1000);
  });
});
