import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { cleanupProcesses, freePort, makeTempDir, runCli, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface CliToken {
  fileId: string;
  wopiSrc: string;
  accessToken: string;
}

// The bridge restarted in the middle of an editing session (an upgrade, a crash-loop, `systemctl restart`) must
// keep what DocService relies on: the file id (DS's document key and lock id), the lock, and the token secret, so
// the exit save DS sends afterwards still lands. DS never retries a failed exit save.
describe('the bridge restarted during an editing session', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let bridge: SpawnedBridge | undefined;

  beforeAll(async () => {
    dataDir = await makeTempDir('wopi-restart-');
    const port = await freePort();
    env = { DATA_DIR: dataDir, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` };
  });
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await cleanupProcesses();
  });

  const token = async (): Promise<CliToken> => {
    const res = await runCli(['token', '/Welcome.docx', '--json'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    return JSON.parse(res.stdout) as CliToken;
  };
  const wopi = (src: string, t: string, suffix = '', init: RequestInit = {}): Promise<Response> =>
    fetch(`${src}${suffix}?access_token=${encodeURIComponent(t)}`, init);

  test('keeps the file id, the lock, the secrets and earlier tokens; the exit save lands on disk', async () => {
    bridge = await spawnBridge(env);
    expect(bridge.url).toBe(env.PUBLIC_URL);
    const secretsFile = path.join(dataDir, 'secrets.json');
    const secretsBefore = await readFile(secretsFile, 'utf8');
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);

    const before = await token();
    expect(before.wopiSrc).toBe(`${env.PUBLIC_URL}/wopi/files/${before.fileId}`);
    const src = before.wopiSrc;
    const lockId = before.fileId; // DS's lock id is the document key, the last segment of WOPISrc

    const cfi = await wopi(src, before.accessToken);
    expect(cfi.status).toBe(200);
    expect(((await cfi.json()) as Record<string, unknown>).BaseFileName).toBe('Welcome.docx');
    const lock = await wopi(src, before.accessToken, '', { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': lockId } });
    expect(lock.status).toBe(200);
    const get = await wopi(src, before.accessToken, '/contents');
    expect(get.status).toBe(200);
    const original = Buffer.from(await get.arrayBuffer());
    expect(sha(original)).toBe(sha(await readFile(path.join(dataDir, 'files', 'Welcome.docx'))));

    expect(await bridge.stop('SIGTERM')).toBe(0);
    bridge = await spawnBridge(env);
    expect(bridge.url).toBe(env.PUBLIC_URL);

    expect(await readFile(secretsFile, 'utf8')).toBe(secretsBefore);
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
    const after = await token();
    expect(after.fileId).toBe(before.fileId);
    expect(after.wopiSrc).toBe(src);

    // The token issued before the restart still works: same secret, same file id.
    const getLock = await wopi(src, before.accessToken, '', { method: 'POST', headers: { 'X-WOPI-Override': 'GET_LOCK' } });
    expect(getLock.status).toBe(200);
    expect(getLock.headers.get('x-wopi-lock')).toBe(lockId);
    const cfiAgain = await wopi(src, before.accessToken);
    expect(cfiAgain.status).toBe(200);

    const edited = Buffer.concat([original, Buffer.from('edited after the restart')]);
    const put = await wopi(src, before.accessToken, '/contents', {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lockId, 'Content-Type': 'application/octet-stream' },
      body: edited,
    });
    expect(put.status).toBe(200);
    await put.arrayBuffer();
    expect(sha(await readFile(path.join(dataDir, 'files', 'Welcome.docx')))).toBe(sha(edited));

    const unlock = await wopi(src, after.accessToken, '', { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': lockId } });
    expect(unlock.status).toBe(200);
    const unlocked = await wopi(src, after.accessToken, '', { method: 'POST', headers: { 'X-WOPI-Override': 'GET_LOCK' } });
    expect(unlocked.headers.get('x-wopi-lock')).toBe('');

    expect(await bridge.stop('SIGTERM')).toBe(0);
    expect(await readFile(secretsFile, 'utf8')).toBe(secretsBefore);
  }, 60_000);
});
