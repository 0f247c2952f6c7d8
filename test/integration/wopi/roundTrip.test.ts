import { createHash, randomBytes } from 'node:crypto';
import { DRIVE_TARGETS, rawDrive, startBridgeOn, type TestBridge } from '../../helpers/testBridge.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const NAMES = ['with space.docx', 'a % b.docx', 'R&D.xlsx', 'hash#tag.pptx', '中文文件.docx', 'emoji 😀.docx'];
const SIZES: Array<[string, number]> = [
  ['0 B', 0],
  ['1 B', 1],
  ['12 MiB', 12 * 1024 * 1024],
];

// GetFile and PutFile are byte-exact (SHA-256) for empty, tiny and large files and for awkward names.
describe.each(DRIVE_TARGETS)('byte-exact round trips on %s', (target) => {
  let tb: TestBridge;
  beforeAll(async () => {
    tb = await startBridgeOn(target);
  });
  afterAll(async () => {
    await tb.stop();
  });

  test.each(SIZES)('%s: GetFile returns the stored bytes, PutFile stores the sent bytes', async (_label, size) => {
    const drive = rawDrive(tb);
    const p = `/size-${size}.bin`;
    const original = randomBytes(size);
    expect(await drive.put(p, original)).toBeLessThan(300);
    const f = await tb.open(p);
    expect((await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } })).status).toBe(200);
    const get = await fetch(f.url('/contents'));
    expect(get.status).toBe(200);
    expect(get.headers.get('content-length')).toBe(String(size));
    expect(sha(Buffer.from(await get.arrayBuffer()))).toBe(sha(original));

    const edited = randomBytes(size);
    const put = await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: edited });
    expect(put.status).toBe(200);
    expect(sha((await drive.get(p)) as Buffer)).toBe(sha(edited));
    const back = await fetch(f.url('/contents'));
    expect(sha(Buffer.from(await back.arrayBuffer()))).toBe(sha(edited));
  }, 60_000);

  test.each(NAMES)('name %s: CheckFileInfo, GetFile and PutFile', async (name) => {
    const drive = rawDrive(tb);
    const original = Buffer.from(`content of ${name}`);
    expect(await drive.put(`/${name}`, original)).toBeLessThan(300);
    const f = await tb.open(`/${name}`);
    expect(f.fileId).toMatch(/^[0-9A-Za-z._=-]{1,240}$/);
    const info = (await (await fetch(f.url())).json()) as Record<string, unknown>;
    expect(info.BaseFileName).toBe(name);
    expect(sha(Buffer.from(await (await fetch(f.url('/contents'))).arrayBuffer()))).toBe(sha(original));
    await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } });
    const edited = Buffer.from(`edited ${name} ✓`);
    const put = await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: edited });
    expect(put.status).toBe(200);
    expect(sha((await drive.get(`/${name}`)) as Buffer)).toBe(sha(edited));
    // Nothing else appeared beside it (no leftover temporary upload, no copy).
    expect((await drive.list('/')).filter((n) => n.startsWith('.~wopi-'))).toEqual([]);
  });

  test('the file id is the same for every user and survives a PutFile', async () => {
    const drive = rawDrive(tb);
    await drive.put('/shared.docx', Buffer.from('x'));
    const a = await tb.open('/shared.docx', { user: 'alice' });
    const b = await tb.open('/shared.docx', { user: 'bob' });
    expect(b.fileId).toBe(a.fileId);
    await fetch(a.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } });
    await fetch(a.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: 'y' });
    expect((await tb.open('/shared.docx')).fileId).toBe(a.fileId);
  });
});
