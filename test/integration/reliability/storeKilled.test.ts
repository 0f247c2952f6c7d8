import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { startRestartableRclone, type RestartableRclone } from '../../helpers/restartableRclone.js';
import { slowUpload } from '../../helpers/slowClient.js';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
type Opened = Awaited<ReturnType<TestBridge['open']>>;

const post = (f: Opened, override: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers } });

/** Waits until `check` holds (polling), at most `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Temporary uploads the bridge put beside files in the served folder (names and sizes). */
async function temps(dir: string): Promise<Array<{ name: string; size: number }>> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('.~wopi-'));
  return Promise.all(names.map(async (name) => ({ name, size: (await stat(path.join(dir, name))).size })));
}

// Fault: the WebDAV store (a real `rclone serve webdav` process) is SIGKILLed while a PutFile's bytes flow to it.
describe('the WebDAV store killed in the middle of a PutFile', () => {
  let rclone: RestartableRclone;
  let tb: TestBridge;
  beforeAll(async () => {
    rclone = await startRestartableRclone();
    tb = await startTestBridge({ STORAGE_URL: rclone.url, STORAGE_USER: rclone.user, STORAGE_PASSWORD: rclone.pass, STORAGE_TIMEOUT_MS: '5000' });
  });
  afterAll(async () => {
    await tb.stop();
    await rclone.stop();
  });

  /** Starts a slow save, SIGKILLs rclone once its bytes reach rclone's disk, and reports what happened. */
  async function killDuringSave(f: Opened, body: Buffer): Promise<{ status: number | string; sentAtKill: number; partialAfterKill: number }> {
    const upload = slowUpload(f.url('/contents'), { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': f.fileId }, body, { chunkBytes: 32 * 1024, intervalMs: 20 });
    // Bytes are flowing into rclone: its temporary upload has grown past 256 KiB.
    await until(async () => (await temps(rclone.dir)).some((t) => t.size > 256 * 1024), 10_000, 'the upload to reach rclone');
    const sentAtKill = upload.sent();
    await rclone.kill();
    const outcome = await upload.outcome;
    upload.abort();
    return { status: outcome.kind === 'response' ? outcome.status : outcome.code, sentAtKill, partialAfterKill: (await temps(rclone.dir)).length };
  }

  test('→ 500 with a log line, the original intact on disk and over WebDAV after a restart, and the next save works', async () => {
    const original = randomBytes(1024 * 1024);
    expect(await rawDrive(tb).put('/Killed.docx', original)).toBeLessThan(300);
    const f = await tb.open('/Killed.docx');
    expect((await post(f, 'LOCK', { 'X-WOPI-Lock': f.fileId })).status).toBe(200);
    await (await fetch(f.url('/contents'))).arrayBuffer();

    const { status, sentAtKill, partialAfterKill } = await killDuringSave(f, randomBytes(4 * 1024 * 1024));
    expect(sentAtKill).toBeLessThan(4 * 1024 * 1024);
    expect(status).toBe(500);

    // The original is intact in the served folder (checked on disk, the drive being down); the partial upload
    // rclone was writing is there beside it (the bridge could not remove it: the drive is down).
    expect(partialAfterKill).toBeGreaterThan(0);
    expect(sha(await readFile(path.join(rclone.dir, 'Killed.docx')))).toBe(sha(original));
    const access = tb.logs.entries().find((e) => e.msg === 'request' && e.op === 'PutFile' && e.status === 500);
    expect(access).toMatchObject({ level: 50, code: 'storage_unavailable' });

    // rclone back on the same folder and port: the bridge finds it again.
    await rclone.restart();
    expect(sha((await rawDrive(tb).get('/Killed.docx')) as Buffer)).toBe(sha(original));
    const info = (await (await fetch(f.url())).json()) as { Size: number };
    expect(info.Size).toBe(original.length);
    // The session still holds its lock; the editor's next save lands, byte for byte.
    expect((await post(f, 'GET_LOCK')).headers.get('x-wopi-lock')).toBe(f.fileId);
    const next = randomBytes(3 * 1024 * 1024 + 17);
    const res = await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': f.fileId }, body: next });
    expect(res.status).toBe(200);
    expect(sha(await readFile(path.join(rclone.dir, 'Killed.docx')))).toBe(sha(next));
    expect(sha((await rawDrive(tb).get('/Killed.docx')) as Buffer)).toBe(sha(next));
  }, 30_000);

  // Was: a temporary upload the bridge could not remove while the drive was down stayed on the drive for good.
  test('the partial temporary upload left by the kill is removed once the store is back', async () => {
    if ((await rawDrive(tb).get('/Killed.docx')) === null) await rawDrive(tb).put('/Killed.docx', Buffer.from('v1'));
    const f = await tb.open('/Killed.docx');
    expect((await post(f, 'LOCK', { 'X-WOPI-Lock': f.fileId })).status).toBe(200);
    const { status, partialAfterKill } = await killDuringSave(f, randomBytes(2 * 1024 * 1024));
    expect([status, partialAfterKill > 0]).toEqual([500, true]);
    await rclone.restart();
    // Back: the editor saves again into the same folder; any orphan should be gone by now.
    expect((await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': f.fileId }, body: 'again' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(await temps(rclone.dir)).toEqual([]);
  }, 30_000);
});
