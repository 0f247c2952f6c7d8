import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { startFaultyProxy, type FaultyProxy } from '../../helpers/faultyProxy.js';
import { DRIVE_TARGETS, rawDrive, startBridgeOn, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function lockAndLoad(f: { url: (s?: string) => string; fileId: string }): Promise<void> {
  const lock = await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': f.fileId } });
  expect(lock.status).toBe(200);
  const get = await fetch(f.url('/contents'));
  expect(get.status).toBe(200);
  await get.arrayBuffer();
}

function save(f: { url: (s?: string) => string }, body: Buffer, lock: string): Promise<Response> {
  return fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock, 'X-LOOL-WOPI-IsExitSave': 'true' }, body });
}

describe.each(DRIVE_TARGETS)('nothing is lost on %s', (target) => {
  let tb: TestBridge;
  beforeAll(async () => {
    tb = await startBridgeOn(target);
  });
  afterAll(async () => {
    await tb.stop();
  });

  test('a file changed on the drive during editing is not overwritten: the save becomes a conflict copy, 409', async () => {
    const drive = rawDrive(tb);
    await drive.put('/Plan.docx', Buffer.from('version 1'));
    const f = await tb.open('/Plan.docx', { user: 'alice' });
    await lockAndLoad(f);
    // Someone saves the file in Nextcloud meanwhile.
    const external = Buffer.from('version 2, saved by bob directly on the drive');
    expect(await drive.put('/Plan.docx', external)).toBeLessThan(300);

    const editor = Buffer.from('version 1 plus alice edits from the editor');
    const res = await save(f, editor, f.fileId);
    expect(res.status).toBe(409);
    expect(res.headers.get('x-wopi-lock')).toBe(f.fileId);
    expect(res.headers.get('x-wopi-lockfailurereason')).toMatch(/conflict/);

    expect(sha((await drive.get('/Plan.docx')) as Buffer)).toBe(sha(external));
    const copies = (await drive.list('/')).filter((n) => /^Plan \(conflict \d{4}-\d\d-\d\d \d{4} alice\)\.docx$/.test(n));
    expect(copies).toHaveLength(1);
    expect(sha((await drive.get(`/${copies[0]}`)) as Buffer)).toBe(sha(editor));
    expect(tb.logs.entries().some((e) => e.level === 40 && e.msg === 'save kept as conflict copy')).toBe(true);
    // The session keeps its lock; DS's UNLOCK after the failed exit save succeeds.
    const unlock = await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': f.fileId } });
    expect(unlock.status).toBe(200);
  });

  test('a save whose lock was lost (another editor holds the file) is kept as a conflict copy, 409 with the other lock', async () => {
    const drive = rawDrive(tb);
    await drive.put('/Lost lock.xlsx', Buffer.from('sheet v1'));
    const f = await tb.open('/Lost lock.xlsx', { user: 'carol' });
    const other = await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'someone-else' } });
    expect(other.status).toBe(200);
    const editor = Buffer.from('carol edits');
    const res = await save(f, editor, f.fileId);
    expect(res.status).toBe(409);
    expect(res.headers.get('x-wopi-lock')).toBe('someone-else');
    expect((await drive.get('/Lost lock.xlsx'))?.toString()).toBe('sheet v1');
    const copies = (await drive.list('/')).filter((n) => n.startsWith('Lost lock (conflict ') && n.endsWith(' carol).xlsx'));
    expect(copies).toHaveLength(1);
    expect((await drive.get(`/${copies[0]}`))?.toString()).toBe('carol edits');
  });

  test('a client that disconnects in the middle of a PutFile leaves the original intact and the lock held', async () => {
    const drive = rawDrive(tb);
    const original = Buffer.from('the original, intact');
    await drive.put('/Cut.docx', original);
    const f = await tb.open('/Cut.docx');
    await lockAndLoad(f);
    const url = new URL(f.url('/contents'));
    await new Promise<void>((resolve) => {
      const req = request(url, { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': f.fileId, 'Content-Length': String(1024 * 1024) } });
      req.on('error', () => resolve());
      req.on('response', (r) => {
        r.resume();
        resolve();
      });
      req.write(Buffer.alloc(10, 0x41), () => setImmediate(() => req.destroy()));
    });
    // The bridge finishes handling the aborted request; the next request on the file observes the outcome.
    const status = await waitForAccessLine(tb, 'PutFile');
    expect(status).not.toBe(200);
    expect(sha((await drive.get('/Cut.docx')) as Buffer)).toBe(sha(original));
    expect((await drive.list('/')).filter((n) => n.startsWith('.~wopi-'))).toEqual([]);
    const lock = await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'GET_LOCK' } });
    expect(lock.headers.get('x-wopi-lock')).toBe(f.fileId);
    // The editor's next save goes through.
    expect((await save(f, Buffer.from('next save'), f.fileId)).status).toBe(200);
    expect((await drive.get('/Cut.docx'))?.toString()).toBe('next save');
  });
});

/** Resolves with the status of the next (or already written) access line for an operation. */
async function waitForAccessLine(tb: TestBridge, op: string): Promise<number> {
  for (;;) {
    const line = tb.logs.entries().find((e) => e.msg === 'request' && e.op === op && e.status !== 200);
    if (line) return line.status as number;
    await new Promise<void>((resolve) => tb.logs.once('line', resolve));
  }
}

describe('a storage failure during PutFile', () => {
  let rclone: RcloneWebdav;
  let proxy: FaultyProxy;
  let tb: TestBridge;
  beforeAll(async () => {
    rclone = await startRcloneWebdav();
    proxy = await startFaultyProxy(rclone.url);
    tb = await startTestBridge({ STORAGE_URL: proxy.url, STORAGE_USER: rclone.user, STORAGE_PASSWORD: rclone.pass, STORAGE_FLAVOUR: 'generic' });
  });
  afterAll(async () => {
    await tb.stop();
    await proxy.close();
    await rclone.stop();
  });

  test('answers 500, leaves the original intact and nothing behind; the next save works', async () => {
    const drive = rawDrive(tb);
    const original = Buffer.alloc(200_000, 0x61);
    await drive.put('/Big.docx', original);
    const f = await tb.open('/Big.docx');
    await lockAndLoad(f);

    proxy.cutPutsAfter = 10;
    const cut = proxy.nextCut();
    const res = await save(f, Buffer.alloc(300_000, 0x62), f.fileId);
    await cut;
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/^Internal error \(reqId [0-9a-f-]+\)/);
    proxy.cutPutsAfter = null;

    expect(sha((await drive.get('/Big.docx')) as Buffer)).toBe(sha(original));
    expect((await drive.list('/')).filter((n) => n.startsWith('.~wopi-'))).toEqual([]);
    const next = Buffer.alloc(300_000, 0x63);
    expect((await save(f, next, f.fileId)).status).toBe(200);
    expect(sha((await drive.get('/Big.docx')) as Buffer)).toBe(sha(next));
  });
});
