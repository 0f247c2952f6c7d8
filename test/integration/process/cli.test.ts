import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupProcesses, freePort, makeTempDir, runCli, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');
const STACK_LINE = /^\s+at\s/m;
const EXIT_FAIL = 1;
const EXIT_USAGE = 3;
/** TOKEN_TTL_SECONDS default: 10 hours, as DS expects an editing session to last a working day. */
const DEFAULT_TTL_MS = 36_000 * 1000;

interface CliToken {
  path: string;
  fileId: string;
  wopiSrc: string;
  accessToken: string;
  accessTokenTtl: number;
  user: string;
  canWrite: boolean;
}

/** The value after `label:` on a line of the text output. */
function field(stdout: string, label: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`${label}:`));
  if (line === undefined) throw new Error(`no "${label}:" line in:\n${stdout}`);
  return line.slice(label.length + 1).trim();
}

// `wopi-bridge token` (scripts/wopi-bridge.ts), spawned as users run it, against a bridge spawned on the same env.
describe('wopi-bridge token against a running bridge', () => {
  let env: Record<string, string>;
  let bridge: SpawnedBridge;

  beforeAll(async () => {
    const dataDir = await makeTempDir('wopi-cli-');
    env = { DATA_DIR: dataDir, PORT: String(await freePort()) };
    bridge = await spawnBridge(env);
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await cleanupProcesses();
  });

  test('text output: WOPISrc, access_token and access_token_ttl lines that work', async () => {
    const res = await runCli(['token', '/Welcome.docx'], env);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const wopiSrc = field(res.stdout, 'WOPISrc');
    const token = field(res.stdout, 'access_token');
    const ttl = field(res.stdout, 'access_token_ttl');
    expect(wopiSrc).toMatch(new RegExp(`^${bridge.url}/wopi/files/[A-Za-z0-9_-]+$`));
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(ttl).toMatch(/^\d{13}\b/);
    const res2 = await fetch(`${wopiSrc}?access_token=${token}`);
    expect(res2.status).toBe(200);
    expect(((await res2.json()) as Record<string, unknown>).BaseFileName).toBe('Welcome.docx');
  }, 30_000);

  test('--json: one document; accessTokenTtl is an absolute ms timestamp about now + 10 h', async () => {
    const before = Date.now();
    const res = await runCli(['token', '/Budget.xlsx', '--json'], env);
    const after = Date.now();
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as CliToken;
    expect(out).toMatchObject({ path: '/Budget.xlsx', user: 'admin', canWrite: true });
    expect(out.wopiSrc).toBe(`${bridge.url}/wopi/files/${out.fileId}`);
    expect(Number.isInteger(out.accessTokenTtl)).toBe(true);
    // JWT exp has second precision: the ttl may be up to 1 s before now + ttl.
    expect(out.accessTokenTtl).toBeGreaterThanOrEqual(before + DEFAULT_TTL_MS - 1000);
    expect(out.accessTokenTtl).toBeLessThanOrEqual(after + DEFAULT_TTL_MS);
  }, 30_000);

  test('--view: CheckFileInfo says UserCanWrite false, LOCK is refused with 401', async () => {
    const res = await runCli(['token', '/Notes.txt', '--view', '--json', '--user', 'viewer'], env);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as CliToken;
    expect(out).toMatchObject({ canWrite: false, user: 'viewer' });
    const url = `${out.wopiSrc}?access_token=${encodeURIComponent(out.accessToken)}`;
    const cfi = await fetch(url);
    expect(cfi.status).toBe(200);
    expect(await cfi.json()).toMatchObject({ BaseFileName: 'Notes.txt', UserCanWrite: false, ReadOnly: true, UserId: 'viewer' });
    const lock = await fetch(url, { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': out.fileId } });
    expect(lock.status).toBe(401);
    const put = await fetch(`${out.wopiSrc}/contents?access_token=${encodeURIComponent(out.accessToken)}`, {
      method: 'POST',
      headers: { 'X-WOPI-Override': 'PUT' },
      body: 'x',
    });
    expect(put.status).toBe(401);
  }, 30_000);

  test('a missing file: exit 1, a clear message on stderr, nothing on stdout', async () => {
    for (const json of [[], ['--json']]) {
      const res = await runCli(['token', '/No such file.docx', ...json], env);
      expect(res.code).toBe(EXIT_FAIL);
      expect(res.stdout).toBe('');
      expect(res.stderr.trim().split('\n')).toEqual(['wopi-bridge: /No such file.docx: no such file on the drive']);
    }
  }, 30_000);

  test('a folder is not a file: exit 1', async () => {
    const res = await runCli(['token', '/'], env);
    expect(res.code).toBe(EXIT_FAIL);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/folder/);
  }, 30_000);
});

describe('wopi-bridge usage', () => {
  afterAll(cleanupProcesses);

  test('no arguments: exit 3 with the usage', async () => {
    const res = await runCli([]);
    expect(res.code).toBe(EXIT_USAGE);
    expect(res.stdout + res.stderr).toContain('Usage: wopi-bridge <command>');
  }, 30_000);

  test('--help: exit 0, the usage on stdout', async () => {
    for (const args of [['--help'], ['help'], ['-h'], ['token', '--help']]) {
      const res = await runCli(args);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('Usage: wopi-bridge <command>');
      expect(res.stdout).toContain('token <path>');
      expect(res.stderr).toBe('');
    }
  }, 30_000);

  test.each([
    ['an unknown command', ['frobnicate']],
    ['an unknown flag', ['token', '/Welcome.docx', '--frobnicate']],
    ['a missing path', ['token']],
    ['two paths', ['token', '/a.docx', '/b.docx']],
    ['a flag without its value', ['token', '/Welcome.docx', '--user']],
  ])('%s: exit 3, one line on stderr, no stack trace, nothing on stdout', async (_what, args) => {
    const res = await runCli(args);
    expect(res.code).toBe(EXIT_USAGE);
    expect(res.stdout).toBe('');
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^wopi-bridge: /);
    expect(res.stderr).not.toMatch(STACK_LINE);
  }, 30_000);

  test('a bad configuration: exit 3, the problems listed, the secret never echoed', async () => {
    const secret = 'short-secret-NOT-TO-ECHO';
    const res = await runCli(['token', '/Welcome.docx'], { WOPI_TOKEN_SECRET: secret });
    expect(res.code).toBe(EXIT_USAGE);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('WOPI_TOKEN_SECRET');
    expect(res.stderr).not.toContain(secret);
    expect(res.stderr).not.toMatch(STACK_LINE);
  }, 30_000);
});

// An independent WebDAV server (Debian's rclone): the CLI and the bridge share DATA_DIR, so the file id the CLI
// assigns (rclone has no file ids of its own) is the one the bridge resolves.
describe('wopi-bridge token with STORAGE_URL on rclone serve webdav', () => {
  let rclone: RcloneWebdav;
  let env: Record<string, string>;
  let bridge: SpawnedBridge | undefined;
  const content = Buffer.from('a file on rclone, 東京 & co\n');

  beforeAll(async () => {
    const served = await makeTempDir('wopi-cli-rclone-');
    // Seeded before rclone starts: rclone's dir cache hides files added behind its back (helpers/README.md).
    await writeFile(path.join(served, 'Report on rclone.txt'), content);
    rclone = await startRcloneWebdav({ dir: served });
    env = {
      DATA_DIR: await makeTempDir('wopi-cli-rclone-data-'),
      PORT: String(await freePort()),
      STORAGE_URL: rclone.url,
      STORAGE_USER: rclone.user,
      STORAGE_PASSWORD: rclone.pass,
    };
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await rclone?.stop();
    await cleanupProcesses();
  });

  test('prints a token that works against a bridge started on the same env', async () => {
    const res = await runCli(['token', '/Report on rclone.txt', '--json'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain(rclone.pass);
    const out = JSON.parse(res.stdout) as CliToken;

    bridge = await spawnBridge(env);
    expect(bridge.stderr).toContain(rclone.url);
    expect(bridge.stderr).not.toContain(rclone.pass);
    expect(out.wopiSrc).toBe(`${bridge.url}/wopi/files/${out.fileId}`);
    const url = (suffix: string): string => `${out.wopiSrc}${suffix}?access_token=${encodeURIComponent(out.accessToken)}`;
    const cfi = await fetch(url(''));
    expect(cfi.status).toBe(200);
    expect(await cfi.json()).toMatchObject({ BaseFileName: 'Report on rclone.txt', Size: content.length, UserCanWrite: true });
    const get = await fetch(url('/contents'));
    expect(get.status).toBe(200);
    expect(sha(Buffer.from(await get.arrayBuffer()))).toBe(sha(content));
    expect(sha(await readFile(path.join(rclone.dir, 'Report on rclone.txt')))).toBe(sha(content));
  }, 60_000);
});
