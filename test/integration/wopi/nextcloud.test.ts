import { createHash } from 'node:crypto';
import { startNextcloudDouble, type NextcloudDouble } from '../../helpers/nextcloudDouble.js';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// The bridge on a drive that answers like the captured Nextcloud 32: flavour detected from status.php, oc:fileid
// as the file id, quoted If-Match with Content-Length on every save, files moved on the drive found again by SEARCH,
// Nextcloud's transient 423 (a download of the file is running) survived, conflicting saves kept as copies.
describe('WOPI on Nextcloud', () => {
  let nc: NextcloudDouble;
  let tb: TestBridge;
  beforeAll(async () => {
    nc = await startNextcloudDouble();
    tb = await startTestBridge({ STORAGE_URL: nc.davUrl('alice'), STORAGE_USER: 'alice', STORAGE_PASSWORD: 'alice-pass-123' });
  });
  afterAll(async () => {
    await tb.stop();
    await nc.close();
  });

  const lock = (f: { url: (s?: string) => string }, id: string): Promise<Response> =>
    fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': id } });
  const save = (f: { url: (s?: string) => string }, body: Buffer, id: string): Promise<Response> =>
    fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': id }, body });

  test('flavour is detected and the file id is Nextcloud\'s own oc:fileid', async () => {
    expect(tb.bridge.runtime.flavour).toBe('nextcloud');
    nc.putFileDirect('alice', '/Docs/Report.docx', Buffer.from('v1'));
    const f = await tb.open('/Docs/Report.docx');
    expect(f.fileId).toBe(`n${nc.fileIdOf('alice', '/Docs/Report.docx')}`);
  });

  test('a save sends a quoted If-Match and a Content-Length, never a chunked body', async () => {
    nc.putFileDirect('alice', '/Save.docx', Buffer.from('before'));
    const f = await tb.open('/Save.docx');
    expect((await lock(f, f.fileId)).status).toBe(200);
    const etag = nc.etagOf('alice', '/Save.docx');
    const edited = Buffer.from('after the editor saved');
    expect((await save(f, edited, f.fileId)).status).toBe(200);
    expect(sha(nc.readFileDirect('alice', '/Save.docx') as Buffer)).toBe(sha(edited));
    const put = nc.requests.filter((r) => r.method === 'PUT' && decodeURIComponent(r.path).endsWith('/Save.docx')).pop();
    expect(put?.headers['if-match']).toBe(etag);
    expect(put?.headers['content-length']).toBe(String(edited.length));
    expect(put?.headers['transfer-encoding']).toBeUndefined();
  });

  test('a file moved on Nextcloud keeps its id: CheckFileInfo and PutFile still reach it', async () => {
    nc.putFileDirect('alice', '/Old name.docx', Buffer.from('content'));
    const f = await tb.open('/Old name.docx');
    const moved = await fetch(`${nc.davUrl('alice')}/Old%20name.docx`, {
      method: 'MOVE',
      headers: { Authorization: `Basic ${Buffer.from('alice:alice-pass-123').toString('base64')}`, Destination: `${nc.davUrl('alice')}/Docs/New%20name.docx` },
    });
    expect(moved.status).toBeLessThan(300);
    const info = (await (await fetch(f.url())).json()) as Record<string, unknown>;
    expect(info.BaseFileName).toBe('New name.docx');
    expect((await lock(f, f.fileId)).status).toBe(200);
    expect((await save(f, Buffer.from('saved after the move'), f.fileId)).status).toBe(200);
    expect(nc.readFileDirect('alice', '/Docs/New name.docx')?.toString()).toBe('saved after the move');
    expect(nc.readFileDirect('alice', '/Old name.docx')).toBeNull();
  });

  test('a save while Nextcloud has the file locked for a running download (423) is retried and lands', async () => {
    nc.putFileDirect('alice', '/Busy.xlsx', Buffer.from('sheet'));
    const f = await tb.open('/Busy.xlsx');
    expect((await lock(f, f.fileId)).status).toBe(200);
    nc.holdDownloads(true);
    const download = fetch(f.url('/contents'));
    await nc.downloadHeld();
    const putsBefore = nc.requests.filter((r) => r.method === 'PUT').length;
    const saving = save(f, Buffer.from('edited sheet'), f.fileId);
    // Release the download once the first (refused) PUT has reached Nextcloud; there is no event for that, so look.
    for (let i = 0; i < 500 && nc.requests.filter((r) => r.method === 'PUT').length === putsBefore; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    nc.holdDownloads(false);
    await (await download).arrayBuffer();
    const res = await saving;
    expect(res.status).toBe(200);
    expect(nc.readFileDirect('alice', '/Busy.xlsx')?.toString()).toBe('edited sheet');
    expect(nc.requests.filter((r) => r.method === 'PUT').length - putsBefore).toBeGreaterThanOrEqual(2);
  });

  test('a change saved in Nextcloud during editing is kept; the editor\'s save becomes a conflict copy', async () => {
    nc.putFileDirect('alice', '/Shared/Plan.docx', Buffer.from('v1'));
    const f = await tb.open('/Shared/Plan.docx', { user: 'alice' });
    expect((await lock(f, f.fileId)).status).toBe(200);
    await (await fetch(f.url('/contents'))).arrayBuffer();
    nc.putFileDirect('alice', '/Shared/Plan.docx', Buffer.from('v2 from the Nextcloud web UI'));
    const res = await save(f, Buffer.from('v1 + editor changes'), f.fileId);
    expect(res.status).toBe(409);
    expect(res.headers.get('x-wopi-lock')).toBe(f.fileId);
    expect(nc.readFileDirect('alice', '/Shared/Plan.docx')?.toString()).toBe('v2 from the Nextcloud web UI');
    const listing = await tb.bridge.runtime.storage.list('/Shared');
    const copy = listing.find((e) => /^Plan \(conflict .* alice\)\.docx$/.test(e.name));
    expect(copy).toBeDefined();
    expect(nc.readFileDirect('alice', `/Shared/${copy?.name}`)?.toString()).toBe('v1 + editor changes');
  });

  test('a file deleted on Nextcloud gives 404 to CheckFileInfo and GetFile', async () => {
    nc.putFileDirect('alice', '/Gone.docx', Buffer.from('x'));
    const f = await tb.open('/Gone.docx');
    await fetch(`${nc.davUrl('alice')}/Gone.docx`, { method: 'DELETE', headers: { Authorization: `Basic ${Buffer.from('alice:alice-pass-123').toString('base64')}` } });
    expect((await fetch(f.url())).status).toBe(404);
    expect((await fetch(f.url('/contents'))).status).toBe(404);
  });
});
