import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { startFaultInjectingProxy, type FaultInjectingProxy } from '../../helpers/faultInjectingProxy.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
type Opened = Awaited<ReturnType<TestBridge['open']>>;

/** STORAGE_TIMEOUT_MS of the bridges here, and what a bounded wait may add to it (temp cleanup, scheduling). */
const TIMEOUT_MS = 1000;
const MARGIN_MS = 1500;

const post = (f: Opened, override: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers } });
const save = (f: Opened, body: Buffer, lock: string): Promise<Response> =>
  fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock }, body });

/** Reads a file straight from rclone (not through the proxy). */
async function direct(rclone: RcloneWebdav, p: string): Promise<Buffer> {
  const res = await fetch(`${rclone.url}${p}`, { headers: { Authorization: `Basic ${Buffer.from(`${rclone.user}:${rclone.pass}`).toString('base64')}` } });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}
async function putDirect(rclone: RcloneWebdav, p: string, body: Buffer): Promise<void> {
  const res = await fetch(`${rclone.url}${p}`, { method: 'PUT', headers: { Authorization: `Basic ${Buffer.from(`${rclone.user}:${rclone.pass}`).toString('base64')}` }, body });
  expect(res.status).toBeLessThan(300);
}
const tempsIn = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith('.~wopi-'));

/** The access line of the last request for `op`. */
function lastAccess(tb: TestBridge, op: string): Record<string, unknown> | undefined {
  return tb.logs.entries().filter((e) => e.msg === 'request' && e.op === op).pop();
}

/** Waits until the access line of a request (written when the response closes) is there. */
async function accessLine(tb: TestBridge, op: string, count: number): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const lines = tb.logs.entries().filter((e) => e.msg === 'request' && e.op === op);
    if (lines.length >= count) return lines[count - 1] as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no access line #${count} for ${op}`);
}

// Faults injected by a proxy in front of a real rclone: the store refuses a save with an error status, or stalls.
describe('the store answers PUT with an error status (generic WebDAV: temp upload + MOVE)', () => {
  let rclone: RcloneWebdav;
  let proxy: FaultInjectingProxy;
  let tb: TestBridge;
  let f: Opened;
  const original = randomBytes(256 * 1024);
  beforeAll(async () => {
    rclone = await startRcloneWebdav();
    proxy = await startFaultInjectingProxy(rclone.url);
    tb = await startTestBridge({ STORAGE_URL: proxy.url, STORAGE_USER: rclone.user, STORAGE_PASSWORD: rclone.pass, STORAGE_FLAVOUR: 'generic', STORAGE_TIMEOUT_MS: String(TIMEOUT_MS) });
    await putDirect(rclone, '/Refused.docx', original);
    f = await tb.open('/Refused.docx');
    expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
    await (await fetch(f.url('/contents'))).arrayBuffer();
  });
  afterAll(async () => {
    await tb.stop();
    await proxy.close();
    await rclone.stop();
  });
  afterEach(async () => {
    proxy.rule = () => null;
    proxy.release();
  });

  // STYLE §4 / storageErrors.ts: locked on the drive → 409 + X-WOPI-LockedByOtherInterface; full, 5xx → 500.
  const cases: Array<[number, boolean, number]> = [];
  for (const status of [507, 423, 500, 502, 503]) for (const forwarded of [false, true]) cases.push([status, forwarded, status === 423 ? 409 : 500]);
  test.each(cases)('PUT answered %i (upstream wrote it first: %s) → WOPI %i, logged, original intact, nothing left, next save works', async (status, forwarded, wopiStatus) => {
    const before = tb.logs.entries().filter((e) => e.msg === 'request' && e.op === 'PutFile').length;
    proxy.rule = (req) => (req.method === 'PUT' ? { kind: 'status', status, forward: forwarded } : null);
    const res = await save(f, randomBytes(300 * 1024), 'L');
    expect(res.status).toBe(wopiStatus);
    if (wopiStatus === 409) {
      expect(res.headers.get('x-wopi-lockedbyotherinterface')).toBe('true');
      expect(res.headers.get('x-wopi-lock')).toBe('L');
      expect(res.headers.get('x-wopi-lockfailurereason')).toMatch(/locked/i);
    } else {
      expect(await res.text()).toMatch(/^Internal error \(reqId [0-9a-f-]+\)/);
    }
    const line = await accessLine(tb, 'PutFile', before + 1);
    expect(line).toMatchObject({ status: wopiStatus, level: wopiStatus >= 500 ? 50 : 30, code: wopiStatus === 409 ? 'locked_on_drive' : 'storage_unavailable' });
    expect((line.detail as Record<string, unknown>).status).toBe(status);
    expect(proxy.seen.some((r) => r.method === 'PUT' && r.fault?.kind === 'status')).toBe(true);

    expect(sha(await direct(rclone, '/Refused.docx'))).toBe(sha(original));
    expect(await tempsIn(rclone.dir)).toEqual([]);
    expect((await post(f, 'GET_LOCK')).headers.get('x-wopi-lock')).toBe('L');
    // The fault goes away: the next save lands; then the original is put back for the next case.
    proxy.rule = () => null;
    const next = randomBytes(1000);
    expect((await save(f, next, 'L')).status).toBe(200);
    expect(sha(await direct(rclone, '/Refused.docx'))).toBe(sha(next));
    expect((await save(f, original, 'L')).status).toBe(200);
  });

  test(`a store that never answers a PUT: 500 after about STORAGE_TIMEOUT_MS (${TIMEOUT_MS} ms), logged as a timeout, original intact`, async () => {
    const before = tb.logs.entries().filter((e) => e.msg === 'request' && e.op === 'PutFile').length;
    proxy.rule = (req) => (req.method === 'PUT' ? { kind: 'stall' } : null);
    const started = performance.now();
    const res = await save(f, randomBytes(200 * 1024), 'L');
    const ms = performance.now() - started;
    expect(res.status).toBe(500);
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ms).toBeLessThanOrEqual(TIMEOUT_MS + MARGIN_MS);
    const line = await accessLine(tb, 'PutFile', before + 1);
    expect(line).toMatchObject({ status: 500, level: 50, code: 'storage_unavailable' });
    expect(line.detail).toMatchObject({ timeout: true, op: 'put' });
    proxy.rule = () => null;
    expect(sha(await direct(rclone, '/Refused.docx'))).toBe(sha(original));
    expect(await tempsIn(rclone.dir)).toEqual([]);
  });

  test('a store that stops answering anything: CheckFileInfo, GetFile, Lock and PutFile each give up after about STORAGE_TIMEOUT_MS with 500', async () => {
    proxy.rule = () => ({ kind: 'stall' });
    const timed = async (call: () => Promise<Response>): Promise<[number, number]> => {
      const started = performance.now();
      const res = await call();
      await res.arrayBuffer();
      return [res.status, performance.now() - started];
    };
    const results = await Promise.all([
      timed(() => fetch(f.url())),
      timed(() => fetch(f.url('/contents'))),
      timed(() => post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })),
      timed(() => save(f, Buffer.from('while the store hangs'), 'L')),
    ]);
    for (const [status, ms] of results) {
      expect(status).toBe(500);
      expect(ms).toBeLessThanOrEqual(TIMEOUT_MS + MARGIN_MS);
    }
    const timeouts = tb.logs.entries().filter((e) => e.msg === 'request' && e.status === 500 && (e.detail as Record<string, unknown> | undefined)?.timeout === true);
    expect(timeouts.length).toBeGreaterThanOrEqual(4);
    proxy.rule = () => null;
    proxy.release();
    expect(sha(await direct(rclone, '/Refused.docx'))).toBe(sha(original));
    expect((await fetch(f.url())).status).toBe(200);
  });

  test('a GetFile whose body stalls on the store: the download is cut (not held open) after about STORAGE_TIMEOUT_MS', async () => {
    proxy.rule = (req) => (req.method === 'GET' ? { kind: 'stallBody' } : null);
    const started = performance.now();
    const res = await fetch(f.url('/contents'));
    expect(res.status).toBe(200); // headers were sent before the stall: only cutting the body is left
    const failure = await res.arrayBuffer().then(
      () => 'completed',
      () => 'cut',
    );
    expect(failure).toBe('cut');
    expect(performance.now() - started).toBeLessThanOrEqual(TIMEOUT_MS + MARGIN_MS);
    expect(lastAccess(tb, 'GetFile')).toBeDefined();
  });

  // Was: the idle timer stopped at the answer's headers, so a 207 whose body stalled held the request forever.
  test('a PROPFIND answer whose body stalls: CheckFileInfo gives up after about STORAGE_TIMEOUT_MS with 500', async () => {
    proxy.rule = (req) => (req.method === 'PROPFIND' ? { kind: 'stallBody' } : null);
    const started = performance.now();
    const res = await fetch(f.url(), { signal: AbortSignal.timeout(TIMEOUT_MS + MARGIN_MS + 2000) });
    expect(res.status).toBe(500);
    expect(performance.now() - started).toBeLessThanOrEqual(TIMEOUT_MS + MARGIN_MS);
  });
});

// Nextcloud/ownCloud flavour: the body is spooled so a transient 423 (Nextcloud locks a file while a download of it
// runs) is retried (500, 1500, 3000 ms) before the bridge gives up with 409.
describe('the store answers 423 to a PUT (Nextcloud flavour: retried)', () => {
  let rclone: RcloneWebdav;
  let proxy: FaultInjectingProxy;
  let tb: TestBridge;
  let f: Opened;
  const original = Buffer.from('locked on the drive for a moment');
  beforeAll(async () => {
    rclone = await startRcloneWebdav();
    proxy = await startFaultInjectingProxy(rclone.url);
    tb = await startTestBridge({ STORAGE_URL: proxy.url, STORAGE_USER: rclone.user, STORAGE_PASSWORD: rclone.pass, STORAGE_FLAVOUR: 'nextcloud', STORAGE_TIMEOUT_MS: String(TIMEOUT_MS) });
    await putDirect(rclone, '/Busy.docx', original);
    f = await tb.open('/Busy.docx');
    expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
  });
  afterAll(async () => {
    await tb.stop();
    await proxy.close();
    await rclone.stop();
  });

  test('a 423 on the first attempt only: the save is retried and lands', async () => {
    let refused = 0;
    proxy.rule = (req) => (req.method === 'PUT' && refused++ === 0 ? { kind: 'status', status: 423 } : null);
    const body = randomBytes(100_000);
    const res = await save(f, body, 'L');
    expect(res.status).toBe(200);
    expect(refused).toBe(2);
    expect(sha(await direct(rclone, '/Busy.docx'))).toBe(sha(body));
    expect(tb.logs.entries().some((e) => e.msg === 'drive has the file locked; retrying save')).toBe(true);
  });

  test('a 423 that lasts: 409 with X-WOPI-LockedByOtherInterface after the retries (about 5 s), the file untouched', async () => {
    await putDirect(rclone, '/Busy.docx', original);
    await (await fetch(f.url('/contents'))).arrayBuffer(); // the session's baseline is the file as it now is
    proxy.rule = (req) => (req.method === 'PUT' ? { kind: 'status', status: 423 } : null);
    const started = performance.now();
    const res = await save(f, Buffer.from('cannot land'), 'L');
    const ms = performance.now() - started;
    expect(res.status).toBe(409);
    expect(res.headers.get('x-wopi-lockedbyotherinterface')).toBe('true');
    expect(res.headers.get('x-wopi-lock')).toBe('L');
    expect(ms).toBeGreaterThanOrEqual(4500);
    expect(ms).toBeLessThan(8000);
    expect(proxy.seen.filter((r) => r.method === 'PUT' && r.fault !== null).length).toBeGreaterThanOrEqual(4);
    expect((await direct(rclone, '/Busy.docx')).toString()).toBe(original.toString());
  }, 15_000);
});
