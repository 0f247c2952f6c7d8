import net from 'node:net';
import { DRIVE_TARGETS, rawDrive, startBridgeOn, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { LONE_SURROGATE_NAMES } from '../../helpers/wopiFuzz.js';

type Opened = Awaited<ReturnType<TestBridge['open']>>;

const post = (f: Opened, override: string, headers: Record<string, string> = {}, body?: string, signal?: AbortSignal): Promise<Response> =>
  fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers }, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) });

// Requests that overlap on one file or one folder, and names that are not well-formed Unicode — found by the fuzz
// (hostileInput.test.ts), which keeps them out of its own mix so that its run stays meaningful.
describe('overlapping writes and ill-formed names', () => {
  let tb: TestBridge;
  beforeAll(async () => {
    tb = await startTestBridge({ STORAGE_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    await tb.stop();
  });

  // Was: the version check ran before the file's write lock, so a save overlapping an earlier save of the same session
  // took that save's version for a change on the drive (conflict copy + 409).
  test('five overlapping saves with the right lock all land (200), no conflict copy', async () => {
    await rawDrive(tb).put('/Overlap.docx', Buffer.from('v0'));
    const f = await tb.open('/Overlap.docx');
    expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
    await (await fetch(f.url('/contents'))).arrayBuffer();
    const bodies = Array.from({ length: 5 }, (_, i) => `save ${i}`);
    const statuses = await Promise.all(bodies.map(async (b) => (await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: b })).status));
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(bodies).toContain((await rawDrive(tb).get('/Overlap.docx'))?.toString());
    expect((await rawDrive(tb).list('/')).filter((n) => n.includes('conflict'))).toEqual([]);
  });

  // Was: later renames MOVEd a path the first one had already moved, and the drive's 500 became a 500.
  test('ten overlapping renames of one file: one wins, the others are refused as a client matter (no 5xx), the file keeps its id', async () => {
    await rawDrive(tb).put('/Renamed.docx', Buffer.from('r'));
    const f = await tb.open('/Renamed.docx');
    const statuses = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await post(f, 'RENAME_FILE', { 'X-WOPI-RequestedName': `renamed ${i}` })).status));
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s !== 200 && s !== 409)).toEqual([]);
    const info = await fetch(f.url());
    expect(info.status).toBe(200);
    const name = ((await info.json()) as { BaseFileName: string }).BaseFileName;
    expect(Array.from({ length: 10 }, (_, i) => `renamed ${i}.docx`)).toContain(name);
    expect(await rawDrive(tb).get(`/${name}`)).toEqual(Buffer.from('r'));
  });

  // Was: the folder's lock was held while a PutRelativeFile body streamed to the drive, so one slow client blocked
  // every Save As and conflict copy in the folder.
  test('a PutRelativeFile whose body trickles does not hold up another PutRelativeFile in the same folder', async () => {
    await rawDrive(tb).put('/Source.docx', Buffer.from('s'));
    const f = await tb.open('/Source.docx');
    const u = new URL(f.url());
    const slow = net.connect({ host: '127.0.0.1', port: Number(u.port) });
    slow.on('error', () => undefined);
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.write(`POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nX-WOPI-Override: PUT_RELATIVE\r\nX-WOPI-SuggestedTarget: .docx\r\nContent-Length: 1000\r\n\r\n0123456789`);
    const drip = setInterval(() => slow.write('x'), 500);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const started = performance.now();
      const status = await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': 'Other.docx' }, 'quick', AbortSignal.timeout(3000)).then(
        (r) => r.status,
        () => 'no answer within 3 s',
      );
      expect(status).toBe(200);
      expect(performance.now() - started).toBeLessThan(1500);
    } finally {
      clearInterval(drip);
      slow.destroy();
    }
  }, 15_000);

  // A UTF-7 name can decode to a lone surrogate: refused (relative, rename) or replaced (suggested), never a 500.
  test.each(LONE_SURROGATE_NAMES)('ill-formed UTF-7 name %s: 400 (relative, rename) or a sanitised name (suggested), never 500', async (name) => {
    await rawDrive(tb).put('/Names.docx', Buffer.from('n'));
    const f = await tb.open('/Names.docx');
    const relative = await post(f, 'PUT_RELATIVE', { 'X-WOPI-RelativeTarget': name }, 'x');
    const suggested = await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': name }, 'x');
    const rename = await post(f, 'RENAME_FILE', { 'X-WOPI-RequestedName': name.replace(/\.docx$/, '') });
    expect([relative.status, suggested.status, rename.status]).toEqual([400, 200, 400]);
  });
});

// Was: the MOVE of a finished upload over the file is not atomic on generic WebDAV, and reads did not wait for it:
// a CheckFileInfo or GetFile in that moment answered 404 (or 500).
describe.each(DRIVE_TARGETS)('reads while the file is being saved (%s)', (target) => {
  test('CheckFileInfo and GetFile during 60 saves: never 404 or 5xx', async () => {
    const tb = await startBridgeOn(target);
    try {
      await rawDrive(tb).put('/Busy.docx', Buffer.alloc(100_000, 1));
      const f = await tb.open('/Busy.docx');
      expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
      const seen: Record<string, number> = {};
      const count = (k: string): void => {
        seen[k] = (seen[k] ?? 0) + 1;
      };
      let saving = true;
      const reader = (async () => {
        while (saving) {
          const [cfi, get] = await Promise.all([fetch(f.url()), fetch(f.url('/contents'))]);
          await cfi.arrayBuffer();
          await get.arrayBuffer().catch(() => null);
          count(`CheckFileInfo ${cfi.status}`);
          count(`GetFile ${get.status}`);
        }
      })();
      const failures = (): string[] => Object.keys(seen).filter((k) => !k.endsWith(' 200'));
      for (let i = 0; i < 60 && failures().length === 0; i++) {
        const res = await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: Buffer.alloc(100_000, i) });
        count(`PutFile ${res.status}`);
      }
      saving = false;
      await reader;
      expect(failures()).toEqual([]);
    } finally {
      await tb.stop();
    }
  }, 30_000);
});
